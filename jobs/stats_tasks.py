"""Worker side of stats: the rollup cron and the backfill job.

- ``rollup_stats`` (every ten minutes): rebuild yesterday and today for every tenant in one
  unit of work — a fixed number of ``GROUP BY tenant, day`` queries, whatever the number of
  tenants (see :mod:`tenants.stats.sources`).
- ``backfill_stats(days, tenant_id=None)``: rebuild the last ``days`` days, a month per
  transaction (``atelier stats backfill`` runs the same code without the worker).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from arq.cron import CronJob, cron
from arq.typing import WorkerCoroutine
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from jobs.wrapper import JobContext, session_factory_of, task
from tenants.stats import service

ROLLUP_MINUTES = set(range(3, 60, 10))  # :03, :13, ... away from the top of the hour


@task
async def rollup_stats(ctx: JobContext, session: AsyncSession, tenant_id: int | None = None) -> int:
    return await service.rollup_recent(session, utcnow(), tenant_id)


async def backfill_stats(ctx: JobContext, days: int = 90, tenant_id: int | None = None) -> int:
    return await service.backfill(
        session_factory_of(ctx), days=days, today=utcnow().date(), tenant_id=tenant_id
    )


STATS_FUNCTIONS: list[Callable[..., Any]] = [rollup_stats, backfill_stats]
STATS_CRON_JOBS: list[CronJob] = [
    cron(cast(WorkerCoroutine, rollup_stats), name="cron:rollup_stats", minute=ROLLUP_MINUTES),
]
