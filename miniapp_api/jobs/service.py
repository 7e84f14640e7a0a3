"""Reading a fan's jobs for the Mini App: filtered, keyset-paged lists and output files.

Creating and cancelling go through :mod:`jobs.generation.service` (as in the bot); only the
listing shapes the API needs live here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from core.models import File
from core.models.jobs import ACTIVE_JOB_STATUSES, Job, JobStatus
from jobs.generation import repository as generation_repo

StatusFilter = Literal["queued", "running", "succeeded", "failed", "cancelled", "active"]
MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class JobsPage:
    jobs: Sequence[Job]
    next_cursor: str | None


def _statuses(status: StatusFilter | None) -> tuple[JobStatus, ...] | None:
    if status is None:
        return None
    if status == "active":
        return ACTIVE_JOB_STATUSES
    return (JobStatus(status),)


async def list_jobs(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    status: StatusFilter | None,
    cursor: int | None,
    limit: int,
) -> JobsPage:
    """Newest first; ``cursor`` is the ``next_cursor`` of the previous page (an id: ids only
    grow, so a page never repeats or skips a job when new ones arrive)."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = await generation_repo.list_jobs(
        session, tenant_id, user_id, limit=limit + 1, before_id=cursor, statuses=_statuses(status)
    )
    more = len(rows) > limit
    page = rows[:limit]
    return JobsPage(jobs=page, next_cursor=str(page[-1].id) if more else None)


async def active_jobs(session: AsyncSession, tenant_id: int, user_id: int) -> Sequence[Job]:
    """The fan's queued and running jobs: the first state of the all-jobs event stream."""
    return await generation_repo.list_jobs(
        session, tenant_id, user_id, limit=MAX_PAGE, statuses=ACTIVE_JOB_STATUSES
    )


async def outputs(session: AsyncSession, job: Job) -> list[File]:
    """The job's output files still in the drive (not trashed or purged)."""
    files = await generation_repo.files_of_job(session, job.tenant_id, job.id)
    return [f for f in files if f.deleted_at is None and f.user_id == job.user_id]
