"""Worker-side execution of one generation job, safe against crashes, races and retries.

One run of :func:`run_job`:

1. **Claim** (own transaction): ``queued → running`` with a fresh lease token, or take over a
   ``running`` job whose heartbeat went stale (its worker died). Anything else — finished,
   cancelled, or alive elsewhere — makes the run a no-op, so re-running a job is always safe.
2. **Work**: inputs are fetched from storage, the provider runs under the tool's timeout with
   progress (row + pub/sub), a heartbeat task keeps the lease and watches for a cancel
   request, and ``is_cancelled`` reads the Redis cancel flag (ffmpeg is killed on it).
3. **Store** outputs in storage under attempt-unique keys.
4. **Settle** (one transaction, guarded by the lease): status, file rows (UNIQUE
   ``job:{id}:output:{n}``), ledger capture (idempotency keys per job), and for a workflow the
   next step's job. Failure and cancellation release the holds instead; transient provider
   errors put the job back to ``queued`` and ask arq to retry later (``Retry(defer=...)``).

A worker killed at any point leaves either a job still ``queued``/``running`` (re-run from the
start by arq or by :func:`recover_stale_jobs`; orphaned uploads are the only waste) or a settled
one — never a half-settled job, a double charge or a second set of outputs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import shutil
import tempfile
import time
import uuid
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from arq import Retry
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import queue
from core.db import session_scope, tenant_select, utcnow
from core.models.catalog import Tool
from core.models.drive import File
from core.models.jobs import Job, JobStatus
from core.models.tenant import Tenant
from core.models.user import User
from core.queue import flush_deferred_jobs
from core.settings import Environment, Settings
from core.storage import Storage, create_storage
from jobs.catalog import service as catalog
from jobs.generation import repository as repo
from jobs.generation import service, workflows
from jobs.generation.outputs import (
    GENERATED_FOLDER,
    StoredOutput,
    discard,
    file_rows,
    slug_words,
    store_outputs,
)
from jobs.generation.progress import ProgressReporter, cancel_key, publish
from jobs.generation.schemas import ProgressEvent
from jobs.notify import ChatProgressReporter, notifier_of  # issue 6: chat delivery
from jobs.providers import (
    MediaInput,
    ProviderAdapter,
    ProviderCancelled,
    ProviderError,
    ProviderNotConfigured,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
    ToolKind,
    TransientProviderError,
    create_provider,
)

logger = logging.getLogger(__name__)

Factory = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class GenerationConfig:
    """Timings of the job runner; a worker may put its own in ``ctx["generation_config"]``."""

    heartbeat_interval: float = 2.0
    stale_after: float = 30.0
    """A running job whose heartbeat is older than this is taken over by the next claimer."""
    requeue_after: float = 600.0
    """A queued job untouched this long is enqueued again (its enqueue may have been lost)."""
    max_attempts: int = 4
    backoff_base: float = 2.0
    backoff_max: float = 120.0
    progress_interval: float = 0.5
    cancel_poll_interval: float = 0.2


USER_MESSAGES = {
    "invalid_input": "The tool could not use these inputs",
    "content_rejected": "The request was refused by the provider's content rules",
    "provider_not_configured": "This tool is not available right now",
    "provider_auth": "This tool is not available right now",
    "provider_quota": "This tool is not available right now",
    "unsupported_kind": "This tool is not available right now",
}


def config_of(ctx: Mapping[str, Any]) -> GenerationConfig:
    config = ctx.get("generation_config")
    return config if isinstance(config, GenerationConfig) else GenerationConfig()


_storages: weakref.WeakKeyDictionary[Any, Storage] = weakref.WeakKeyDictionary()


def storage_of(ctx: Mapping[str, Any]) -> Storage:
    """The worker's storage backend: ``ctx["storage"]``, or one per worker made from settings."""
    storage = ctx.get("storage")
    if isinstance(storage, Storage):
        return storage
    key = ctx["session_factory"]
    if key not in _storages:
        _storages[key] = create_storage(ctx["settings"])
    return _storages[key]


def provider_for(tool: Tool, settings: Settings) -> ProviderAdapter:
    """The tool's provider. Outside production a provider without credentials falls back to
    the offline one (``atelier dev``, tests); in production that is a permanent failure."""
    try:
        return create_provider(tool.provider, settings)
    except ProviderNotConfigured:
        if settings.environment is Environment.PRODUCTION or tool.provider == "offline":
            raise
        logger.info("provider %s not configured; %s runs offline", tool.provider, tool.slug)
        return create_provider("offline", settings)


def provider_params(tool: Tool, job: Job, provider: ProviderAdapter) -> dict[str, Any]:
    """The user's parameters plus the tool's preset (a ``prompt_template`` wraps the prompt)."""
    params = dict(job.params)
    preset = dict(tool.preset or {})
    template = preset.pop("prompt_template", None)
    params.update(preset)
    if isinstance(template, str) and isinstance(params.get("prompt"), str):
        params["prompt"] = template.replace("{prompt}", params["prompt"])
    if tool.model and provider.name != "offline":
        params.setdefault("model", tool.model)
    return params


def backoff(config: GenerationConfig, attempt: int, retry_after: float | None) -> float:
    delay = min(config.backoff_max, config.backoff_base * 2.0 ** max(0, attempt - 1))
    delay *= 1 + random.random() / 4  # spread retries of many jobs hit by the same outage
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


class _LostLease(Exception):
    """Another worker owns the job now (or it was settled meanwhile)."""


@dataclass
class JobRunner:
    ctx: Mapping[str, Any]
    job_id: int
    tenant_id: int
    config: GenerationConfig = field(init=False)
    lease: str = field(default_factory=lambda: uuid.uuid4().hex)
    cancel_requested: asyncio.Event = field(default_factory=asyncio.Event)
    lost: bool = False
    _last_flag_check: float = 0.0

    def __post_init__(self) -> None:
        self.config = config_of(self.ctx)

    @property
    def factory(self) -> Factory:
        factory: Factory = self.ctx["session_factory"]
        return factory

    @property
    def redis(self) -> ArqRedis:
        redis: ArqRedis = self.ctx["redis"]
        return redis

    @property
    def settings(self) -> Settings:
        settings: Settings = self.ctx["settings"]
        return settings

    # -- the run ------------------------------------------------------------------------------

    async def run(self) -> dict[str, Any]:
        claimed, job = await self._claim()
        if job is None:
            return {"job_id": self.job_id, "status": "missing"}
        if not claimed:
            return {"job_id": self.job_id, "status": job.status, "skipped": True}
        async with session_scope(self.factory) as session:
            tool = await session.get(Tool, job.tool_id)
            user = await session.scalar(
                tenant_select(User, self.tenant_id).where(User.id == job.user_id)
            )
            tenant = await session.get(Tenant, self.tenant_id)
            files = await repo.files_by_ids(
                session, self.tenant_id, job.user_id, job.inputs.values()
            )
        assert tool is not None and user is not None and tenant is not None
        from bot.i18n import enabled_languages, pick_language  # the catalogues live with the bot

        language = pick_language(
            user.language,
            user.language_code,
            tenant.default_language,
            enabled_languages(tenant.config),
        )
        reporter = ChatProgressReporter(  # issue 6: progress and results in the fan's chat
            self.redis,
            notifier=notifier_of(self.ctx),
            base={
                "id": job.id,
                "tenant_id": job.tenant_id,
                "user_id": job.user_id,
                "tool": job.tool_slug,
                "workflow_run_id": job.workflow_run_id,
                "step_index": job.step_index,
            },
            persist=self._persist,
            db_interval=self.config.progress_interval,
        )
        reporter.stage = "starting"
        await reporter.emit(JobStatus.RUNNING)
        heartbeat = asyncio.create_task(self._heartbeat())
        workdir = Path(await asyncio.to_thread(tempfile.mkdtemp, prefix=f"atelier-job{job.id}-"))
        try:
            return await self._work(job, tool, files, language, reporter, workdir)
        except asyncio.CancelledError:
            # The worker is shutting down (or arq's own timeout): hand the job back untouched.
            await asyncio.shield(self._requeue(job, "interrupted"))
            raise
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            await asyncio.to_thread(shutil.rmtree, workdir, True)

    async def _work(
        self,
        job: Job,
        tool: Tool,
        files: Mapping[int, File],
        language: str,
        reporter: ProgressReporter,
        workdir: Path,
    ) -> dict[str, Any]:
        try:
            provider = provider_for(tool, self.settings)
        except ProviderError as exc:
            return await self._fail(job, reporter, exc.code, str(exc))
        try:
            request = ProviderRequest(
                kind=ToolKind(tool.kind),
                params=provider_params(tool, job, provider),
                inputs=await self._inputs(job, files, workdir),
                progress=reporter,
                is_cancelled=self._is_cancelled,
                workdir=workdir / "out",
            )
            try:
                async with asyncio.timeout(tool.timeout_s):
                    result = await provider.run(request)
            except TimeoutError:
                raise ProviderTimeout(
                    f"the tool took longer than {tool.timeout_s} s", provider=provider.name
                ) from None
            if self.lost or reporter.lost:
                raise _LostLease
            stored = await store_outputs(
                storage_of(self.ctx),
                result.outputs,
                prefix=(
                    f"tenants/{job.tenant_id}/users/{job.user_id}/generated/{job.id}/{self.lease}"
                ),
            )
            return await self._succeed(job, tool, language, provider, result, stored, reporter)
        except _LostLease:
            logger.info("job %d is no longer ours; dropping this attempt", job.id)
            return {"job_id": job.id, "status": "abandoned"}
        except ProviderCancelled:
            if self.lost:
                return {"job_id": job.id, "status": "abandoned"}
            return await self._cancelled(job, reporter)
        except TransientProviderError as exc:
            return await self._retry_or_fail(job, reporter, exc.code, exc.message, exc.retry_after)
        except ProviderError as exc:
            return await self._fail(job, reporter, exc.code, exc.message)
        except Exception as exc:  # a bug or an outage of ours (DB, storage): retry, then fail
            logger.exception("job %d failed unexpectedly", job.id)
            return await self._retry_or_fail(job, reporter, "internal_error", str(exc), None)
        finally:
            await provider.aclose()

    # -- claim, heartbeat, cancellation --------------------------------------------------------

    async def _claim(self) -> tuple[bool, Job | None]:
        stale_before = utcnow() - timedelta(seconds=self.config.stale_after)
        async with session_scope(self.factory) as session:
            claimed = await repo.claim_job(
                session, self.tenant_id, self.job_id, self.lease, stale_before
            )
            job = await repo.get_job(session, self.tenant_id, self.job_id)
        if job is not None and not claimed and job.status == JobStatus.RUNNING:
            await self._reap_cancelled(job, stale_before)
        return claimed, job

    async def _reap_cancelled(self, job: Job, stale_before: Any) -> None:
        """A job asked to stop whose worker died before it could: finish the cancel here."""
        async with session_scope(self.factory) as session:
            moved = await repo.move_job(
                session,
                self.tenant_id,
                job.id,
                from_statuses=[JobStatus.RUNNING],
                extra=(Job.cancel_requested_at.is_not(None)) & (Job.heartbeat_at < stale_before),
                status=JobStatus.CANCELLED,
                stage="cancelled",
                lease_token=None,
                finished_at=utcnow(),
                error_code="cancelled",
                error_message="cancelled by the user",
            )
            if moved:
                await service.release_job(session, job)
                await workflows.stop_run(session, job, JobStatus.CANCELLED, "cancelled by the user")
        if moved:
            await publish_state(self.redis, self.factory, self.tenant_id, job.id)

    async def _persist(self, progress: int, stage: str) -> bool:
        try:
            async with session_scope(self.factory) as session:
                ours, cancel = await repo.beat(
                    session, self.tenant_id, self.job_id, self.lease, progress=progress, stage=stage
                )
        except Exception:
            logger.warning("could not record progress of job %d", self.job_id, exc_info=True)
            return True
        self._note(ours, cancel)
        return ours

    def _note(self, ours: bool, cancel: bool) -> None:
        if not ours:
            self.lost = True
        if cancel or not ours:
            self.cancel_requested.set()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_interval)
            try:
                async with session_scope(self.factory) as session:
                    ours, cancel = await repo.beat(session, self.tenant_id, self.job_id, self.lease)
            except Exception:
                logger.warning("heartbeat of job %d failed", self.job_id, exc_info=True)
                continue
            self._note(ours, cancel)
            if not ours:
                return

    async def _is_cancelled(self) -> bool:
        if self.cancel_requested.is_set():
            return True
        now = time.monotonic()
        if now - self._last_flag_check < self.config.cancel_poll_interval:
            return False
        self._last_flag_check = now
        if await self.redis.exists(cancel_key(self.job_id)):
            self.cancel_requested.set()
            return True
        return False

    async def _inputs(self, job: Job, files: Mapping[int, File], workdir: Path) -> list[MediaInput]:
        storage = storage_of(self.ctx)
        inputs = []
        for name, file_id in job.inputs.items():
            file = files.get(file_id)
            if file is None:
                raise _InputGone(name)
            target = workdir / f"input-{name}-{file.id}"
            with target.open("wb") as handle:
                async for chunk in storage.open_stream(file.storage_key):
                    await asyncio.to_thread(handle.write, chunk)
            inputs.append(MediaInput.from_path(target, file.mime_type, **_transcript_of(file)))
        return inputs

    # -- endings ------------------------------------------------------------------------------

    async def _succeed(
        self,
        job: Job,
        tool: Tool,
        language: str,
        provider: ProviderAdapter,
        result: ProviderResult,
        stored: list[StoredOutput],
        reporter: ProgressReporter,
    ) -> dict[str, Any]:
        text = next((s.text for s in stored if s.text is not None), None)
        tool_name = catalog._localized(tool.names, language)
        prompt = job.params.get("prompt") or job.params.get("text")
        provenance = {
            "tool": tool.slug,
            "tool_name": tool_name,
            "prompt": prompt,
            "params": job.params,
            "inputs": job.inputs,
            "job_id": job.id,
            "provider": result.provider,
            "model": result.model,
            "workflow_run_id": job.workflow_run_id,
        }
        try:
            async with session_scope(self.factory) as session:
                now = utcnow()
                if not await repo.move_job(
                    session,
                    self.tenant_id,
                    job.id,
                    from_statuses=[JobStatus.RUNNING],
                    lease=self.lease,
                    status=JobStatus.SUCCEEDED,
                    progress=100,
                    stage="done",
                    finished_at=now,
                    heartbeat_at=now,
                    lease_token=None,
                    error_code=None,
                    error_message=None,
                ):
                    raise _LostLease
                generated = await repo.ensure_folder(
                    session, job.tenant_id, job.user_id, None, GENERATED_FOLDER
                )
                folder = await repo.ensure_folder(
                    session, job.tenant_id, job.user_id, generated.id, tool_name[:255]
                )
                rows = file_rows(
                    stored,
                    tenant_id=job.tenant_id,
                    user_id=job.user_id,
                    job_id=job.id,
                    folder_id=folder.id,
                    stem=slug_words(str(prompt or tool.slug)),
                    provenance=provenance,
                )
                session.add_all(rows)
                await session.flush()
                file_ids = [row.id for row in rows]
                settled = await repo.get_job(session, self.tenant_id, job.id)
                assert settled is not None
                settled.result = {
                    "file_ids": file_ids,
                    **({"text": text} if text is not None else {}),
                    "provider": result.provider,
                    "model": result.model,
                    "usage": dict(result.usage),
                }
                await service.capture_job(session, settled)
                if settled.workflow_run_id is not None:
                    await workflows.on_step_succeeded(session, settled, rows, text)
        except BaseException:
            await asyncio.shield(discard(storage_of(self.ctx), stored))
            raise
        await self._after_commit(session)
        reporter.progress, reporter.stage = 100, "done"
        await reporter.emit(JobStatus.SUCCEEDED, file_ids=file_ids, text=text)
        logger.info("job %d succeeded: %d file(s)", job.id, len(file_ids))
        return {"job_id": job.id, "status": JobStatus.SUCCEEDED, "file_ids": file_ids}

    async def _end(
        self,
        job: Job,
        reporter: ProgressReporter,
        status: JobStatus,
        code: str,
        message: str,
    ) -> dict[str, Any]:
        async with session_scope(self.factory) as session:
            moved = await repo.move_job(
                session,
                self.tenant_id,
                job.id,
                from_statuses=[JobStatus.RUNNING],
                lease=self.lease,
                status=status,
                stage=status.value,
                finished_at=utcnow(),
                lease_token=None,
                error_code=code,
                error_message=message[:2000],
            )
            if moved:
                await service.release_job(session, job)
                await workflows.stop_run(session, job, status, message)
        if not moved:
            return {"job_id": job.id, "status": "abandoned"}
        await self._after_commit(session)
        reporter.stage = status.value
        await reporter.emit(status, error={"code": code, "message": message})
        return {"job_id": job.id, "status": status, "error": code}

    async def _fail(
        self, job: Job, reporter: ProgressReporter, code: str, detail: str
    ) -> dict[str, Any]:
        prefix = USER_MESSAGES.get(code, "The generation failed")
        message = f"{prefix}: {detail}" if detail else prefix
        logger.info("job %d failed: %s", job.id, message)
        return await self._end(job, reporter, JobStatus.FAILED, code, message)

    async def _cancelled(self, job: Job, reporter: ProgressReporter) -> dict[str, Any]:
        logger.info("job %d cancelled", job.id)
        return await self._end(
            job, reporter, JobStatus.CANCELLED, "cancelled", "cancelled by the user"
        )

    async def _retry_or_fail(
        self,
        job: Job,
        reporter: ProgressReporter,
        code: str,
        detail: str,
        retry_after: float | None,
    ) -> dict[str, Any]:
        attempt = job.attempts  # the claim counted this attempt
        if attempt >= self.config.max_attempts:
            return await self._fail(
                job, reporter, code, f"still failing after {attempt} attempts ({detail})"
            )
        delay = backoff(self.config, attempt, retry_after)
        if not await self._requeue(job, f"retrying in {delay:.0f} s", code=code, message=detail):
            return {"job_id": job.id, "status": "abandoned"}
        reporter.stage = "retrying"
        await reporter.emit(JobStatus.QUEUED)
        logger.info("job %d: %s (%s); retry %d in %.1f s", job.id, code, detail, attempt, delay)
        raise Retry(defer=delay)

    async def _requeue(
        self, job: Job, stage: str, *, code: str | None = None, message: str | None = None
    ) -> bool:
        async with session_scope(self.factory) as session:
            return await repo.move_job(
                session,
                self.tenant_id,
                job.id,
                from_statuses=[JobStatus.RUNNING],
                lease=self.lease,
                status=JobStatus.QUEUED,
                stage=stage[:64],
                lease_token=None,
                error_code=code,
                error_message=message,
            )

    async def _after_commit(self, session: AsyncSession) -> None:
        if await flush_deferred_jobs(session, self.redis):
            await queue.wake(self.redis)


class _InputGone(ProviderError):
    code = "invalid_input"

    def __init__(self, name: str) -> None:
        super().__init__(f"the input file {name!r} is no longer in the drive")


def _transcript_of(file: File) -> dict[str, Any]:
    """Our own generated speech knows its words; hand them to a transcriber as a hint."""
    text = (file.provenance or {}).get("params", {}).get("text")
    return {"transcript": text} if isinstance(text, str) else {}


async def run_job(ctx: Mapping[str, Any], job_id: int, tenant_id: int) -> dict[str, Any]:
    return await JobRunner(ctx, job_id, tenant_id).run()


async def publish_state(redis: ArqRedis, factory: Factory, tenant_id: int, job_id: int) -> None:
    """Publish a job's current state from its row (after a change made outside the runner)."""
    async with session_scope(factory) as session:
        job = await repo.get_job(session, tenant_id, job_id)
    if job is None:
        return
    error = {"code": job.error_code, "message": job.error_message or ""} if job.error_code else None
    await publish(
        redis,
        ProgressEvent(
            id=job.id,
            tenant_id=job.tenant_id,
            user_id=job.user_id,
            tool=job.tool_slug,
            status=JobStatus(job.status),
            progress=job.progress,
            stage=job.stage,
            seq=time.time_ns() // 1000,
            workflow_run_id=job.workflow_run_id,
            step_index=job.step_index,
            error=error,
            file_ids=list(job.result.get("file_ids", [])),
            text=job.result.get("text"),
        ),
    )


async def recover_stale_jobs(ctx: Mapping[str, Any]) -> dict[str, Any]:
    """Enqueue again the jobs whose worker died (stale heartbeat) or whose enqueue was lost.

    Each gets a new arq job id per attempt (``gen:{id}:recover:{attempts}``), so a sweep that
    runs while the job is still waiting does not enqueue it twice; the claim decides who runs.
    """
    config = config_of(ctx)
    factory: Factory = ctx["session_factory"]
    redis: ArqRedis = ctx["redis"]
    now = utcnow()
    async with session_scope(factory) as session:
        stale = await repo.stale_jobs(
            session,
            stale_before=now - timedelta(seconds=config.stale_after),
            queued_before=now - timedelta(seconds=config.requeue_after),
            limit=200,
        )
    sent = 0
    for tenant_id, job_id, attempts in stale:
        job = await redis.enqueue_job(
            service.RUN_TASK, job_id, tenant_id, _job_id=f"gen:{job_id}:recover:{attempts}"
        )
        sent += job is not None
    if sent:
        await queue.wake(redis)
        logger.warning("re-enqueued %d stalled job(s)", sent, extra={"event": "jobs_recovered"})
    return {"stale": len(stale), "enqueued": sent}
