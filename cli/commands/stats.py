"""``atelier stats``: rebuild the daily stats rollups by hand (the worker's cron keeps
yesterday and today current; use this after a restore or when stats are new)."""

from __future__ import annotations

import asyncio

import typer
from sqlalchemy.exc import OperationalError, ProgrammingError

from cli.output import console, fail

stats_app = typer.Typer(help="Daily stats rollups.", no_args_is_help=True)


@stats_app.command("backfill")
def backfill(
    days: int = typer.Option(90, min=1, max=3660, help="How many days back, today included."),
    tenant: int | None = typer.Option(None, help="Only this tenant id (default: all)."),
) -> None:
    """Rebuild the rollups of the last DAYS days from the events, a month per transaction."""
    from core.db import create_engine, create_session_factory, utcnow
    from tenants.stats import service

    async def _backfill() -> int:
        engine = create_engine()
        try:
            return await service.backfill(
                create_session_factory(engine),
                days=days,
                today=utcnow().date(),
                tenant_id=tenant,
            )
        finally:
            await engine.dispose()

    try:
        rows = asyncio.run(_backfill())
    except (OperationalError, ProgrammingError, OSError) as exc:
        first_line = str(exc).splitlines()[0]
        if "no such table" in first_line or "does not exist" in first_line:
            fail("the database schema is missing or old", hint="run `atelier db upgrade`")
        fail(f"cannot reach the database: {first_line}", hint="check ATELIER_DATABASE_URL")
    scope = f"tenant {tenant}" if tenant is not None else "every tenant"
    console.print(f"[green]stats rebuilt[/] for the last {days} days of {scope}: {rows} rows")


def register(app: typer.Typer) -> None:
    app.add_typer(stats_app, name="stats")
