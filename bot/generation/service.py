"""Generation from chat: start a job or a workflow run, show one progress message, explain
refusals in the fan's words.

The job itself is :mod:`jobs.generation`'s business; this module adds the chat around it. A
started job gets a progress message at once (sent by a direct call, because its id must be
recorded), and :func:`jobs.notify.track` tells the worker where it is, so the worker can edit
it and send the result. A refusal (bad parameters, too little credit, a plan limit, a tenant
out of platform balance) becomes a :class:`Reply` and nothing was created or charged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.types import InlineKeyboardMarkup
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from bot.generation.keyboards import buy_keyboard
from bot.i18n import Texts
from core.errors import (
    AtelierError,
    InsufficientFundsError,
    NotFoundError,
    ValidationError,
)
from core.models.jobs import Job, JobStatus, WorkflowRun
from jobs.catalog import service as catalog
from jobs.generation import service as generation
from jobs.generation import workflows
from jobs.generation.errors import JobFinishedError, PlanLimitError, TenantUnavailableError
from jobs.notify import Delivery, cancel_keyboard, record_key, track
from tenants.users import BotUser

MAX_PROBLEMS = 5


@dataclass(frozen=True, slots=True)
class Reply:
    """A chat answer: text and an optional keyboard."""

    text: str
    markup: InlineKeyboardMarkup | None = None


@dataclass(frozen=True, slots=True)
class Chat:
    """Where a generation was asked for: the tenant's bot and the fan's chat."""

    bot: Bot
    chat_id: int
    user: BotUser
    texts: Texts


def refusal(texts: Texts, exc: AtelierError) -> Reply:
    """The fan's words for a refused generation; other errors go to the bot's error handler."""
    if isinstance(exc, InsufficientFundsError):
        text = texts(
            "gen.insufficient",
            price=exc.details.get("price", 0),
            balance=exc.details.get("balance", 0),
        )
        return Reply(text, buy_keyboard(texts))
    if isinstance(exc, TenantUnavailableError):
        return Reply(texts("error.tenant_unavailable"))
    if isinstance(exc, PlanLimitError):
        return Reply(texts("gen.plan_limit"))
    if isinstance(exc, JobFinishedError):
        return Reply(texts("gen.cancel_finished"))
    if isinstance(exc, ValidationError):
        return Reply(texts("gen.invalid", problems=problems_text(texts, exc)))
    if isinstance(exc, NotFoundError):
        return Reply(texts("gen.unknown_tool"))
    raise exc


def problems_text(texts: Texts, exc: ValidationError) -> str:
    """One line per bad field. JSON Schema quotes the value in some messages ("'…' is too
    long"): a long prompt must not come back at the fan, so those get our own words."""
    fields: Mapping[str, str] = exc.details.get("fields") or {}
    lines = []
    for name, message in list(fields.items())[:MAX_PROBLEMS]:
        field = name.rsplit(".", 1)[-1]
        if "too long" in message:
            message = texts("gen.too_long")
        elif len(message) > 120:
            message = message[:117] + "…"
        lines.append(f"• {field}: {message}")
    return "\n".join(lines) or exc.message


async def tool_name(session: AsyncSession, tenant_id: int, slug: str, locale: str) -> str:
    try:
        return (await catalog.get_tool(session, tenant_id, slug, language=locale)).name
    except NotFoundError:
        return slug


async def _announce(
    chat: Chat, redis: Redis, kind: str, ident: int, text: str, steps: int = 1
) -> None:
    markup = cancel_keyboard(chat.texts("gen.cancel_button"), kind, ident)
    sent = await chat.bot.send_message(chat.chat_id, text, reply_markup=markup)
    await track(
        redis,
        Delivery(
            kind="job" if kind == "job" else "run",
            id=ident,
            tenant_id=chat.user.tenant_id,
            telegram_bot_id=chat.bot.id,
            chat_id=chat.chat_id,
            message_id=sent.message_id,
            locale=chat.texts.locale,
            steps=steps,
        ),
    )


async def start_tool(
    session: AsyncSession,
    redis: Redis,
    chat: Chat,
    tool_slug: str,
    params: Mapping[str, Any],
    inputs: Mapping[str, int] | None = None,
) -> Reply | None:
    """Create a job for one tool and show its progress message; a :class:`Reply` when
    refused (nothing created)."""
    user = chat.user
    try:
        job = await generation.create_job(
            session,
            tenant_id=user.tenant_id,
            user_id=user.id,
            tool_slug=tool_slug,
            params=params,
            inputs=inputs,
        )
    except AtelierError as exc:
        return refusal(chat.texts, exc)
    name = await tool_name(session, user.tenant_id, job.tool_slug, chat.texts.locale)
    await _announce(chat, redis, "job", job.id, chat.texts("gen.queued", tool=name))
    return None


async def start_steps(
    session: AsyncSession,
    redis: Redis,
    chat: Chat,
    steps: Sequence[Mapping[str, Any]],
    name: str | None = None,
) -> Reply | None:
    """Start a workflow run (all steps reserved up front) with one progress message."""
    user = chat.user
    try:
        run = await workflows.start_workflow(
            session, tenant_id=user.tenant_id, user_id=user.id, steps=steps, name=name
        )
    except AtelierError as exc:
        return refusal(chat.texts, exc)
    first = await tool_name(session, user.tenant_id, run.steps[0]["tool"], chat.texts.locale)
    text = chat.texts("gen.queued", tool=first)
    await _announce(chat, redis, "run", run.id, text, steps=len(run.steps))
    return None


async def rerun(
    session: AsyncSession, redis: Redis, chat: Chat, kind: str, ident: int
) -> Reply | None:
    """Run a finished job (same tool, parameters and inputs) or a whole run again."""
    user = chat.user
    try:
        if kind == "run":
            run = await workflows.get_run(session, user.tenant_id, user.id, ident)
            steps = [{"tool": s["tool"], "params": s["params"]} for s in run.steps]
            return await start_steps(session, redis, chat, steps, run.name)
        job = await generation.get_job(session, user.tenant_id, user.id, ident)
    except AtelierError as exc:
        return refusal(chat.texts, exc)
    return await start_tool(session, redis, chat, job.tool_slug, job.params, job.inputs)


async def cancel(session: AsyncSession, redis: Redis, chat: Chat, kind: str, ident: int) -> Reply:
    """Cancel a job or a run. A queued one ends here and now (its progress message says so);
    a running one is asked to stop and the worker finishes the message."""
    user = chat.user
    try:
        if kind == "run":
            target: Job | WorkflowRun = await workflows.cancel_workflow(
                session, user.tenant_id, user.id, ident, redis=redis
            )
        else:
            target = await generation.cancel_job(
                session, user.tenant_id, user.id, ident, redis=redis
            )
    except AtelierError as exc:
        return refusal(chat.texts, exc)
    if target.status in (JobStatus.CANCELLED, "cancelled"):
        await _close_progress(redis, chat, kind, ident)
        if isinstance(target, Job) and target.workflow_run_id is not None:
            await _close_progress(redis, chat, "run", target.workflow_run_id)
        return Reply(chat.texts("gen.cancelled"))
    return Reply(chat.texts("gen.cancel_requested"))


async def _close_progress(redis: Redis, chat: Chat, kind: str, ident: int) -> None:
    raw = await redis.getdel(record_key(kind, ident))
    if raw is None:
        return
    delivery = Delivery.model_validate_json(raw)
    await chat.bot.edit_message_text(
        text=chat.texts("gen.cancelled"),
        chat_id=delivery.chat_id,
        message_id=delivery.message_id,
        reply_markup=None,
    )


async def latest_active(session: AsyncSession, user: BotUser) -> Job | None:
    jobs = await generation.list_jobs(session, user.tenant_id, user.id, limit=1, active_only=True)
    return jobs[0] if jobs else None


async def jobs_text(session: AsyncSession, user: BotUser, texts: Texts, limit: int = 10) -> str:
    """The fan's recent jobs, newest first, with their status in words."""
    jobs = await generation.list_jobs(session, user.tenant_id, user.id, limit=limit)
    if not jobs:
        return texts("gen.jobs_empty")
    names: dict[str, str] = {}
    lines = [texts("gen.jobs_header")]
    for job in jobs:
        if job.tool_slug not in names:
            names[job.tool_slug] = await tool_name(
                session, user.tenant_id, job.tool_slug, texts.locale
            )
        status = texts(f"gen.status_{JobStatus(job.status).value}")
        progress = f" {job.progress}%" if job.status == JobStatus.RUNNING else ""
        lines.append(f"#{job.id} {names[job.tool_slug]} — {status}{progress}")
    return "\n".join(lines)
