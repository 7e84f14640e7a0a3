"""Migrations build the schema from nothing, on PostgreSQL and on SQLite, and match the models."""

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.ext.asyncio import create_async_engine

from core import migrate
from core.db import Base
from tests.conftest import PG_ADMIN_DSN


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    name = f"atelier_migrate_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_DSN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _assert_schema_matches_models(url: str) -> None:
    from core import models  # noqa: F401

    def check(conn: Connection) -> None:
        assert set(Base.metadata.tables) <= set(inspect(conn).get_table_names())
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
        assert set(context.get_current_heads()) == migrate.heads()

    async def run() -> None:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                await conn.run_sync(check)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_upgrade_on_empty_postgresql(empty_pg_url: str) -> None:
    url = empty_pg_url.replace("postgresql://", "postgresql+asyncpg://", 1)
    migrate.upgrade(url)
    _assert_schema_matches_models(url)


def test_upgrade_on_empty_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    migrate.upgrade(url)
    _assert_schema_matches_models(url)
    migrate.upgrade(url)  # a second run is a no-op
