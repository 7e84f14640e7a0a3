"""The arq functions of generation (registered in :data:`jobs.worker.FUNCTIONS`).

- ``run_generation(ctx, job_id, tenant_id)`` — run one job (:mod:`jobs.generation.runner`);
  safe to run any number of times.
- ``publish_job_state(ctx, job_id, tenant_id)`` — publish a job's state from its row (used
  after a change made outside the worker, e.g. cancelling a queued job).
- ``recover_stale_jobs(ctx)`` — cron: re-enqueue jobs whose worker died or whose enqueue was
  lost (:data:`GENERATION_CRON_JOBS`, every 30 s).
"""

from __future__ import annotations

from typing import Any, cast

from arq.cron import CronJob, cron
from arq.typing import WorkerCoroutine
from arq.worker import Function, func

from jobs.generation import runner
from jobs.generation.service import PUBLISH_TASK, RUN_TASK
from jobs.wrapper import JobContext, redis_of, session_factory_of

MAX_TOOL_TIMEOUT_S = 3600
"""The longest per-tool timeout the catalogue allows (``ToolSeed.timeout_s``)."""
RUN_TIMEOUT_S = MAX_TOOL_TIMEOUT_S + 300
"""arq's own limit on a run: the tool timeout is enforced inside, this is only a backstop
(input download, output upload and settlement come on top of the tool's time)."""
ARQ_MAX_TRIES = 50
"""The runner counts attempts itself (``GenerationConfig.max_attempts``); arq's count also
grows on crashes and shutdowns, so it only stops a job that loops for another reason."""


async def _run_generation(ctx: JobContext, job_id: int, tenant_id: int) -> dict[str, Any]:
    return await runner.run_job(ctx, job_id, tenant_id)


async def _publish_job_state(ctx: JobContext, job_id: int, tenant_id: int) -> None:
    await runner.publish_state(redis_of(ctx), session_factory_of(ctx), tenant_id, job_id)


async def _recover_stale_jobs(ctx: JobContext) -> dict[str, Any]:
    return await runner.recover_stale_jobs(ctx)


run_generation: Function = func(
    cast(WorkerCoroutine, _run_generation),
    name=RUN_TASK,
    timeout=RUN_TIMEOUT_S,
    max_tries=ARQ_MAX_TRIES,
)
publish_job_state: Function = func(
    cast(WorkerCoroutine, _publish_job_state), name=PUBLISH_TASK, timeout=30, keep_result=0
)
recover_stale_jobs: Function = func(
    cast(WorkerCoroutine, _recover_stale_jobs), name="recover_stale_jobs", timeout=60
)

GENERATION_FUNCTIONS: list[Function] = [run_generation, publish_job_state, recover_stale_jobs]
GENERATION_CRON_JOBS: list[CronJob] = [
    cron(
        cast(WorkerCoroutine, _recover_stale_jobs),
        name="cron:recover_stale_jobs",
        second={7, 37},
        timeout=60,
    ),
]
