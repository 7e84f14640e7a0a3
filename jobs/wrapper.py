"""The job wrapper every arq task goes through: the worker's edge of the unit of work.

A task written as ``async def name(ctx, session, *args)`` and decorated with :func:`task` is
registered with arq as ``name(ctx, *args)``. Per run, the wrapper opens a session, commits it
when the task returns, rolls it back when it raises (arq then retries or records the failure),
sends the jobs the task deferred with :func:`core.queue.defer_job` only after the commit, and
puts the arq job id on every log line the task emits. Tasks never commit themselves.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.logging import bind_job_id
from core.queue import unit_of_work

P = ParamSpec("P")
R = TypeVar("R")

JobContext = dict[str, Any]
"""arq's per-job ``ctx``: the worker's ``ctx`` (``settings``, ``engine``, ``session_factory``,
``redis``) plus ``job_id``, ``job_try``, ``enqueue_time`` and ``score``."""


def session_factory_of(ctx: JobContext) -> async_sessionmaker[AsyncSession]:
    factory: async_sessionmaker[AsyncSession] = ctx["session_factory"]
    return factory


def redis_of(ctx: JobContext) -> ArqRedis:
    redis: ArqRedis = ctx["redis"]
    return redis


def task(
    fn: Callable[Concatenate[JobContext, AsyncSession, P], Awaitable[R]],
) -> Callable[Concatenate[JobContext, P], Coroutine[Any, Any, R]]:
    """Wrap ``fn(ctx, session, ...)`` into the arq function ``fn(ctx, ...)`` (same name)."""

    @functools.wraps(fn)
    async def run(ctx: JobContext, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with bind_job_id(str(ctx.get("job_id", "-"))):
            async with unit_of_work(session_factory_of(ctx), redis_of(ctx)) as session:
                return await fn(ctx, session, *args, **kwargs)

    return run
