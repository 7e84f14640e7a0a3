"""Enqueue after commit, on the real PostgreSQL and Redis: what reaches arq, and when."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import session_scope
from core.models import Tenant
from core.queue import (
    defer_job,
    flush_deferred_jobs,
    pending_jobs,
    ready_jobs,
    unit_of_work,
)
from core.redis import close_redis, create_redis

Factory = async_sessionmaker[AsyncSession]


@pytest.fixture
async def arq_redis(redis_url: str) -> AsyncIterator[ArqRedis]:
    client = create_redis(url=redis_url)
    yield client
    await close_redis(client)


async def _queued(redis: ArqRedis) -> list[tuple[str, tuple[object, ...]]]:
    return [(job.function, job.args) for job in await redis.queued_jobs()]


async def test_committed_jobs_are_sent_after_commit(
    session_factory: Factory, arq_redis: ArqRedis
) -> None:
    async with session_factory() as session:
        session.add(Tenant(name="a"))
        defer_job(session, "render", 1, quality="high")
        assert await _queued(arq_redis) == []  # nothing leaves before the commit
        await session.commit()
        assert [job.function for job in ready_jobs(session)] == ["render"]
        assert await _queued(arq_redis) == []  # nor before the flush
        sent = await flush_deferred_jobs(session, arq_redis)

    assert len(sent) == 1
    queued = await arq_redis.queued_jobs()
    assert [(j.function, j.args, j.kwargs) for j in queued] == [
        ("render", (1,), {"quality": "high"})
    ]


async def test_rolled_back_jobs_are_dropped(session_factory: Factory, arq_redis: ArqRedis) -> None:
    async with session_factory() as session:
        session.add(Tenant(name="a"))
        await session.flush()
        defer_job(session, "render", 1)
        await session.rollback()
        assert pending_jobs(session) == [] and ready_jobs(session) == []
        # A later commit in the same session must not resurrect them.
        await session.commit()
        assert await flush_deferred_jobs(session, arq_redis) == []
    assert await _queued(arq_redis) == []


async def test_rollback_before_any_statement_drops_jobs(
    session_factory: Factory, arq_redis: ArqRedis
) -> None:
    """A session that never ran SQL has no transaction to roll back — the job still goes."""
    async with session_factory() as session:
        defer_job(session, "render", 1)
        await session.rollback()
        await session.commit()
        await flush_deferred_jobs(session, arq_redis)
    assert await _queued(arq_redis) == []


async def test_commit_without_statements_sends_jobs(
    session_factory: Factory, arq_redis: ArqRedis
) -> None:
    async with session_factory() as session:
        defer_job(session, "ping")
        await session.commit()
        await flush_deferred_jobs(session, arq_redis)
    assert await _queued(arq_redis) == [("ping", ())]


async def test_savepoints_keep_or_drop_their_own_jobs(
    session_factory: Factory, arq_redis: ArqRedis
) -> None:
    async with session_factory() as session:
        defer_job(session, "outer")
        savepoint = await session.begin_nested()
        defer_job(session, "rolled_back_savepoint")
        await savepoint.rollback()
        async with session.begin_nested():
            defer_job(session, "released_savepoint")
        assert [job.function for job in pending_jobs(session)] == [
            "outer",
            "released_savepoint",
        ]
        assert ready_jobs(session) == []  # releasing a savepoint is not the commit
        await session.commit()
        await flush_deferred_jobs(session, arq_redis)
    assert sorted(f for f, _ in await _queued(arq_redis)) == ["outer", "released_savepoint"]


async def test_unit_of_work_commits_then_enqueues(
    session_factory: Factory, arq_redis: ArqRedis
) -> None:
    async with unit_of_work(session_factory, arq_redis) as session:
        session.add(Tenant(name="kept"))
        defer_job(session, "render", 7)

    assert await _queued(arq_redis) == [("render", (7,))]
    async with session_factory() as check:
        assert await check.scalar(select(func.count()).select_from(Tenant)) == 1


async def test_unit_of_work_rolls_back_and_enqueues_nothing_on_error(
    session_factory: Factory, arq_redis: ArqRedis
) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with unit_of_work(session_factory, arq_redis) as session:
            session.add(Tenant(name="lost"))
            await session.flush()
            defer_job(session, "render", 7)
            raise RuntimeError("boom")

    assert await _queued(arq_redis) == []
    async with session_factory() as check:
        assert await check.scalar(select(func.count()).select_from(Tenant)) == 0


async def test_same_job_id_is_enqueued_once(session_factory: Factory, arq_redis: ArqRedis) -> None:
    async with unit_of_work(session_factory, arq_redis) as session:
        defer_job(session, "render", 1, _job_id="render:1")
        defer_job(session, "render", 1, _job_id="render:1")
    assert await _queued(arq_redis) == [("render", (1,))]


async def test_flush_with_redis_down_logs_and_does_not_raise(
    session_factory: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    """The data is committed already: losing the enqueue is logged loudly, not raised."""
    dead = create_redis(url="redis://127.0.0.1:1/0")
    try:
        with caplog.at_level(logging.ERROR, logger="core.queue"):
            async with session_scope(session_factory) as session:
                defer_job(session, "render", 1, _job_id="a")
                defer_job(session, "render", 2, _job_id="b")
            assert await flush_deferred_jobs(session, dead) == []
    finally:
        await close_redis(dead)
    lost = [r for r in caplog.records if "not enqueued" in r.getMessage()]
    assert [getattr(r, "deferred_job_id", None) for r in lost] == ["a", "b"]
