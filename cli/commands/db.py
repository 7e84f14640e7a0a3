"""``atelier db``: schema migrations."""

from __future__ import annotations

import asyncio

import typer
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from cli.output import console, fail
from cli.runtime import seed_reference_data
from core import migrate
from core.settings import get_settings

db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)


@db_app.command("upgrade")
def upgrade(revision: str = typer.Argument("heads", help="Target revision.")) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    url = get_settings().database_url
    try:
        migrate.upgrade(url, revision)
    except (OperationalError, OSError, ConnectionError) as exc:
        fail(
            f"cannot reach the database: {str(exc).splitlines()[0]}",
            hint="check ATELIER_DATABASE_URL and that the server is running",
        )
    except SQLAlchemyError as exc:
        fail(f"migration failed: {str(exc).splitlines()[0]}")
    console.print(f"[green]database at revision {revision}[/] ({_redacted(url)})")
    if revision == "heads":
        console.print(asyncio.run(seed_reference_data()))


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def register(app: typer.Typer) -> None:
    app.add_typer(db_app, name="db")
