"""The words around tasks, the same in the bot and the Mini App: reward lists, task lines,
the XP header and what a claim's outcome means for the fan. ``t`` is the fan's ``Texts``."""

from __future__ import annotations

from core.models import Task, TaskKind
from tenants.tasks.levels import Level, Translate
from tenants.tasks.service import ClaimResult, FanTask, Outcome

MARKS = {"completed": "✅", "pending": "⏳", "rejected": "❌", "available": "⬜"}


def reward_text(t: Translate, task: Task) -> str:
    parts = []
    if task.reward_xp:
        parts.append(t("tasks.reward_xp", xp=task.reward_xp))
    if task.reward_credits:
        parts.append(t("tasks.reward_credits", credits=task.reward_credits))
    if task.reward_post_id:
        parts.append(t("tasks.reward_post"))
    return ", ".join(parts)


def task_line(t: Translate, item: FanTask) -> str:
    task = item.task
    values = {
        "mark": MARKS.get(item.status, MARKS["available"]),
        "title": task.title,
        "reward": reward_text(t, task),
    }
    if item.progress is not None and item.status != "completed":
        progress = min(item.progress, task.target)
        return t("tasks.line_progress", progress=progress, target=task.target, **values)
    return t("tasks.line", **values)


def header(t: Translate, level: Level) -> str:
    text = t("tasks.header", level=level.number, level_name=level.name, xp=level.xp)
    if level.next_at is not None:
        text = f"{text}\n{t('tasks.next_level', missing=level.next_at - level.xp)}"
    return text


def outcome_text(t: Translate, result: ClaimResult) -> str:
    task = result.task
    match result.outcome:
        case Outcome.COMPLETED:
            return t("tasks.completed", title=task.title, reward=reward_text(t, task))
        case Outcome.ALREADY_COMPLETED:
            return t("tasks.already", title=task.title)
        case Outcome.PENDING_REVIEW:
            return t("tasks.pending", title=task.title)
        case Outcome.PROOF_REQUIRED:
            return t("tasks.proof_in_app")
        case Outcome.UNAVAILABLE:
            return t("tasks.unavailable")
    return _not_yet(t, result)


def _not_yet(t: Translate, result: ClaimResult) -> str:
    task = result.task
    if task.kind == TaskKind.JOIN_CHANNEL:
        return t("tasks.not_joined", chat=task.chat_title or task.title)
    key = (
        "tasks.not_enough_friends"
        if task.kind == TaskKind.INVITE_FRIENDS
        else "tasks.not_enough_days"
    )
    return t(key, progress=result.progress or 0, target=task.target)
