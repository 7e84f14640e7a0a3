"""Shared fixtures: a throwaway PostgreSQL database and a Redis database per xdist worker.

Each test starts from empty tables (TRUNCATE after the test) and an empty Redis database, so
tests can commit for real and race each other without leaking state.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
import redis.asyncio as redis_asyncio
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import migrate
from core.db import Base, create_engine, create_session_factory
from core.settings import Environment, Settings, get_settings

PG_ADMIN_DSN = os.environ.get(
    "ATELIER_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_BASE = os.environ.get("ATELIER_TEST_REDIS_URL", "redis://127.0.0.1:6379")
TEST_SECRET_KEY = "test-secret-key-for-the-atelier-test-suite-only"


@pytest.fixture
async def sqlite_engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    """An engine on a fresh SQLite file with every table (``atelier dev``'s database)."""
    from core import models  # noqa: F401 - registers every table on Base.metadata

    engine = create_engine(url=f"sqlite+aiosqlite:///{tmp_path / 'dev.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield engine
    await engine.dispose()


def _worker_index() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw") or 0)


def _database_name() -> str:
    return f"atelier_test_{os.getpid()}"


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """Create an empty database for this test process and drop it at the end."""
    name = _database_name()

    async def _admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    dsn = PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    yield dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def redis_url() -> str:
    # Databases 1..15 for the test workers; 0 stays for people running `atelier` by hand.
    # ATELIER_TEST_REDIS_DB moves the first one, so test runs side by side do not collide.
    first = int(os.environ.get("ATELIER_TEST_REDIS_DB", "1"))
    return f"{REDIS_BASE}/{1 + (first - 1 + _worker_index()) % 15}"


@pytest.fixture(scope="session")
def settings(
    database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    values = {
        "ATELIER_ENVIRONMENT": Environment.TEST.value,
        "ATELIER_DATABASE_URL": database_url,
        "ATELIER_REDIS_URL": redis_url,
        "ATELIER_SECRET_KEY": TEST_SECRET_KEY,
        "ATELIER_STORAGE_URL": f"file://{tmp_path_factory.mktemp('storage')}",
        "ATELIER_LOG_JSON": "false",
    }
    os.environ.update(values)
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session")
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    from core import models  # noqa: F401 - registers every table on Base.metadata

    # The schema comes from the migrations, so every test also exercises them.
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="session")
def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return create_session_factory(engine)


@pytest.fixture(autouse=True)
async def _clean_state(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Empty every table and the Redis database after each test that touched them."""
    yield
    if "engine" in request.fixturenames:
        engine: AsyncEngine = request.getfixturevalue("engine")
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        if tables:
            async with engine.begin() as conn:
                await conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    if "redis_url" in request.fixturenames:
        client = redis_asyncio.from_url(request.getfixturevalue("redis_url"))
        await client.flushdb()
        await client.aclose()


@pytest.fixture
async def session(session_factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with session_factory() as session:
        yield session
