"""``/tasks`` lists the tasks with the fan's XP and level; each open task has a button —
"Check" (verified on the server and rewarded once) or, for tasks the creator reviews, one that
opens the Mini App where the fan sends their proof."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    WebAppInfo,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import CallbackIs
from bot.i18n import Texts
from bot.menu import app_url
from bot.routing import BotRoute, TenantInfo
from core.db import utcnow
from core.models import TaskKind
from tenants.stats.activity import utc_day
from tenants.tasks import messages, service
from tenants.tasks.errors import TaskNotFoundError
from tenants.users import BotUser

if TYPE_CHECKING:
    from bot.runtime import BotRuntime

CALLBACK = "task:"
OPEN = ("available", "rejected")


async def tasks_view(
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    url: str,
) -> tuple[str, InlineKeyboardMarkup | None]:
    items = await service.fan_tasks(session, tenant.id, user.id, today=utc_day(utcnow()))
    level = await service.fan_level(
        session,
        tenant.id,
        user.id,
        config=tenant.config,
        language=texts.locale,
        fallback_language=tenant.default_language,
        translate=texts,
    )
    if not items:
        return f"{messages.header(texts, level)}\n\n{texts('tasks.empty')}", None
    lines = [messages.header(texts, level), ""]
    lines += [messages.task_line(texts, item) for item in items]
    rows = [[_button(texts, item, url)] for item in items if item.status in OPEN]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _button(texts: Texts, item: service.FanTask, url: str) -> InlineKeyboardButton:
    task = item.task
    if task.kind == TaskKind.CUSTOM:
        return InlineKeyboardButton(
            text=texts("tasks.proof_button", title=task.title),
            web_app=WebAppInfo(url=f"{url}#tasks"),
        )
    return InlineKeyboardButton(
        text=texts("tasks.check_button", title=task.title), callback_data=f"{CALLBACK}{task.id}"
    )


async def tasks_command(
    message: Message,
    session: AsyncSession,
    tenant: TenantInfo,
    route: BotRoute,
    user: BotUser,
    texts: Texts,
    runtime: BotRuntime,
) -> SendMessage:
    url = app_url(runtime.settings.public_base_url, route.telegram_bot_id)
    text, markup = await tasks_view(session, tenant, user, texts, url)
    return message.answer(text, reply_markup=markup)


async def check_button(
    callback: CallbackQuery,
    bot: Bot,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
) -> Any:
    try:
        task_id = int((callback.data or "").removeprefix(CALLBACK))
        result = await service.claim(
            session,
            bot,
            tenant_id=tenant.id,
            user_id=user.id,
            telegram_id=user.telegram_id,
            task_id=task_id,
            now=utcnow(),
        )
        text = messages.outcome_text(texts, result)
    except (ValueError, TaskNotFoundError):
        text = texts("tasks.gone")
    if isinstance(callback.message, Message):
        await callback.message.answer(text)
    return callback.answer()


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent)."""
    router = Router(name="tasks")
    router.message.register(tasks_command, Command("tasks"))
    router.callback_query.register(check_button, CallbackIs(CALLBACK, prefix=True))
    return router
