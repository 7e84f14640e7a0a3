"""``/language`` (inline buttons; the choice is stored and used by every later text) and
``/cancel`` (leave whatever flow the fan is in)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, Message
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import CallbackIs
from bot.i18n import Texts
from bot.menu import language_keyboard
from bot.routing import TenantInfo
from tenants.users import BotUser, forget_snapshot, set_language


async def language_command(message: Message, texts: Texts, tenant: TenantInfo) -> SendMessage:
    keyboard = language_keyboard(texts.locale, tenant.languages)
    return message.answer(texts("language.prompt"), reply_markup=keyboard)


async def language_button(callback: CallbackQuery, texts: Texts, tenant: TenantInfo) -> Any:
    if isinstance(callback.message, Message):
        await callback.message.answer(
            texts("language.prompt"), reply_markup=language_keyboard(texts.locale, tenant.languages)
        )
    return callback.answer()


async def choose_language(
    callback: CallbackQuery,
    session: AsyncSession,
    user: BotUser,
    texts: Texts,
    tenant: TenantInfo,
    redis: ArqRedis,
    after_commit: list[Callable[[], Awaitable[Any]]],
) -> Any:
    language = (callback.data or "").removeprefix("lang:")
    if language not in tenant.languages:  # an old keyboard, or a language since disabled
        return callback.answer()
    await set_language(session, user, language)
    after_commit.append(partial(forget_snapshot, redis, user.tenant_id, user.telegram_id))
    chosen = texts.with_locale(language)
    if isinstance(callback.message, Message):
        await callback.message.answer(chosen("language.changed"))
    return callback.answer()


async def cancel(
    message: Message, state: FSMContext, raw_state: str | None, texts: Texts
) -> SendMessage:
    if raw_state is None:
        return message.answer(texts("cancel.nothing"))
    await state.clear()
    return message.answer(texts("cancel.done"))


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent)."""
    router = Router(name="settings")
    router.message.register(language_command, Command("language"))
    router.callback_query.register(language_button, CallbackIs("menu:language"))
    router.callback_query.register(choose_language, CallbackIs("lang:", prefix=True))
    router.message.register(cancel, Command("cancel"))
    return router
