"""Workflows: chains of tool runs whose outputs feed the next step.

A step is ``{"tool": slug, "params": {...}}``; a parameter may refer to an earlier step's result
with ``"$steps.<n>.output"`` (its first output file — for the tool's file parameters) or
``"$steps.<n>.text"`` (its text output — for text parameters). For example "draw a dog in space,
turn it into a 5 second video and add space sounds"::

    [{"tool": "image-generate", "params": {"prompt": "a dog in space"}},
     {"tool": "video-from-image", "params": {"image": "$steps.0.output", "duration": 5}},
     {"tool": "sound-effect", "params": {"prompt": "space sounds", "duration": 5}},
     {"tool": "video-add-audio", "params": {"video": "$steps.1.output",
                                            "audio": "$steps.2.output"}}]

:func:`start_workflow` checks every step up front (tools, parameters, references, media types),
prices the whole run and reserves every step's price at once (one hold per step), so a run
never stops half way for lack of credits. The first step's job starts right away; each next
job is created by the worker in the same transaction that completes the previous step
(:func:`on_step_succeeded`). When a step fails or is cancelled, :func:`stop_run` ends the run
and releases the holds of the steps that never ran: the user pays exactly for the steps done.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import ledger
from core.db import tenant_select, utcnow
from core.errors import (
    AtelierError,
    ConflictError,
    InsufficientFundsError,
    NotFoundError,
    ValidationError,
)
from core.models.catalog import Tool
from core.models.drive import File
from core.models.jobs import Job, JobStatus, RunStatus, Workflow, WorkflowRun
from jobs.catalog import service as catalog
from jobs.catalog.schemas import Quote
from jobs.generation import repository as repo
from jobs.generation import service
from jobs.generation.errors import JobFinishedError

MAX_STEPS = 8
REFERENCE = re.compile(r"^\$steps\.(\d+)\.(output|text)$")


@dataclass(frozen=True, slots=True)
class PlannedStep:
    tool: Tool
    params: dict[str, Any]
    """As given, references included."""
    references: dict[str, tuple[int, str]]
    quote: Quote


@dataclass(frozen=True, slots=True)
class WorkflowQuote:
    price: int
    base_cost: int
    steps: list[Quote]


def _step_error(index: int, message: str, **fields: str) -> ValidationError:
    return ValidationError(
        f"step {index + 1}: {message}",
        step=index,
        fields={f"steps.{index}.{k}": v for k, v in fields.items()} or {f"steps.{index}": message},
    )


async def plan_steps(
    session: AsyncSession, tenant_id: int, steps: Sequence[Mapping[str, Any]]
) -> list[PlannedStep]:
    """Check a chain before anything is reserved; price each step."""
    if not isinstance(steps, Sequence) or not steps:
        raise ValidationError("a workflow needs at least one step", fields={"steps": "empty"})
    if len(steps) > MAX_STEPS:
        raise ValidationError(
            f"a workflow has at most {MAX_STEPS} steps", fields={"steps": "too many"}
        )
    planned: list[PlannedStep] = []
    for index, step in enumerate(steps):
        if not isinstance(step, Mapping) or not isinstance(step.get("tool"), str):
            raise _step_error(index, "each step needs a tool", tool="is required")
        params = step.get("params") or {}
        if not isinstance(params, Mapping):
            raise _step_error(index, "params must be an object", params="not an object")
        tool = await catalog.get_tool_row(session, step["tool"], tenant_id)
        files = catalog.input_params(tool)
        references: dict[str, tuple[int, str]] = {}
        for name, value in params.items():
            match = REFERENCE.match(value) if isinstance(value, str) else None
            if match is None:
                if isinstance(value, str) and value.startswith("$steps."):
                    raise _step_error(index, f"bad reference {value!r}", **{name: "bad reference"})
                continue
            source, what = int(match.group(1)), match.group(2)
            if source >= index:
                raise _step_error(
                    index,
                    f"{name} refers to a later step",
                    **{name: "must refer to an earlier step"},
                )
            produced = planned[source].tool.output_types
            if name in files:
                if what != "output" or files[name] not in produced:
                    raise _step_error(
                        index,
                        f"{name} needs an {files[name]} but step {source + 1} makes {produced}",
                        **{name: f"step {source + 1} does not make an {files[name]}"},
                    )
            elif what != "text" or "text" not in produced:
                raise _step_error(
                    index,
                    f"{name} can only take the text of an earlier text step",
                    **{name: "use $steps.<n>.text of a step that writes text"},
                )
            if name == tool.unit_param:
                raise _step_error(
                    index, f"{name} sets the price and must be a value", **{name: "must be a value"}
                )
            references[name] = (source, what)
        literal = {k: v for k, v in params.items() if k not in references}
        try:
            checked = catalog.validate_params(tool, literal, pending=frozenset(references))
        except ValidationError as exc:
            fields = exc.details.get("fields", {})
            raise ValidationError(
                f"step {index + 1}: {exc.message}",
                step=index,
                fields={f"steps.{index}.{k}": v for k, v in fields.items()},
            ) from exc
        setting = await catalog.tenant_setting_of(session, tenant_id, tool)
        planned.append(
            PlannedStep(tool, dict(params), references, catalog.price_for(tool, setting, checked))
        )
    return planned


async def quote_workflow(
    session: AsyncSession, tenant_id: int, steps: Sequence[Mapping[str, Any]]
) -> WorkflowQuote:
    """What a run of ``steps`` costs in this tenant, step by step and in total."""
    planned = await plan_steps(session, tenant_id, steps)
    return WorkflowQuote(
        price=sum(p.quote.price for p in planned),
        base_cost=sum(p.quote.base_cost for p in planned),
        steps=[p.quote for p in planned],
    )


async def start_workflow(
    session: AsyncSession,
    *,
    tenant_id: int,
    user_id: int,
    steps: Sequence[Mapping[str, Any]] | None = None,
    workflow_id: int | None = None,
    name: str | None = None,
    idempotency_key: str | None = None,
) -> WorkflowRun:
    """Price the chain, reserve every step, and start step 1 (after the caller commits).

    Give ``steps`` or the id of a saved workflow. Errors as for
    :func:`jobs.generation.service.create_job`; ``InsufficientFundsError`` carries the whole
    run's ``price`` and the fan's ``balance``. Nothing is created when it raises.
    """
    if idempotency_key is not None:
        existing = await session.scalar(
            tenant_select(WorkflowRun, tenant_id).where(
                WorkflowRun.idempotency_key == idempotency_key
            )
        )
        if existing is not None:
            if existing.user_id != user_id:
                raise ConflictError("idempotency key already used", run_id=existing.id)
            return existing
    tenant = await service.active_tenant(session, tenant_id)
    if await repo.lock_user(session, tenant_id, user_id) is None:
        raise NotFoundError("user not found", user_id=user_id)
    if workflow_id is not None:
        saved = await get_workflow(session, tenant_id, user_id, workflow_id)
        steps, name = saved.steps, name or saved.name
    if steps is None:
        raise ValidationError("give steps or a saved workflow", fields={"steps": "is required"})
    planned = await plan_steps(session, tenant_id, steps)
    await service.check_limits(session, tenant, user_id)
    total = sum(p.quote.price for p in planned)
    before = await ledger.user_balance(session, tenant_id, user_id)

    async with session.begin_nested():
        run = WorkflowRun(
            tenant_id=tenant_id,
            user_id=user_id,
            workflow_id=workflow_id,
            name=name,
            status=RunStatus.RUNNING,
            current_step=0,
            steps=[],
            price=total,
            base_cost=sum(p.quote.base_cost for p in planned),
            idempotency_key=idempotency_key,
        )
        session.add(run)
        await session.flush()
        snapshot: list[dict[str, Any]] = []
        for index, step in enumerate(planned):
            try:
                fan, platform = await service.reserve_credits(
                    session,
                    tenant_id,
                    user_id,
                    price=step.quote.price,
                    base_cost=step.quote.base_cost,
                    key=f"wfrun:{run.id}:step:{index}",
                    meta={"workflow_run_id": run.id, "step": index, "tool": step.tool.slug},
                )
            except InsufficientFundsError as exc:
                raise InsufficientFundsError(
                    "not enough credits for this workflow",
                    price=total,
                    balance=before.available,
                    workflow=name,
                ) from exc
            snapshot.append(
                {
                    "tool": step.tool.slug,
                    "params": step.params,
                    "units": step.quote.units,
                    "price": step.quote.price,
                    "base_cost": step.quote.base_cost,
                    "fan_reservation_id": fan,
                    "tenant_reservation_id": platform,
                    "status": "pending",
                    "job_id": None,
                }
            )
        first = await _create_step_job(session, run, snapshot, 0)
        snapshot[0].update(status="queued", job_id=first.id)
        run.steps = snapshot
        await session.flush()
    return run


async def _create_step_job(
    session: AsyncSession, run: WorkflowRun, snapshot: list[dict[str, Any]], index: int
) -> Job:
    step = snapshot[index]
    tool = await catalog.get_tool_row(session, step["tool"], run.tenant_id)
    files = catalog.input_params(tool)
    params: dict[str, Any] = {}
    inputs: dict[str, int] = {}
    for name, value in step["params"].items():
        match = REFERENCE.match(value) if isinstance(value, str) else None
        if match is None:
            params[name] = value
            continue
        source = snapshot[int(match.group(1))]
        if match.group(2) == "text":
            params[name] = source.get("text") or ""
        elif not source.get("file_ids"):
            raise ValidationError(f"step {int(match.group(1)) + 1} produced no file")
        elif name in files:
            inputs[name] = int(source["file_ids"][0])
    return await service.create_job(
        session,
        tenant_id=run.tenant_id,
        user_id=run.user_id,
        tool_slug=tool.slug,
        params=params,
        inputs=inputs,
        workflow_run_id=run.id,
        step_index=index,
        reservations=service.Reservations(
            fan=step["fan_reservation_id"], tenant=step["tenant_reservation_id"]
        ),
    )


async def on_step_succeeded(
    session: AsyncSession, job: Job, files: Sequence[File], text: str | None
) -> None:
    """Record the step's outputs and create the next step's job (or finish the run).

    Called by the worker inside the transaction that completes ``job``, so the step's success
    and the next job commit together — or neither does and the step runs again.
    """
    assert job.workflow_run_id is not None and job.step_index is not None
    run = await repo.get_run(session, job.tenant_id, job.workflow_run_id, for_update=True)
    if run is None or run.status != RunStatus.RUNNING:
        return
    snapshot = copy.deepcopy(run.steps)
    index = job.step_index
    snapshot[index].update(
        status="succeeded", job_id=job.id, file_ids=[f.id for f in files], text=text
    )
    if index + 1 == len(snapshot):
        run.status, run.finished_at, run.current_step = RunStatus.SUCCEEDED, utcnow(), index
        run.steps = snapshot
        await session.flush()
        return
    try:
        following = await _create_step_job(session, run, snapshot, index + 1)
    except AtelierError as exc:
        run.steps = snapshot
        await _end_run(
            session,
            run,
            index + 1,
            RunStatus.FAILED,
            f"step {index + 2} ({snapshot[index + 1]['tool']}) could not start: {exc.message}",
            release_from=index + 1,
        )
        return
    snapshot[index + 1].update(status="queued", job_id=following.id)
    run.steps, run.current_step = snapshot, index + 1
    await session.flush()


async def stop_run(session: AsyncSession, job: Job, status: JobStatus, message: str) -> None:
    """A step failed or was cancelled: end the run and release the steps that never ran.

    (The step's own hold is released by its job.)
    """
    if job.workflow_run_id is None or job.step_index is None:
        return
    run = await repo.get_run(session, job.tenant_id, job.workflow_run_id, for_update=True)
    if run is None or run.status != RunStatus.RUNNING:
        return
    run_status = RunStatus.CANCELLED if status == JobStatus.CANCELLED else RunStatus.FAILED
    verb = "was cancelled" if run_status is RunStatus.CANCELLED else "failed"
    snapshot = copy.deepcopy(run.steps)
    snapshot[job.step_index].update(status=status.value, job_id=job.id)
    run.steps = snapshot
    text = (
        f"Step {job.step_index + 1} ({job.tool_slug}) {verb}: {message}. The steps after it did"
        " not run and their credits were released."
    )
    await _end_run(session, run, job.step_index, run_status, text, release_from=job.step_index + 1)


async def _end_run(
    session: AsyncSession,
    run: WorkflowRun,
    index: int,
    status: RunStatus,
    message: str,
    *,
    release_from: int,
) -> None:
    snapshot = copy.deepcopy(run.steps)
    for later in range(release_from, len(snapshot)):
        step = snapshot[later]
        meta = {"workflow_run_id": run.id, "step": later}
        key = f"wfrun:{run.id}:step:{later}"
        await service.release_hold(
            session, run.tenant_id, step.get("fan_reservation_id"), f"{key}:release", meta
        )
        await service.release_hold(
            session,
            run.tenant_id,
            step.get("tenant_reservation_id"),
            f"{key}:tenant:release",
            meta,
        )
        if step.get("status") in ("pending", "queued"):
            step["status"] = "skipped"
    run.steps = snapshot
    run.status, run.current_step = status, index
    run.error_message, run.finished_at = message, utcnow()
    await session.flush()


async def cancel_workflow(
    session: AsyncSession, tenant_id: int, user_id: int, run_id: int, **kwargs: Any
) -> WorkflowRun:
    """Cancel the run's current step (which stops the run and releases the rest)."""
    run = await get_run(session, tenant_id, user_id, run_id)
    if run.status != RunStatus.RUNNING:
        raise JobFinishedError("the workflow has already finished", run_id=run_id)
    job_id = run.steps[run.current_step].get("job_id")
    if job_id is not None:
        await service.cancel_job(session, tenant_id, user_id, int(job_id), **kwargs)
    return await get_run(session, tenant_id, user_id, run_id)


async def get_run(session: AsyncSession, tenant_id: int, user_id: int, run_id: int) -> WorkflowRun:
    run = await repo.get_run(session, tenant_id, run_id, user_id=user_id)
    if run is None:
        raise NotFoundError("workflow run not found", run_id=run_id)
    return run


# -- saved workflows ----------------------------------------------------------------------------


async def save_workflow(
    session: AsyncSession,
    *,
    tenant_id: int,
    user_id: int,
    name: str,
    steps: Sequence[Mapping[str, Any]] | None = None,
    run_id: int | None = None,
    description: str | None = None,
) -> Workflow:
    """Save a chain under ``name`` — given as ``steps`` or taken from one of the user's runs
    (its steps with their references, not its outputs) — to start again later."""
    name = (name or "").strip()
    if not 0 < len(name) <= 128:
        raise ValidationError("a workflow needs a name", fields={"name": "1 to 128 characters"})
    if run_id is not None:
        run = await get_run(session, tenant_id, user_id, run_id)
        steps = [{"tool": s["tool"], "params": s["params"]} for s in run.steps]
    if steps is None:
        raise ValidationError("give steps or a run to save", fields={"steps": "is required"})
    planned = await plan_steps(session, tenant_id, steps)
    workflow = Workflow(
        tenant_id=tenant_id,
        user_id=user_id,
        name=name,
        description=description,
        steps=[{"tool": p.tool.slug, "params": p.params} for p in planned],
    )
    try:
        async with session.begin_nested():
            session.add(workflow)
            await session.flush()
    except IntegrityError as exc:
        raise ConflictError("you already have a workflow with this name", name=name) from exc
    return workflow


async def get_workflow(
    session: AsyncSession, tenant_id: int, user_id: int, workflow_id: int
) -> Workflow:
    workflow = await session.scalar(
        tenant_select(Workflow, tenant_id).where(
            Workflow.id == workflow_id, Workflow.user_id == user_id
        )
    )
    if workflow is None:
        raise NotFoundError("workflow not found", workflow_id=workflow_id)
    return workflow


async def list_workflows(session: AsyncSession, tenant_id: int, user_id: int) -> list[Workflow]:
    rows = await session.scalars(
        tenant_select(Workflow, tenant_id)
        .where(Workflow.user_id == user_id)
        .order_by(Workflow.name)
    )
    return list(rows.all())
