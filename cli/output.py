"""Console output shared by the commands: one clear line for expected errors."""

from __future__ import annotations

from typing import NoReturn

import typer
from rich.console import Console

console = Console()
err_console = Console(stderr=True)


def print_error(message: str, *, hint: str | None = None) -> None:
    text = f"[bold red]error:[/] {message}"
    if hint:
        text += f" — {hint}"
    err_console.print(text, highlight=False, soft_wrap=True, markup=True)


def fail(message: str, *, hint: str | None = None, code: int = 1) -> NoReturn:
    """Inside a command: print one line and exit with ``code``."""
    print_error(message, hint=hint)
    raise typer.Exit(code)
