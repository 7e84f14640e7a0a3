"""Task rules shared by the bot's ``/tasks``, the fans' API and the creator panel.

A claim is verified here, on the server, from our own records or Telegram: a join-a-channel
task asks ``getChatMember`` through the tenant's bot, invite-friends counts the fan's referrals
(all of them, whenever made), open-the-app counts consecutive UTC days with a Mini App open, and
a custom task waits for a creator to approve the proof the fan sent.

A task is rewarded exactly once per fan: the completion row moves to ``completed`` in one
conditional statement (:func:`tenants.tasks.repository.complete`, UNIQUE (task, fan)), and only
the caller whose statement moved it gives the reward — XP is the completion's own ``xp``,
credits go through the ledger keyed ``task:{task id}:{user id}``. A post-unlock reward is
stored as ``reward_post_id``; granting the unlock waits for the posts area (see
:func:`_reward`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession

from core import ledger
from core.errors import ConflictError, NotFoundError, ValidationError
from core.models import CompletionStatus, Task, TaskCompletion, TaskKind, TaskProblem
from tenants.content import repository as content_repo
from tenants.content import service as content
from tenants.stats.activity import app_streak, utc_day
from tenants.tasks import levels, verify
from tenants.tasks import repository as repo
from tenants.tasks.errors import AlreadyReviewedError, TaskNotFoundError

logger = logging.getLogger(__name__)

MAX_TASKS = 100
MAX_TARGET = {TaskKind.INVITE_FRIENDS: 1000, TaskKind.OPEN_APP_STREAK: 365}
MAX_REWARD_XP = 100_000
MAX_REWARD_CREDITS = 1_000_000
MAX_PROOF_CHARS = 2000


class Outcome(StrEnum):
    COMPLETED = "completed"  # rewarded just now
    PENDING_REVIEW = "pending_review"  # proof stored, a creator will decide
    NOT_YET = "not_yet"  # not done yet (``progress`` says how far)
    ALREADY_COMPLETED = "already_completed"
    PROOF_REQUIRED = "proof_required"  # a custom task claimed without proof
    UNAVAILABLE = "unavailable"  # cannot be checked now (bot lost its rights, Telegram down)


@dataclass(frozen=True, slots=True)
class TaskDraft:
    """A task as the panel sends it; ``chat`` only for join-a-channel tasks."""

    kind: TaskKind
    title: str
    description: str = ""
    target: int = 1
    chat: str | None = None
    chat_url: str | None = None
    reward_xp: int = 0
    reward_credits: int = 0
    reward_post_id: int | None = None
    is_active: bool = True
    position: int = 0


@dataclass(frozen=True, slots=True)
class FanTask:
    task: Task
    status: str  # "available" or a CompletionStatus value
    progress: int | None  # friends invited / streak days so far; None when not counted


@dataclass(frozen=True, slots=True)
class ClaimResult:
    outcome: Outcome
    task: Task
    progress: int | None = None
    xp: int = 0
    credits: int = 0


@dataclass(frozen=True, slots=True)
class ReviewResult:
    completion: TaskCompletion
    task: Task
    approved: bool


# -- the creator's side ----------------------------------------------------------------------


async def create_task(
    session: AsyncSession, bot: Bot | None, tenant_id: int, draft: TaskDraft
) -> Task:
    """Check and store a task; a join-a-channel task needs the bot to be admin of the chat."""
    existing = await repo.list_tasks(session, tenant_id, active_only=False)
    if len(existing) >= MAX_TASKS:
        raise ConflictError(f"a bot can have at most {MAX_TASKS} tasks")
    _check_draft(draft)
    await _check_reward_post(session, tenant_id, draft.reward_post_id)
    task = Task(
        tenant_id=tenant_id,
        kind=draft.kind.value,
        title=draft.title.strip(),
        description=draft.description.strip(),
        target=draft.target if draft.kind in MAX_TARGET else 1,
        reward_xp=draft.reward_xp,
        reward_credits=draft.reward_credits,
        reward_post_id=draft.reward_post_id,
        is_active=draft.is_active,
        position=draft.position,
    )
    if draft.kind is TaskKind.JOIN_CHANNEL:
        await _attach_chat(task, bot, draft.chat, draft.chat_url)
    session.add(task)
    await session.flush()
    return task


async def update_task(
    session: AsyncSession, bot: Bot | None, tenant_id: int, task_id: int, changes: Mapping[str, Any]
) -> Task:
    """Apply the given fields (the kind never changes); a new chat is checked again.
    Completions keep the reward they were given."""
    task = await get_task(session, tenant_id, task_id)
    merged = TaskDraft(
        kind=TaskKind(task.kind),
        title=changes.get("title", task.title),
        description=changes.get("description", task.description),
        target=changes.get("target", task.target),
        chat=changes.get("chat"),
        chat_url=changes.get("chat_url", task.chat_url),
        reward_xp=changes.get("reward_xp", task.reward_xp),
        reward_credits=changes.get("reward_credits", task.reward_credits),
        reward_post_id=changes.get("reward_post_id", task.reward_post_id),
        is_active=changes.get("is_active", task.is_active),
        position=changes.get("position", task.position),
    )
    _check_draft(merged, editing=True)
    if "reward_post_id" in changes:
        await _check_reward_post(session, tenant_id, merged.reward_post_id)
    for name in ("title", "description"):
        setattr(task, name, getattr(merged, name).strip())
    for name in ("reward_xp", "reward_credits", "reward_post_id", "is_active", "position"):
        setattr(task, name, getattr(merged, name))
    if merged.kind in MAX_TARGET:
        task.target = merged.target
    if merged.kind is TaskKind.JOIN_CHANNEL:
        if merged.chat:
            await _attach_chat(task, bot, merged.chat, merged.chat_url)
        else:
            task.chat_url = merged.chat_url
    await session.flush()
    return task


async def archive_task(session: AsyncSession, tenant_id: int, task_id: int) -> Task:
    """Hide a task from fans. Rows stay: fans keep the XP their completions gave."""
    task = await get_task(session, tenant_id, task_id)
    task.is_active = False
    await session.flush()
    return task


async def recheck_chat(
    session: AsyncSession, bot: Bot, tenant_id: int, task_id: int
) -> verify.ChatAccess:
    """Ask Telegram again whether the bot can verify this task; records the answer."""
    task = await get_task(session, tenant_id, task_id)
    if task.kind != TaskKind.JOIN_CHANNEL or task.chat_id is None:
        raise ValidationError("only join-a-channel tasks point at a chat")
    access = await verify.chat_access(bot, task.chat_id)
    task.problem = access.problem
    await session.flush()
    return access


async def get_task(session: AsyncSession, tenant_id: int, task_id: int) -> Task:
    task = await repo.get_task(session, tenant_id, task_id)
    if task is None:
        raise TaskNotFoundError("no such task", task_id=task_id)
    return task


def _check_draft(draft: TaskDraft, *, editing: bool = False) -> None:
    if not draft.title.strip():
        raise ValidationError("a task needs a title", field="title")
    limit = MAX_TARGET.get(draft.kind)
    if limit is not None and not 1 <= draft.target <= limit:
        raise ValidationError(f"the target is between 1 and {limit}", field="target")
    if not 0 <= draft.reward_xp <= MAX_REWARD_XP:
        raise ValidationError(f"XP is between 0 and {MAX_REWARD_XP}", field="reward_xp")
    if not 0 <= draft.reward_credits <= MAX_REWARD_CREDITS:
        raise ValidationError(
            f"credits are between 0 and {MAX_REWARD_CREDITS}", field="reward_credits"
        )
    if not (draft.reward_xp or draft.reward_credits or draft.reward_post_id):
        raise ValidationError("a task needs a reward: XP, credits or a post", field="reward")
    if draft.kind is TaskKind.JOIN_CHANNEL and not editing and not draft.chat:
        raise ValidationError("a join-a-channel task needs the channel", field="chat")
    if draft.chat_url is not None and not draft.chat_url.startswith("https://"):
        raise ValidationError("the join link starts with https://", field="chat_url")


async def _check_reward_post(session: AsyncSession, tenant_id: int, post_id: int | None) -> None:
    if post_id is not None and await content_repo.get_post(session, tenant_id, post_id) is None:
        raise NotFoundError("post not found", post_id=post_id)


async def _attach_chat(task: Task, bot: Bot | None, chat: str | None, url: str | None) -> None:
    if bot is None or chat is None:
        raise ValidationError("a join-a-channel task needs the channel", field="chat")
    access = await verify.require_admin_chat(bot, verify.parse_chat_ref(chat))
    task.chat_id = access.chat_id
    task.chat_title = access.title
    task.chat_url = url or access.public_url
    task.problem = None


# -- the fan's side --------------------------------------------------------------------------


async def fan_tasks(
    session: AsyncSession, tenant_id: int, user_id: int, *, today: date
) -> list[FanTask]:
    """The active tasks with the fan's status and progress, in the creator's order."""
    tasks = await repo.list_tasks(session, tenant_id, active_only=True)
    done = await repo.completions_of(session, tenant_id, user_id)
    progress = await _progress(session, tenant_id, user_id, tasks, today)
    result = []
    for task in tasks:
        completion = done.get(task.id)
        status = str(completion.status) if completion is not None else "available"
        counted = progress.get(TaskKind(task.kind))
        result.append(FanTask(task=task, status=status, progress=counted))
    return result


async def _progress(
    session: AsyncSession, tenant_id: int, user_id: int, tasks: Sequence[Task], today: date
) -> dict[TaskKind, int]:
    kinds = {TaskKind(task.kind) for task in tasks}
    found: dict[TaskKind, int] = {}
    if TaskKind.INVITE_FRIENDS in kinds:
        found[TaskKind.INVITE_FRIENDS] = await repo.referral_count(session, tenant_id, user_id)
    if TaskKind.OPEN_APP_STREAK in kinds:
        longest = max(t.target for t in tasks if t.kind == TaskKind.OPEN_APP_STREAK)
        found[TaskKind.OPEN_APP_STREAK] = await app_streak(
            session, tenant_id=tenant_id, user_id=user_id, today=today, longest=longest
        )
    return found


async def claim(
    session: AsyncSession,
    bot: Bot | None,
    *,
    tenant_id: int,
    user_id: int,
    telegram_id: int,
    task_id: int,
    proof: str | None = None,
    now: datetime,
) -> ClaimResult:
    """Verify the task for the fan and reward it if it is done (exactly once)."""
    task = await get_task(session, tenant_id, task_id)
    if not task.is_active:
        raise TaskNotFoundError("no such task", task_id=task_id)
    kind = TaskKind(task.kind)
    if kind is TaskKind.CUSTOM:
        return await _submit(session, task, user_id, proof)
    existing = (await repo.completions_of(session, tenant_id, user_id)).get(task.id)
    if existing is not None and existing.status == CompletionStatus.COMPLETED:
        return ClaimResult(Outcome.ALREADY_COMPLETED, task)
    progress: int | None = None
    if kind is TaskKind.JOIN_CHANNEL:
        verdict = await _joined(session, bot, task, telegram_id)
        if verdict is None:
            return ClaimResult(Outcome.UNAVAILABLE, task)
        done = verdict
    else:
        progress = (await _progress(session, tenant_id, user_id, [task], utc_day(now))).get(kind, 0)
        done = progress >= task.target
    if not done:
        return ClaimResult(Outcome.NOT_YET, task, progress)
    return await _complete(session, task, user_id, now, progress)


async def _joined(
    session: AsyncSession, bot: Bot | None, task: Task, telegram_id: int
) -> bool | None:
    """Membership now, or None when it cannot be checked (the task's problem is recorded)."""
    if bot is None or task.chat_id is None:
        return None
    try:
        joined = await verify.is_member(bot, task.chat_id, telegram_id)
    except verify.ChatUnreachableError as exc:
        if exc.problem is not None and task.problem != exc.problem:
            await repo.set_problem(session, task.tenant_id, task.id, exc.problem)
            logger.warning(
                "task cannot be verified: %s",
                exc.problem.value,
                extra={"tenant_id": task.tenant_id, "task_id": task.id},
            )
        return None
    if task.problem is not None:
        await repo.set_problem(session, task.tenant_id, task.id, None)
    return joined


async def _complete(
    session: AsyncSession, task: Task, user_id: int, now: datetime, progress: int | None
) -> ClaimResult:
    completion_id = await repo.complete(
        session,
        tenant_id=task.tenant_id,
        task_id=task.id,
        user_id=user_id,
        xp=task.reward_xp,
        credits=task.reward_credits,
        now=now,
    )
    if completion_id is None:  # a racing claim completed it first
        return ClaimResult(Outcome.ALREADY_COMPLETED, task, progress)
    await _reward(session, task, user_id, completion_id)
    return ClaimResult(
        Outcome.COMPLETED, task, progress, xp=task.reward_xp, credits=task.reward_credits
    )


async def _submit(
    session: AsyncSession, task: Task, user_id: int, proof: str | None
) -> ClaimResult:
    text = (proof or "").strip()
    if not text:
        return ClaimResult(Outcome.PROOF_REQUIRED, task)
    if len(text) > MAX_PROOF_CHARS:
        raise ValidationError(f"the proof has at most {MAX_PROOF_CHARS} characters", field="proof")
    stored = await repo.submit_proof(
        session, tenant_id=task.tenant_id, task_id=task.id, user_id=user_id, proof=text
    )
    if stored is None:
        return ClaimResult(Outcome.ALREADY_COMPLETED, task)
    return ClaimResult(Outcome.PENDING_REVIEW, task)


async def _reward(session: AsyncSession, task: Task, user_id: int, completion_id: int) -> None:
    """Give what the task promised; called only by the claim that completed it.

    Posts open through the posts area's idempotent ``grant_unlock``: the reward post, and every
    post whose access is "complete this task". A post deleted since is skipped, not an error:
    the fan keeps the rest of the reward.
    """
    if task.reward_credits:
        account = await ledger.get_or_create_account(session, task.tenant_id, user_id=user_id)
        await ledger.credit(
            session,
            task.tenant_id,
            account.id,
            task.reward_credits,
            idempotency_key=f"task:{task.id}:{user_id}",
            reason="task reward",
            meta={"task_id": task.id, "completion_id": completion_id},
        )
    posts = await content.posts_unlocked_by_task(session, task.tenant_id, task.id)
    if task.reward_post_id and task.reward_post_id not in posts:
        posts.append(task.reward_post_id)
    for post_id in posts:
        try:
            await content.grant_unlock(
                session,
                tenant_id=task.tenant_id,
                user_id=user_id,
                post_id=post_id,
                source="task",
                source_ref=f"task:{task.id}",
            )
        except NotFoundError:
            logger.warning("task reward post is gone", extra={"post_id": post_id})
    logger.info(
        "task completed",
        extra={"tenant_id": task.tenant_id, "task_id": task.id, "user_id": user_id},
    )


async def review(
    session: AsyncSession,
    tenant_id: int,
    completion_id: int,
    *,
    approve: bool,
    by_telegram_id: int,
    now: datetime,
) -> ReviewResult:
    """Approve (and reward, once) or reject a fan's proof."""
    completion = await repo.get_completion(session, tenant_id, completion_id)
    if completion is None:
        raise TaskNotFoundError("no such submission", completion_id=completion_id)
    task = await get_task(session, tenant_id, completion.task_id)
    moved = await repo.review(
        session,
        tenant_id=tenant_id,
        completion_id=completion_id,
        approve=approve,
        by_telegram_id=by_telegram_id,
        xp=task.reward_xp,
        credits=task.reward_credits,
        now=now,
    )
    if not moved:
        raise AlreadyReviewedError("this submission was already reviewed")
    if approve:
        await _reward(session, task, completion.user_id, completion_id)
    await session.refresh(completion)
    return ReviewResult(completion=completion, task=task, approved=approve)


async def xp_of(session: AsyncSession, tenant_id: int, user_id: int) -> int:
    return await repo.xp_of(session, tenant_id, user_id)


async def task_counts(session: AsyncSession, tenant_id: int) -> dict[int, dict[str, int]]:
    return await repo.completion_counts(session, tenant_id)


async def pending_count(session: AsyncSession, tenant_id: int) -> int:
    counts = await repo.completion_counts(session, tenant_id)
    return sum(c.get(CompletionStatus.PENDING.value, 0) for c in counts.values())


def problem_of(task: Task) -> TaskProblem | None:
    return TaskProblem(task.problem) if task.problem else None


async def fan_level(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    config: Mapping[str, Any],
    language: str,
    fallback_language: str,
    translate: levels.Translate,
) -> levels.Level:
    """The fan's XP (the sum of their completions) and the level it reaches."""
    xp = await repo.xp_of(session, tenant_id, user_id)
    return levels.level_of(
        xp,
        levels.ladder(config),
        language=language,
        fallback_language=fallback_language,
        translate=translate,
    )
