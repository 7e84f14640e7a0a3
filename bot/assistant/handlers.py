"""The assistant in every tenant bot: free text (any message that is not a command) goes to
:func:`bot.assistant.service.respond`; ``/reset`` clears its memory; the plan's buttons.

Registered after every command router and before the fallback, so it replaces the fallback's
"I can't answer free text" for tenant bots (the platform's manager bot keeps the fallback).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import CallbackQuery, Message
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from bot.runtime import BotRuntime

from bot.assistant import service
from bot.assistant.service import DROP, EDIT, RUN, Conversation
from bot.filters import CallbackIs, InlineFilter
from bot.generation.service import Chat
from bot.i18n import Texts
from bot.routing import BotRoute
from tenants.users import BotUser


class TenantText(InlineFilter):
    """Plain text (not a command) in a creator's bot."""

    def test(self, message: Message, data: dict[str, Any]) -> bool:
        text = message.text
        return bool(text) and not text.startswith("/") and not data["tenant"].is_platform  # type: ignore[union-attr]


async def free_text(
    message: Message,
    session: AsyncSession,
    redis: ArqRedis,
    user: BotUser,
    texts: Texts,
    route: BotRoute,
    runtime: BotRuntime,
) -> SendMessage:
    tenant = route.tenant
    quota = service.daily_quota(tenant.id, tenant.plan, tenant.config)
    talk = Conversation(runtime.settings, session, redis, user, texts, tenant.name, quota)
    reply = await service.respond(talk, message.text or "")
    return message.answer(reply.text, reply_markup=reply.markup)


async def reset_command(
    message: Message, redis: ArqRedis, user: BotUser, texts: Texts
) -> SendMessage:
    await service.reset(redis, user)
    return message.answer(texts("assistant.reset"))


async def run_button(
    callback: CallbackQuery,
    session: AsyncSession,
    redis: ArqRedis,
    user: BotUser,
    texts: Texts,
    bot: Bot,
) -> AnswerCallbackQuery:
    if not isinstance(callback.message, Message):
        return callback.answer()
    chat = Chat(bot, callback.message.chat.id, user, texts)
    reply = await service.run_plan(session, redis, chat, (callback.data or "").removeprefix(RUN))
    await callback.message.edit_reply_markup(reply_markup=None)
    if reply is not None:
        await callback.message.answer(reply.text, reply_markup=reply.markup)
    return callback.answer()


async def edit_button(
    callback: CallbackQuery, redis: ArqRedis, user: BotUser, texts: Texts
) -> AnswerCallbackQuery:
    await service.take_plan(redis, (callback.data or "").removeprefix(EDIT), user)
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
        await callback.message.answer(texts("assistant.edit"))
    return callback.answer()


async def drop_button(
    callback: CallbackQuery, redis: ArqRedis, user: BotUser, texts: Texts
) -> AnswerCallbackQuery:
    await service.take_plan(redis, (callback.data or "").removeprefix(DROP), user)
    if isinstance(callback.message, Message):
        await callback.message.edit_reply_markup(reply_markup=None)
    return callback.answer(texts("assistant.plan_cancelled"))


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent)."""
    router = Router(name="assistant")
    router.message.register(reset_command, Command("reset"))
    router.message.register(free_text, TenantText())
    router.callback_query.register(run_button, CallbackIs(RUN, prefix=True))
    router.callback_query.register(edit_button, CallbackIs(EDIT, prefix=True))
    router.callback_query.register(drop_button, CallbackIs(DROP, prefix=True))
    return router
