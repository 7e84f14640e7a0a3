"""Jobs routes: the fan's generations, their outputs, cancelling, and live progress (SSE)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import StreamingResponse

from core.models import File
from core.models.jobs import Job
from core.storage import Storage
from jobs.generation import service as generation
from miniapp_api.auth.deps import UserDep
from miniapp_api.deps import RedisDep, SessionDep
from miniapp_api.files import LINK_TTL_S, StorageDep
from miniapp_api.jobs import service, sse
from miniapp_api.jobs.schemas import JobError, JobOut, JobPage, JobSummary, OutputFile

router = APIRouter()
JobId = Annotated[int, Path(gt=0, lt=2**63)]


def job_summary(job: Job) -> JobSummary:
    result = job.result or {}
    return JobSummary(
        id=job.id,
        tool=job.tool_slug,
        status=job.status,
        progress=job.progress,
        stage=job.stage,
        price=job.price,
        error=JobError(code=job.error_code, message=job.error_message or "")
        if job.error_code
        else None,
        file_ids=list(result.get("file_ids") or []),
        workflow_run_id=job.workflow_run_id,
        step_index=job.step_index,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )


async def output_file(storage: Storage, file: File) -> OutputFile:
    thumbnail = None
    if file.thumbnail_key:
        thumbnail = await storage.download_url(
            file.thumbnail_key, expires_in=LINK_TTL_S, content_type=file.thumbnail_mime
        )
    return OutputFile(
        id=file.id,
        name=file.name,
        mime_type=file.mime_type,
        size=file.size,
        width=file.width,
        height=file.height,
        duration=file.duration,
        url=await storage.download_url(
            file.storage_key, expires_in=LINK_TTL_S, content_type=file.mime_type
        ),
        download_url=await storage.download_url(
            file.storage_key, expires_in=LINK_TTL_S, filename=file.name, content_type=file.mime_type
        ),
        thumbnail_url=thumbnail,
    )


async def job_out(session: AsyncSession, storage: Storage, job: Job) -> JobOut:
    """The job with signed links to its output files (shared with the catalogue's run route)."""
    files = await service.outputs(session, job)
    return JobOut(
        **job_summary(job).model_dump(),
        params=job.params,
        inputs=job.inputs,
        text=(job.result or {}).get("text"),
        started_at=job.started_at,
        outputs=[await output_file(storage, f) for f in files],
    )


@router.get("")
async def list_jobs(
    user: UserDep,
    session: SessionDep,
    status: service.StatusFilter | None = None,
    cursor: Annotated[str | None, Query(pattern=r"^[1-9][0-9]{0,18}$")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_PAGE)] = 20,
) -> JobPage:
    """The fan's jobs, newest first (``status=active``: queued or running). Pass
    ``next_cursor`` back as ``cursor`` for the next page."""
    page = await service.list_jobs(
        session,
        user.tenant_id,
        user.user_id,
        status=status,
        cursor=int(cursor) if cursor else None,
        limit=limit,
    )
    return JobPage(jobs=[job_summary(j) for j in page.jobs], next_cursor=page.next_cursor)


@router.get("/events", response_class=StreamingResponse)
async def all_events(
    user: sse.StreamUserDep, session: SessionDep, redis: RedisDep
) -> StreamingResponse:
    """Server-Sent Events for every job of the fan: the queued and running ones first, then
    each change. Auth: the bearer header, or ``?access_token=<token>`` for EventSource."""
    active = await service.active_jobs(session, user.tenant_id, user.user_id)
    return sse.sse_response(sse.user_stream(redis, user.tenant_id, user.user_id, active))


@router.get("/{job_id}")
async def get_job(job_id: JobId, user: UserDep, session: SessionDep, storage: StorageDep) -> JobOut:
    job = await generation.get_job(session, user.tenant_id, user.user_id, job_id)
    return await job_out(session, storage, job)


@router.post("/{job_id}/cancel")
async def cancel_job(
    job_id: JobId, user: UserDep, session: SessionDep, redis: RedisDep, storage: StorageDep
) -> JobOut:
    """A queued job stops at once (its credits return); a running one is asked to stop and
    the worker releases its credits when it has. A finished job is 409 ``job_finished``."""
    job = await generation.cancel_job(session, user.tenant_id, user.user_id, job_id, redis=redis)
    return await job_out(session, storage, job)


@router.get("/{job_id}/events", response_class=StreamingResponse)
async def job_events(
    job_id: JobId, user: sse.StreamUserDep, session: SessionDep, redis: RedisDep
) -> StreamingResponse:
    """Server-Sent Events for one job: its current state, then each change; the stream ends
    after the final state. Auth: the bearer header, or ``?access_token=<token>``."""
    job = await generation.get_job(session, user.tenant_id, user.user_id, job_id)
    return sse.sse_response(sse.job_stream(redis, job))
