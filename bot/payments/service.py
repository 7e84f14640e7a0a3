"""Stars invoices as Telegram wants them: currency ``XTR``, an empty provider token, exactly
one price, and a payload naming an order written first (see :mod:`tenants.payments`).

Invoices are sent after the order's transaction commits (handlers pass these functions to
``after_commit``): a fan who pays at once must find the order already there.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import LabeledPrice
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Texts
from core.models import Order
from tenants import payments
from tenants.billing import SUBSCRIPTION_PERIOD_SECONDS

TITLE_LIMIT = 32
DESCRIPTION_LIMIT = 255


def _invoice_fields(order: Order, title: str, description: str) -> dict[str, object]:
    return {
        "title": title[:TITLE_LIMIT],
        "description": description[:DESCRIPTION_LIMIT],
        "payload": payments.payload_of(order),
        "currency": payments.CURRENCY,
        "provider_token": "",
        "prices": [LabeledPrice(label=title[:TITLE_LIMIT], amount=order.stars)],
    }


def pack_texts(texts: Texts, order: Order) -> tuple[str, str]:
    return (
        texts("payments.invoice_title", credits=order.credits),
        texts("payments.invoice_description", credits=order.credits),
    )


async def send_invoice(bot: Bot, chat_id: int, order: Order, title: str, description: str) -> None:
    await bot.send_invoice(chat_id=chat_id, **_invoice_fields(order, title, description))  # type: ignore[arg-type]


async def invoice_link(
    bot: Bot, order: Order, title: str, description: str, *, subscription: bool = False
) -> str:
    """A ``createInvoiceLink`` URL (the Mini App opens it with ``Telegram.WebApp.openInvoice``;
    plans use it as a 30-day subscription). Money is only ever credited from the bot's
    ``successful_payment`` update, never from the Mini App's callback."""
    fields = _invoice_fields(order, title, description)
    if subscription:
        fields["subscription_period"] = SUBSCRIPTION_PERIOD_SECONDS
    return await bot.create_invoice_link(**fields)  # type: ignore[arg-type]


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
    """For the Mini App: an order for ``pack_id`` and its invoice link. The link may be handed
    out before the commit: the fan cannot open it before the response arrives."""
    order, _ = await payments.create_pack_order(
        session, tenant_id, user_id=user_id, telegram_user_id=telegram_user_id, pack_id=pack_id
    )
    title, description = pack_texts(texts, order)
    return await invoice_link(bot, order, title, description)
