"""Helpers for commands that need a database session outside the API and the worker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import create_engine, create_session_factory, session_scope


@asynccontextmanager
async def unit_of_work() -> AsyncIterator[AsyncSession]:
    """One committed-or-rolled-back session on a short-lived engine."""
    engine = create_engine()
    try:
        async with session_scope(create_session_factory(engine)) as session:
            yield session
    finally:
        await engine.dispose()


async def seed_reference_data() -> str:
    """Load the reviewed reference data (the AI tool catalogue) into the database; idempotent,
    and tools the platform edited by hand are kept. Returns a one-line summary."""
    from jobs.catalog.service import sync_catalog

    async with unit_of_work() as session:
        report = await sync_catalog(session)
    return (
        f"tool catalogue: {len(report.created)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged) + len(report.kept_edited)} unchanged"
    )
