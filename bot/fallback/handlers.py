"""Whatever no feature claimed gets a helpful answer in the fan's language."""

from __future__ import annotations

from aiogram import Router
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import CallbackQuery, Message

from bot.filters import SlashText
from bot.i18n import Texts


async def unknown_command(message: Message, texts: Texts) -> SendMessage:
    command = (message.text or "/").split(maxsplit=1)[0].split("@", 1)[0]
    return message.answer(texts("fallback.command", command=command))


async def stray_message(message: Message, texts: Texts) -> SendMessage:
    return message.answer(texts("fallback.text"))


async def stale_button(callback: CallbackQuery) -> AnswerCallbackQuery:
    return callback.answer()


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent)."""
    router = Router(name="fallback")
    router.message.register(unknown_command, SlashText())
    router.message.register(stray_message)
    router.callback_query.register(stale_button)
    return router
