"""Stars invoices in chat. The rules of an invoice (currency ``XTR``, an empty provider token,
exactly one price, a payload naming an order written first) live in :mod:`tenants.payments`,
shared with the Mini App API; this module adds the chat's texts and ``sendInvoice``.

Invoices are sent after the order's transaction commits (handlers pass these functions to
``after_commit``): a fan who pays at once must find the order already there.
"""

from __future__ import annotations

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Texts
from core.models import Order
from tenants import payments


def pack_texts(texts: Texts, order: Order) -> tuple[str, str]:
    return payments.pack_invoice_texts(texts, order.credits)


async def send_invoice(bot: Bot, chat_id: int, order: Order, title: str, description: str) -> None:
    await bot.send_invoice(chat_id=chat_id, **payments.invoice_fields(order, title, description))


async def invoice_link(
    bot: Bot, order: Order, title: str, description: str, *, subscription: bool = False
) -> str:
    return await payments.create_invoice_link(
        bot, order, title, description, subscription=subscription
    )


async def pack_invoice_link(
    session: AsyncSession,
    bot: Bot,
    texts: Texts,
    *,
    tenant_id: int,
    user_id: int,
    telegram_user_id: int,
    pack_id: int,
) -> str:
    return await payments.pack_invoice_link(
        session,
        bot,
        texts,
        tenant_id,
        user_id=user_id,
        telegram_user_id=telegram_user_id,
        pack_id=pack_id,
    )
