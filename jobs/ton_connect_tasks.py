"""TON Connect waits the worker takes over (registered in :mod:`jobs.worker`).

``sweep_ton_connects`` (cron, every :data:`SWEEP_EVERY_S` seconds): a fan's wallet connection
is normally waited for by the process that showed the link (:mod:`bot.wallet_ton.connect`).
If that process died, its lease lapses within 15 s; this sweep then resumes the wait from
Redis — the same session, the same link the fan holds — bounded by the link's deadline, or
tells the fan the link expired. Waits run concurrently inside one job.

``ctx`` may carry ``ton_reconnect_policy`` (a :class:`tenants.ton.tonconnect.ReconnectPolicy`;
tests make the back-off fast).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

from arq.cron import CronJob, cron
from arq.typing import WorkerCoroutine

from core.settings import Settings
from jobs.wrapper import JobContext, redis_of, session_factory_of
from tenants.telegram import make_session

logger = logging.getLogger(__name__)

SWEEP_EVERY_S = 20
SWEEP_TIMEOUT_S = 600 + 120  # the longest TON_CONNECT_TIMEOUT, and room to report


async def sweep_ton_connects(ctx: JobContext) -> dict[str, int]:
    """Resume the waits nobody holds a lease on; report the expired ones."""
    # The chat texts and the wait itself live with the bot (one implementation for both sides).
    from bot.wallet_ton.connect import WaitDeps, sweep
    from bot.wallet_ton.messages import present

    settings: Settings = ctx["settings"]
    api_session = make_session(settings.telegram_api_base, redis_of(ctx))
    deps = WaitDeps(settings, session_factory_of(ctx), redis_of(ctx), api_session, present=present)
    if ctx.get("ton_reconnect_policy") is not None:
        deps.policy = ctx["ton_reconnect_policy"]
    try:
        return await sweep(deps)
    finally:
        await api_session.close()


TON_CONNECT_FUNCTIONS: list[Callable[..., Any]] = [sweep_ton_connects]
TON_CONNECT_CRON_JOBS: list[CronJob] = [
    cron(
        cast(WorkerCoroutine, sweep_ton_connects),
        name="cron:ton_connect_sweep",
        second=set(range(0, 60, SWEEP_EVERY_S)),
        timeout=SWEEP_TIMEOUT_S,
    )
]
