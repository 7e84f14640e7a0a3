"""Run alembic migrations from code (``atelier db upgrade``, ``atelier dev``, the tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def alembic_config(database_url: str | None = None) -> Config:
    config = Config(str(ALEMBIC_INI))
    config.attributes["configure_logging"] = False
    if database_url:
        config.attributes["database_url"] = database_url
    return config


def upgrade(database_url: str | None = None, revision: str = "heads") -> None:
    """Bring the schema to ``revision`` (default: every head, so branches made in parallel
    apply before their merge revision exists). Blocking: call it outside a running event
    loop (or in a thread)."""
    command.upgrade(alembic_config(database_url), revision)


def heads() -> set[str]:
    from alembic.script import ScriptDirectory

    return set(ScriptDirectory.from_config(alembic_config()).get_heads())
