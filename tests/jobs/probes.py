"""Tasks that leave a visible trace, for tests of the queue, the worker and the job wrapper."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Tenant
from core.queue import defer_job
from jobs.wrapper import JobContext, redis_of, task

PROBE_KEY = "probe:{}"


@task
async def probe_job(ctx: JobContext, session: AsyncSession, key: str, tenant_id: int) -> str:
    """Record in Redis whether the tenant row the job was enqueued for is visible to it."""
    seen = "row" if await session.get(Tenant, tenant_id) is not None else "no-row"
    await redis_of(ctx).set(PROBE_KEY.format(key), seen)
    return seen


@task
async def chain_job(ctx: JobContext, session: AsyncSession, key: str) -> int:
    """Write a row and defer a probe for it: the job wrapper must commit, then enqueue."""
    tenant = Tenant(name=f"made by job {key}")
    session.add(tenant)
    await session.flush()
    defer_job(session, "probe_job", key, tenant.id)
    return tenant.id


@task
async def failing_job(ctx: JobContext, session: AsyncSession, key: str) -> None:
    """Write a row, defer a probe, then fail: neither the row nor the probe may survive."""
    tenant = Tenant(name=f"doomed {key}")
    session.add(tenant)
    await session.flush()
    defer_job(session, "probe_job", key, tenant.id)
    raise RuntimeError("the job failed")


PROBES = [probe_job, chain_job, failing_job]
