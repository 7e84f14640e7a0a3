"""``/balance``: the fan's credits, read from the ledger."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import CallbackIs
from bot.i18n import Texts
from core import ledger
from tenants.users import BotUser


async def balance_text(session: AsyncSession, user: BotUser, texts: Texts) -> str:
    balance = await ledger.user_balance(session, user.tenant_id, user.id)
    return texts("balance.show", balance=balance.available)


async def balance_command(
    message: Message, session: AsyncSession, user: BotUser, texts: Texts
) -> SendMessage:
    return message.answer(await balance_text(session, user, texts))


async def balance_button(
    callback: CallbackQuery, session: AsyncSession, user: BotUser, texts: Texts
) -> Any:
    if isinstance(callback.message, Message):
        await callback.message.answer(await balance_text(session, user, texts))
    return callback.answer()


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent)."""
    router = Router(name="wallet")
    router.message.register(balance_command, Command("balance"))
    router.callback_query.register(balance_button, CallbackIs("menu:balance"))
    return router
