"""Generation jobs as a service: create (validate, limit, price, reserve, enqueue), cancel, list.

Money rules: creating a job reserves its quoted price on the fan's account (key
``job:{id}:reserve``) and its base cost on the tenant's platform account (key
``job:{id}:tenant:reserve``); the worker captures both when the job succeeds and releases both
when it fails or is cancelled — each exactly once (``job:{id}:capture`` / ``:release``). A job
is created whole or not at all: a refused reservation rolls back its savepoint, so no row, no
hold and no queued arq job remain even if the caller carries on with the session.

Only ``flush()`` here; the edge commits, and the arq job is sent after that commit
(:func:`core.queue.defer_job`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import ledger
from core.db import utcnow
from core.errors import ConflictError, InsufficientFundsError, NotFoundError, ValidationError
from core.models.catalog import Tool
from core.models.jobs import Job, JobStatus
from core.models.tenant import Tenant
from core.queue import defer_job
from jobs.catalog import service as catalog
from jobs.generation import repository as repo
from jobs.generation.errors import JobFinishedError, PlanLimitError, TenantUnavailableError
from jobs.generation.progress import cancel_key
from tenants import billing
from tenants.plans import get_plan

logger = logging.getLogger(__name__)

RUN_TASK = "run_generation"
PUBLISH_TASK = "publish_job_state"
CANCEL_FLAG_TTL_S = 24 * 3600
MAX_LIST = 100


@dataclass(frozen=True, slots=True)
class JobLimits:
    """Per-user generation limits of a plan (``None``: unlimited). A workflow run counts as one
    generation, whatever its number of steps."""

    concurrent_per_user: int | None
    daily_per_user: int | None


JOB_LIMITS: dict[str, JobLimits] = {
    "basic": JobLimits(concurrent_per_user=2, daily_per_user=50),
    "advanced": JobLimits(concurrent_per_user=3, daily_per_user=200),
    "premium": JobLimits(concurrent_per_user=5, daily_per_user=1000),
    "enterprise": JobLimits(concurrent_per_user=10, daily_per_user=None),
}
"""Generation limits per plan code. Custom plans (Enterprise) may override them per tenant with
``tenant.config["limits"]["concurrent_jobs_per_user" | "daily_jobs_per_user"]``."""


@dataclass(frozen=True, slots=True)
class Reservations:
    """Holds made in advance (a workflow reserves every step when it starts)."""

    fan: int | None
    tenant: int | None


def arq_job_id(job_id: int) -> str:
    return f"gen:{job_id}"


def job_limits(tenant: Tenant) -> JobLimits:
    plan = get_plan(tenant.plan)
    limits = JOB_LIMITS.get(plan.code, JOB_LIMITS["basic"])
    overrides = (tenant.config or {}).get("limits") or {}
    if plan.custom and overrides:
        limits = JobLimits(
            concurrent_per_user=overrides.get(
                "concurrent_jobs_per_user", limits.concurrent_per_user
            ),
            daily_per_user=overrides.get("daily_jobs_per_user", limits.daily_per_user),
        )
    return limits


async def active_tenant(session: AsyncSession, tenant_id: int) -> Tenant:
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None:
        raise NotFoundError("tenant not found", tenant_id=tenant_id)
    if not tenant.is_active:
        raise TenantUnavailableError("this bot is temporarily unavailable")
    return tenant


async def check_limits(session: AsyncSession, tenant: Tenant, user_id: int) -> None:
    """Raise :class:`PlanLimitError` when the user is at the plan's concurrent or daily limit.

    The caller holds the user's row lock (:func:`repo.lock_user`), so two requests of the same
    user cannot both pass the check.
    """
    limits = job_limits(tenant)
    if limits.concurrent_per_user is not None:
        active = await repo.count_active(session, tenant.id, user_id)
        if active >= limits.concurrent_per_user:
            raise PlanLimitError(
                "too many generations at once; wait for one to finish",
                limit=limits.concurrent_per_user,
                active=active,
                kind="concurrent",
            )
    if limits.daily_per_user is not None:
        midnight = datetime.combine(utcnow().date(), time.min, tzinfo=utcnow().tzinfo)
        today = await repo.count_since(session, tenant.id, user_id, midnight)
        if today >= limits.daily_per_user:
            raise PlanLimitError(
                "the daily generation limit is reached; try again tomorrow",
                limit=limits.daily_per_user,
                used=today,
                kind="daily",
                retry_after=int((midnight + timedelta(days=1) - utcnow()).total_seconds()),
            )


async def check_inputs(
    session: AsyncSession, tenant_id: int, user_id: int, tool: Tool, inputs: Mapping[str, Any]
) -> None:
    """Every input is a file of this user with the media type the tool expects."""
    wanted = catalog.input_params(tool)
    files = await repo.files_by_ids(
        session, tenant_id, user_id, [v for v in inputs.values() if isinstance(v, int)]
    )
    problems: dict[str, str] = {}
    for name, file_id in inputs.items():
        file = files.get(file_id)
        if file is None:
            problems[name] = "no such file in your drive"
        elif not file.mime_type.startswith(f"{wanted[name]}/"):
            problems[name] = f"must be an {wanted[name]} file, not {file.mime_type}"
    if problems:
        raise ValidationError(
            "unsuitable input files: " + "; ".join(f"{k} {v}" for k, v in problems.items()),
            tool=tool.slug,
            fields=problems,
        )


async def create_job(
    session: AsyncSession,
    *,
    tenant_id: int,
    user_id: int,
    tool_slug: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, int] | None = None,
    idempotency_key: str | None = None,
    workflow_run_id: int | None = None,
    step_index: int | None = None,
    reservations: Reservations | None = None,
) -> Job:
    """Create a queued job for ``tool_slug`` and enqueue it once the session commits.

    ``inputs`` maps the tool's file parameters to drive file ids (they may also be given in
    ``params``). Raises ``ValidationError`` (``details["fields"]``: what is wrong with each
    parameter), ``NotFoundError`` (unknown or hidden tool), ``PlanLimitError``,
    ``InsufficientFundsError`` (``details``: ``price`` and ``balance``) or
    ``TenantUnavailableError`` — and then nothing was created or charged. The same
    ``idempotency_key`` returns the job it first created. ``reservations`` (workflow steps)
    are holds made in advance: no limit check and no new reservation then.
    """
    if idempotency_key is not None:
        existing = await repo.job_by_key(session, tenant_id, idempotency_key)
        if existing is not None:
            return _replayed(existing, user_id, tool_slug)
    tenant = await active_tenant(session, tenant_id)
    if await repo.lock_user(session, tenant_id, user_id) is None:
        raise NotFoundError("user not found", user_id=user_id)
    tool = await catalog.get_tool_row(session, tool_slug, tenant_id)
    file_params = catalog.input_params(tool)
    checked = catalog.validate_params(tool, {**params, **(inputs or {})})
    job_inputs = {name: checked.pop(name) for name in list(checked) if name in file_params}
    await check_inputs(session, tenant_id, user_id, tool, job_inputs)
    quote = catalog.price_for(
        tool, await catalog.tenant_setting_of(session, tenant_id, tool), checked
    )
    if reservations is None:
        await check_limits(session, tenant, user_id)

    try:
        async with session.begin_nested():
            job = Job(
                tenant_id=tenant_id,
                user_id=user_id,
                tool_id=tool.id,
                tool_slug=tool.slug,
                status=JobStatus.QUEUED,
                progress=0,
                stage="queued",
                params=checked,
                inputs=job_inputs,
                units=quote.units,
                price=quote.price,
                base_cost=quote.base_cost,
                idempotency_key=idempotency_key,
                workflow_run_id=workflow_run_id,
                step_index=step_index,
                result={},
                attempts=0,
            )
            session.add(job)
            await session.flush()
            if reservations is not None:
                job.fan_reservation_id = reservations.fan
                job.tenant_reservation_id = reservations.tenant
            else:
                fan, platform = await reserve_credits(
                    session,
                    tenant_id,
                    user_id,
                    price=quote.price,
                    base_cost=quote.base_cost,
                    key=f"job:{job.id}",
                    meta={"job_id": job.id, "tool": tool.slug},
                )
                job.fan_reservation_id, job.tenant_reservation_id = fan, platform
            await session.flush()
            defer_job(session, RUN_TASK, job.id, tenant_id, _job_id=arq_job_id(job.id))
    except IntegrityError:
        # The same idempotency key committed by a concurrent request meanwhile.
        if idempotency_key is None:
            raise
        existing = await repo.job_by_key(session, tenant_id, idempotency_key)
        if existing is None:
            raise
        return _replayed(existing, user_id, tool_slug)
    logger.info(
        "job %d created: %s for user %d, %d credits",
        job.id,
        tool.slug,
        user_id,
        quote.price,
        extra={"job_id": job.id, "tenant_id": tenant_id, "tool": tool.slug},
    )
    return job


def _replayed(job: Job, user_id: int, tool_slug: str) -> Job:
    if job.user_id != user_id or job.tool_slug != tool_slug:
        raise ConflictError("idempotency key already used for another job", job_id=job.id)
    return job


async def reserve_credits(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    price: int,
    base_cost: int,
    key: str,
    meta: Mapping[str, Any],
) -> tuple[int | None, int | None]:
    """Hold ``price`` on the fan's account and ``base_cost`` on the tenant's platform account.

    ``InsufficientFundsError`` (fan short) and ``TenantUnavailableError`` (tenant short) leave
    the caller's savepoint to undo the other hold. Zero amounts hold nothing (``None``).
    """
    fan_hold = platform_hold = None
    if price > 0:
        account = await ledger.get_or_create_account(session, tenant_id, user_id=user_id)
        try:
            result = await ledger.reserve(
                session,
                tenant_id,
                account.id,
                price,
                idempotency_key=f"{key}:reserve",
                reason="generation",
                meta=meta,
            )
        except InsufficientFundsError as exc:
            raise InsufficientFundsError(
                "not enough credits for this generation",
                price=price,
                balance=exc.details.get("available", 0),
                **meta,
            ) from exc
        fan_hold = result.entry_id
    if base_cost > 0:
        platform = await ledger.get_or_create_account(
            session, tenant_id, kind=ledger.AccountKind.TENANT
        )
        try:
            result = await ledger.reserve(
                session,
                tenant_id,
                platform.id,
                base_cost,
                idempotency_key=f"{key}:tenant:reserve",
                reason="generation base cost",
                meta=meta,
            )
        except InsufficientFundsError as exc:
            logger.warning(
                "tenant %d is out of platform balance (needs %d)",
                tenant_id,
                base_cost,
                extra={"tenant_id": tenant_id, "event": "tenant_balance_short"},
            )
            await billing.note_tenant_ran_dry(tenant_id)  # the creator hears once a day
            raise TenantUnavailableError(
                "generation is temporarily unavailable in this bot; please try again later"
            ) from exc
        platform_hold = result.entry_id
    return fan_hold, platform_hold


# -- settlement ---------------------------------------------------------------------------------


async def capture_job(session: AsyncSession, job: Job) -> None:
    """Spend the job's holds: its price from the fan, its base cost from the tenant."""
    meta = {"job_id": job.id, "tool": job.tool_slug}
    if job.fan_reservation_id is not None and job.price > 0:
        await ledger.capture(
            session,
            job.tenant_id,
            job.fan_reservation_id,
            job.price,
            idempotency_key=f"job:{job.id}:capture",
            reason="generation",
            meta=meta,
        )
    if job.tenant_reservation_id is not None and job.base_cost > 0:
        await ledger.capture(
            session,
            job.tenant_id,
            job.tenant_reservation_id,
            job.base_cost,
            idempotency_key=f"job:{job.id}:tenant:capture",
            reason="generation base cost",
            meta=meta,
        )


async def release_job(session: AsyncSession, job: Job) -> None:
    """Free the job's holds; nothing is spent."""
    meta = {"job_id": job.id, "tool": job.tool_slug}
    await release_hold(
        session, job.tenant_id, job.fan_reservation_id, f"job:{job.id}:release", meta
    )
    await release_hold(
        session, job.tenant_id, job.tenant_reservation_id, f"job:{job.id}:tenant:release", meta
    )


async def release_hold(
    session: AsyncSession,
    tenant_id: int,
    reservation_id: int | None,
    key: str,
    meta: Mapping[str, Any],
) -> bool:
    """Release one hold unless it is already settled; True when this call released it."""
    if reservation_id is None:
        return False
    try:
        result = await ledger.release(
            session, tenant_id, reservation_id, idempotency_key=key, reason="released", meta=meta
        )
    except ConflictError:
        return False  # settled under another key (captured by its job, or released before)
    return not result.replayed


# -- reading and cancelling ---------------------------------------------------------------------


async def get_job(session: AsyncSession, tenant_id: int, user_id: int, job_id: int) -> Job:
    job = await repo.get_job(session, tenant_id, job_id, user_id=user_id)
    if job is None:
        raise NotFoundError("job not found", job_id=job_id)
    return job


async def list_jobs(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    limit: int = 20,
    before_id: int | None = None,
    active_only: bool = False,
) -> list[Job]:
    """The user's jobs, newest first; page with ``before_id``."""
    statuses = (JobStatus.QUEUED, JobStatus.RUNNING) if active_only else None
    rows = await repo.list_jobs(
        session,
        tenant_id,
        user_id,
        limit=max(1, min(limit, MAX_LIST)),
        before_id=before_id,
        statuses=statuses,
    )
    return list(rows)


async def cancel_job(
    session: AsyncSession, tenant_id: int, user_id: int, job_id: int, *, redis: Redis | None = None
) -> Job:
    """Cancel a job of this user.

    A queued job is cancelled here and now (its holds released; the worker will skip it). A
    running job is asked to stop: ``cancel_requested_at`` on the row (seen by the worker's
    heartbeat) and, with ``redis``, the flag its provider checks at every checkpoint — the
    worker then stops it, kills ffmpeg, and releases the holds. A finished job is
    :class:`JobFinishedError`. Cancelling a workflow step stops the whole run.
    """
    job = await get_job(session, tenant_id, user_id, job_id)
    now = utcnow()
    if await repo.move_job(
        session,
        tenant_id,
        job_id,
        from_statuses=[JobStatus.QUEUED],
        status=JobStatus.CANCELLED,
        stage="cancelled",
        cancel_requested_at=now,
        finished_at=now,
        lease_token=None,
        error_code="cancelled",
        error_message="cancelled by the user",
    ):
        await release_job(session, job)
        if job.workflow_run_id is not None:
            from jobs.generation import workflows  # workflows builds on this module

            await workflows.stop_run(session, job, JobStatus.CANCELLED, "cancelled by the user")
        defer_job(session, PUBLISH_TASK, job_id, tenant_id)
    elif await repo.move_job(
        session,
        tenant_id,
        job_id,
        from_statuses=[JobStatus.RUNNING],
        extra=Job.cancel_requested_at.is_(None),
        cancel_requested_at=now,
    ):
        if redis is not None:
            await redis.set(cancel_key(job_id), b"1", ex=CANCEL_FLAG_TTL_S)
    else:
        current = await get_job(session, tenant_id, user_id, job_id)
        if current.status == JobStatus.RUNNING:
            return current  # already asked to stop
        raise JobFinishedError("the job has already finished", job_id=job_id, status=current.status)
    return await get_job(session, tenant_id, user_id, job_id)
