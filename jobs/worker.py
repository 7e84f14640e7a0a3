"""The arq worker, configured from settings.

:func:`worker_settings` returns the keyword arguments of :class:`arq.worker.Worker` (the same
thing arq's ``WorkerSettings`` class carries), built from ``ATELIER_*`` settings:

* ``ATELIER_REDIS_URL=redis://...`` → arq's ``RedisSettings`` (arq retries the first connect);
* ``ATELIER_REDIS_URL=memory://`` → the in-process stand-in from :mod:`core.redis`, shared with
  the API and bot of the same process (``atelier dev``).

Every task is registered in :data:`FUNCTIONS` (cron entries in :data:`CRON_JOBS`); the worker's
``ctx`` carries ``settings``, ``engine``, ``session_factory`` and arq's ``redis``, which is what
:func:`jobs.wrapper.task` needs.

arq logs the server's ``INFO`` when a worker starts; fakeredis does not know ``INFO``. Rather
than fork ``Worker.main``, :func:`_install_info_guard` wraps arq's ``log_redis_info`` (the name
``arq.worker`` calls) once per process: for an in-process pool it logs a short line instead,
for a real server it calls arq's original unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from typing import Any, cast

import arq.worker
from arq.connections import log_redis_info as _arq_log_redis_info
from arq.cron import CronJob, cron
from arq.typing import WorkerCoroutine
from arq.worker import Function, Worker

from core.db import create_engine, create_session_factory
from core.redis import arq_redis_settings, create_redis, is_memory_url, uses_memory_backend
from core.settings import Settings, get_settings
from jobs.broadcasts.tasks import BROADCAST_CRON_JOBS, BROADCAST_FUNCTIONS
from jobs.chatlog_tasks import CHATLOG_CRON_JOBS, CHATLOG_FUNCTIONS
from jobs.content_tasks import CONTENT_CRON_JOBS, CONTENT_FUNCTIONS
from jobs.drive_tasks import DRIVE_CRON_JOBS, DRIVE_FUNCTIONS
from jobs.generation.tasks import GENERATION_CRON_JOBS, GENERATION_FUNCTIONS
from jobs.ledger_tasks import reconcile_ledger
from jobs.notify import close_notifier
from jobs.payments_tasks import PAYMENTS_CRON_JOBS, PAYMENTS_FUNCTIONS
from jobs.stats_tasks import STATS_CRON_JOBS, STATS_FUNCTIONS
from jobs.ton.tasks import TON_CRON_JOBS, TON_FUNCTIONS
from jobs.ton_connect_tasks import TON_CONNECT_CRON_JOBS, TON_CONNECT_FUNCTIONS
from jobs.wakeup import FastStartWorker
from jobs.wrapper import JobContext

logger = logging.getLogger(__name__)

WorkerFunction = Function | Callable[..., Any]

FUNCTIONS: list[WorkerFunction] = [
    reconcile_ledger,
    *GENERATION_FUNCTIONS,
    *PAYMENTS_FUNCTIONS,
    *DRIVE_FUNCTIONS,
    *STATS_FUNCTIONS,
    *CONTENT_FUNCTIONS,
    *TON_FUNCTIONS,
    *BROADCAST_FUNCTIONS,
    *TON_CONNECT_FUNCTIONS,
    *CHATLOG_FUNCTIONS,
]
"""Every task the worker runs; each area adds its own list here."""

RECONCILE_MINUTE = 17  # hourly, off the top of the hour when other cron jobs crowd in
CRON_JOBS: list[CronJob] = [
    # cast: arq types jobs as "(ctx, *Any, **Any)"; ours declare their real parameters.
    cron(
        cast(WorkerCoroutine, reconcile_ledger),
        name="cron:reconcile_ledger",
        minute=RECONCILE_MINUTE,
    ),
    *GENERATION_CRON_JOBS,  # re-enqueue jobs whose worker died
    *DRIVE_CRON_JOBS,  # empty trash older than 30 days
    *PAYMENTS_CRON_JOBS,  # Stars reconciliation, plan reminders and expiry
    *STATS_CRON_JOBS,  # issue 8: daily stats rollups, every ten minutes
    *CONTENT_CRON_JOBS,  # scheduled posts, VIP reminders and expiry
    *TON_CRON_JOBS,  # the TON payment watcher (every 10 s) and creator payouts (every minute)
    *BROADCAST_CRON_JOBS,  # resume broadcasts whose worker died or whose quota is back
    *TON_CONNECT_CRON_JOBS,  # take over TON Connect waits whose process died
    *CHATLOG_CRON_JOBS,  # chat history: drain the stream every 10 s, forget old messages daily
]

JOB_TIMEOUT_S = 300
MAX_JOBS = 10
HEALTH_CHECK_INTERVAL_S = 60


async def _log_redis_info(redis: Any, log_func: Callable[[str], Any]) -> None:
    if uses_memory_backend(redis):
        log_func(f"redis: in-process stand-in, db_keys={await redis.dbsize()}")
        return
    await _arq_log_redis_info(redis, log_func)


def _install_info_guard() -> None:
    """Make arq's start-up ``INFO`` call safe on the in-process stand-in (idempotent)."""
    arq.worker.log_redis_info = _log_redis_info  # type: ignore[attr-defined]


_install_info_guard()


async def startup(ctx: JobContext) -> None:
    """Open the database for the worker's life; jobs borrow sessions from it."""
    settings: Settings = ctx["settings"]
    engine = create_engine(settings)
    ctx["engine"] = engine
    ctx["session_factory"] = create_session_factory(engine)
    logger.info("worker started", extra={"functions": sorted(_names(FUNCTIONS))})


async def shutdown(ctx: JobContext) -> None:
    await close_notifier(ctx)  # issue 6: the tenant bots' HTTP session
    engine = ctx.get("engine")
    if engine is not None:
        await engine.dispose()
    logger.info("worker stopped")


def _names(functions: Sequence[WorkerFunction]) -> list[str]:
    return [f.name if isinstance(f, Function) else f.__qualname__ for f in functions]


def worker_settings(
    settings: Settings | None = None,
    *,
    functions: Sequence[WorkerFunction] = (),
    cron_jobs: Sequence[CronJob] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """The :class:`arq.worker.Worker` keyword arguments for ``settings``.

    ``functions`` are added to :data:`FUNCTIONS` (tests register probes this way);
    ``cron_jobs`` replaces :data:`CRON_JOBS`; ``overrides`` win over everything (``burst``,
    ``handle_signals``, ``poll_delay``, ...).
    """
    settings = settings or get_settings()
    config: dict[str, Any] = {
        "functions": [*FUNCTIONS, *functions],
        "cron_jobs": list(CRON_JOBS if cron_jobs is None else cron_jobs),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "ctx": {"settings": settings},
        "max_jobs": MAX_JOBS,
        "job_timeout": JOB_TIMEOUT_S,
        "health_check_interval": HEALTH_CHECK_INTERVAL_S,
    }
    if is_memory_url(settings.redis_url):
        config["redis_pool"] = create_redis(settings)
    else:
        config["redis_settings"] = arq_redis_settings(settings.redis_url)
    config.update(overrides)
    return config


def create_worker(settings: Settings | None = None, **kwargs: Any) -> Worker:
    """A worker for ``settings``; ``kwargs`` as for :func:`worker_settings`."""
    return FastStartWorker(**worker_settings(settings, **kwargs))


async def run_worker(settings: Settings | None = None, **kwargs: Any) -> Worker:
    """Run a worker until it is signalled (or, with ``burst=True``, until the queue is empty)."""
    worker = create_worker(settings, **kwargs)
    try:
        await worker.async_run()
    except asyncio.CancelledError:
        # arq's SIGINT/SIGTERM handler cancels its main task; anything else is ours to pass on.
        if worker.main_task is None or not worker.main_task.cancelled():
            raise
    finally:
        await worker.close()
    return worker
