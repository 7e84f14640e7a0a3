"""The ``atelier`` command: one entry point that wires the parts together.

Each sub-command lives in ``cli/commands/<name>.py`` and exposes ``register(app)``; expected
failures print one clear line (``cli.output.fail``) instead of a traceback.
"""

from __future__ import annotations

import importlib
import sys

import pydantic
import typer

from cli.output import print_error

COMMAND_MODULES = ("db", "tenants", "api", "worker", "emulator", "ton", "dev", "bot", "stats")

app = typer.Typer(
    name="atelier",
    help="Atelier: a multi-tenant Telegram platform for creators.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for _name in COMMAND_MODULES:
    try:
        _module = importlib.import_module(f"cli.commands.{_name}")
    except ModuleNotFoundError as exc:  # a command whose module is not written yet
        if exc.name != f"cli.commands.{_name}":
            raise
        continue
    _module.register(app)


def main() -> None:
    try:
        app()
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"ATELIER_{'_'.join(map(str, err['loc'])).upper() or 'SETTINGS'}: {err['msg']}"
            for err in exc.errors()
        )
        print_error(
            f"invalid settings: {problems}", hint="fix the environment or .env (see .env.example)"
        )
        sys.exit(1)
