"""What the benches share: a throwaway PostgreSQL database per run, and the settings of an
in-process API whose webhooks the bot benches post to."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from core import migrate
from core.redis import close_redis, create_redis
from core.settings import Environment, Settings, get_settings

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/postgres"
SECRET_KEY = "bench-secret-key-bench-secret-key-0123456789"


async def admin(sql: str) -> None:
    conn = await asyncpg.connect(ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@asynccontextmanager
async def database(url: str | None, label: str) -> AsyncIterator[str]:
    """``url`` when given; otherwise a database made for this run and dropped after it."""
    if url:
        yield url
        return
    name = f"atelier_bench_{label}_{os.getpid()}"
    await admin(f'CREATE DATABASE "{name}"')
    try:
        base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
        yield f"{base}/{name}"
    finally:
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def webhook_settings(database_url: str, redis_url: str) -> Settings:
    """Settings for an in-process API serving bot webhooks, on a migrated database and an
    empty Redis database. Replies ride in the webhook response, so the Bot API is never
    called (its base points at a closed port)."""
    # Stored tokens are decrypted with the process settings' key (core.crypto).
    os.environ["ATELIER_SECRET_KEY"] = SECRET_KEY
    get_settings.cache_clear()
    settings = Settings(
        environment=Environment.TEST,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=SECRET_KEY,
        public_base_url="https://bench.example",
        telegram_api_base="http://127.0.0.1:9",
        log_level="WARNING",
    )
    await asyncio.to_thread(migrate.upgrade, database_url)
    redis = create_redis(settings)
    await redis.flushdb()
    await close_redis(redis)
    return settings
