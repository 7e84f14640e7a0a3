"""All SQL of generation: jobs, workflow runs, and the drive rows their outputs become.

Every statement on a tenant-owned table filters by tenant (``tenant_select`` for reads, an
explicit ``tenant_id`` condition on updates) except :func:`stale_jobs`, the worker's one
cross-tenant sweep, which only returns ids to re-enqueue.

Status moves are conditional ``UPDATE``s: they say which statuses (and which lease) they move
from, and report whether they moved. Two workers, or a worker and a user cancelling, can race
on a job; exactly one of them wins each transition.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Select, String, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import UTCDateTime, tenant_select, utcnow
from core.models.drive import File, Folder
from core.models.jobs import ACTIVE_JOB_STATUSES, Job, JobStatus, RunStatus, WorkflowRun
from core.models.user import User


async def job_by_key(session: AsyncSession, tenant_id: int, key: str) -> Job | None:
    return await session.scalar(tenant_select(Job, tenant_id).where(Job.idempotency_key == key))


async def get_job(
    session: AsyncSession, tenant_id: int, job_id: int, *, user_id: int | None = None
) -> Job | None:
    stmt = tenant_select(Job, tenant_id).where(Job.id == job_id)
    if user_id is not None:
        stmt = stmt.where(Job.user_id == user_id)
    return await session.scalar(stmt.execution_options(populate_existing=True))


async def lock_user(session: AsyncSession, tenant_id: int, user_id: int) -> User | None:
    """The user row, locked until commit: serialises one user's job creations (limits)."""
    stmt = tenant_select(User, tenant_id).where(User.id == user_id).with_for_update()
    return await session.scalar(stmt)


async def count_active(session: AsyncSession, tenant_id: int, user_id: int) -> int:
    """Running or queued single jobs plus running workflow runs (a run counts as one job)."""
    jobs = select(func.count()).select_from(
        tenant_select(Job, tenant_id)
        .where(
            Job.user_id == user_id,
            Job.status.in_(ACTIVE_JOB_STATUSES),
            Job.workflow_run_id.is_(None),
        )
        .subquery()
    )
    runs = select(func.count()).select_from(
        tenant_select(WorkflowRun, tenant_id)
        .where(WorkflowRun.user_id == user_id, WorkflowRun.status == RunStatus.RUNNING)
        .subquery()
    )
    return int(await session.scalar(jobs) or 0) + int(await session.scalar(runs) or 0)


async def count_since(session: AsyncSession, tenant_id: int, user_id: int, since: datetime) -> int:
    """Generations started since ``since``: single jobs plus workflow runs."""
    jobs = select(func.count()).select_from(
        tenant_select(Job, tenant_id)
        .where(Job.user_id == user_id, Job.created_at >= since, Job.workflow_run_id.is_(None))
        .subquery()
    )
    runs = select(func.count()).select_from(
        tenant_select(WorkflowRun, tenant_id)
        .where(WorkflowRun.user_id == user_id, WorkflowRun.created_at >= since)
        .subquery()
    )
    return int(await session.scalar(jobs) or 0) + int(await session.scalar(runs) or 0)


async def list_jobs(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    limit: int,
    before_id: int | None = None,
    statuses: Iterable[JobStatus] | None = None,
) -> Sequence[Job]:
    stmt = tenant_select(Job, tenant_id).where(Job.user_id == user_id)
    if before_id is not None:
        stmt = stmt.where(Job.id < before_id)
    if statuses is not None:
        stmt = stmt.where(Job.status.in_(list(statuses)))
    return (await session.scalars(stmt.order_by(Job.id.desc()).limit(limit))).all()


async def move_job(
    session: AsyncSession,
    tenant_id: int,
    job_id: int,
    *,
    from_statuses: Iterable[JobStatus],
    lease: str | None = None,
    extra: Any = None,
    **values: Any,
) -> bool:
    """``UPDATE jobs SET values WHERE status IN from_statuses [AND lease_token = lease]``."""
    stmt = (
        update(Job)
        .where(
            Job.tenant_id == tenant_id,
            Job.id == job_id,
            Job.status.in_([s.value for s in from_statuses]),
        )
        .values(updated_at=utcnow(), **values)
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    if lease is not None:
        stmt = stmt.where(Job.lease_token == lease)
    if extra is not None:
        stmt = stmt.where(extra)
    return (await session.execute(stmt)).first() is not None


async def claim_job(
    session: AsyncSession, tenant_id: int, job_id: int, lease: str, stale_before: datetime
) -> bool:
    """Take a queued job, or a running one whose worker stopped beating; one claimer wins."""
    now = utcnow()
    stmt = (
        update(Job)
        .where(
            Job.tenant_id == tenant_id,
            Job.id == job_id,
            Job.cancel_requested_at.is_(None),
            or_(
                Job.status == JobStatus.QUEUED,
                (Job.status == JobStatus.RUNNING)
                & or_(Job.heartbeat_at.is_(None), Job.heartbeat_at < stale_before),
            ),
        )
        .values(
            status=JobStatus.RUNNING,
            lease_token=lease,
            heartbeat_at=now,
            started_at=func.coalesce(Job.started_at, now),
            attempts=Job.attempts + 1,
            stage="starting",
            updated_at=now,
        )
        .returning(Job.id)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(stmt)).first() is not None


async def beat(
    session: AsyncSession,
    tenant_id: int,
    job_id: int,
    lease: str,
    *,
    progress: int | None = None,
    stage: str | None = None,
) -> tuple[bool, bool]:
    """Refresh the heartbeat (and progress) while holding the lease.

    Returns ``(still_ours, cancel_requested)``.
    """
    values: dict[str, Any] = {"heartbeat_at": utcnow()}
    if progress is not None:
        values["progress"] = progress
    if stage is not None:
        values["stage"] = stage[:64]
    stmt = (
        update(Job)
        .where(
            Job.tenant_id == tenant_id,
            Job.id == job_id,
            Job.lease_token == lease,
            Job.status == JobStatus.RUNNING,
        )
        .values(**values)
        .returning(Job.cancel_requested_at)
        .execution_options(synchronize_session=False)
    )
    row = (await session.execute(stmt)).first()
    if row is None:
        return False, False
    return True, row[0] is not None


async def stale_jobs(
    session: AsyncSession, *, stale_before: datetime, queued_before: datetime, limit: int
) -> list[tuple[int, int, int]]:
    """``(tenant_id, job_id, attempts)`` of running jobs whose heartbeat stopped and of queued
    jobs nobody picked up for long (an enqueue lost while Redis was down). Cross-tenant on
    purpose: the worker's sweep, ids only."""
    stmt = (
        select(Job.tenant_id, Job.id, Job.attempts)
        .where(
            or_(
                (Job.status == JobStatus.RUNNING) & (Job.heartbeat_at < stale_before),
                (Job.status == JobStatus.QUEUED) & (Job.updated_at < queued_before),
            )
        )
        .order_by(Job.id)
        .limit(limit)
    )
    return [(row[0], row[1], row[2]) for row in (await session.execute(stmt)).all()]


# -- workflow runs ------------------------------------------------------------------------------


async def get_run(
    session: AsyncSession,
    tenant_id: int,
    run_id: int,
    *,
    user_id: int | None = None,
    for_update: bool = False,
) -> WorkflowRun | None:
    stmt = tenant_select(WorkflowRun, tenant_id).where(WorkflowRun.id == run_id)
    if user_id is not None:
        stmt = stmt.where(WorkflowRun.user_id == user_id)
    if for_update:
        stmt = stmt.with_for_update()
    return await session.scalar(stmt.execution_options(populate_existing=True))


async def jobs_of_run(session: AsyncSession, tenant_id: int, run_id: int) -> Sequence[Job]:
    stmt = tenant_select(Job, tenant_id).where(Job.workflow_run_id == run_id)
    return (await session.scalars(stmt.order_by(Job.step_index))).all()


# -- drive --------------------------------------------------------------------------------------


async def files_by_ids(
    session: AsyncSession, tenant_id: int, user_id: int, ids: Iterable[int]
) -> dict[int, File]:
    wanted = list(ids)
    if not wanted:
        return {}
    stmt = tenant_select(File, tenant_id).where(
        File.user_id == user_id, File.id.in_(wanted), File.deleted_at.is_(None)
    )
    return {f.id: f for f in (await session.scalars(stmt)).all()}


async def files_of_job(session: AsyncSession, tenant_id: int, job_id: int) -> Sequence[File]:
    stmt = tenant_select(File, tenant_id).where(File.job_id == job_id).order_by(File.output_key)
    return (await session.scalars(stmt)).all()


async def ensure_folder(
    session: AsyncSession, tenant_id: int, user_id: int, parent_id: int | None, name: str
) -> Folder:
    """The user's folder ``name`` under ``parent_id`` (None: the root), created race-free."""
    parent_key = parent_id or 0

    def find() -> Select[Any]:
        return tenant_select(Folder, tenant_id).where(
            Folder.user_id == user_id, Folder.parent_key == parent_key, Folder.name == name
        )

    folder: Folder | None = await session.scalar(find())
    if folder is not None:
        return folder
    conn = await session.connection()
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    table: Any = Folder.__table__
    stmt = (
        dialect_insert(table)
        .from_select(
            ["tenant_id", "user_id", "parent_id", "parent_key", "name", "created_at"],
            select(
                literal(tenant_id, BigInteger),
                literal(user_id, BigInteger),
                literal(parent_id, BigInteger),
                literal(parent_key, BigInteger),
                literal(name, String),
                literal(utcnow(), UTCDateTime),
            ),
        )
        .on_conflict_do_nothing()
    )
    await session.execute(stmt)
    created: Folder | None = await session.scalar(find())
    assert created is not None
    return created
