"""Buying credits from the Mini App: the tenant's packs in the fan's language, and Stars
invoice links the page opens with ``Telegram.WebApp.openInvoice``.

A link is made by the tenant's own ``Bot`` from the shared bot runtime (its route cache and
its one HTTP session), exactly as the chat's ``/buy`` makes invoices; the rules of orders and
invoices are :mod:`tenants.payments`. This API never credits anything: the money arrives only
with the bot's ``successful_payment`` update.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Texts, pick_language
from bot.menu import app_url
from bot.runtime import BotRuntime
from core.errors import NotFoundError
from core.models import CreditPack
from miniapp_api.auth.tokens import CurrentUser
from miniapp_api.wallet import repository
from tenants import payments


@dataclass(frozen=True, slots=True)
class FanBot:
    """The fan's bot and their texts (language choice, tenant overrides), as in chat."""

    bot: Bot
    texts: Texts


@dataclass(frozen=True, slots=True)
class PackOffer:
    pack: CreditPack
    title: str
    label: str


async def fan_bot(session: AsyncSession, runtime: BotRuntime, user: CurrentUser) -> FanBot:
    route = await runtime.routes.get(user.bot_id)
    if route is None or not route.active or route.tenant.id != user.tenant_id:
        raise NotFoundError("this bot is not available")
    fan = await repository.get_fan(session, user.tenant_id, user.user_id)
    if fan is None:
        raise NotFoundError("no such fan in this bot")
    texts = Texts(
        runtime.i18n,
        pick_language(
            fan.language, fan.language_code, route.tenant.default_language, route.tenant.languages
        ),
        route.texts,
        {
            "user_name": fan.first_name or "",
            "user_username": fan.username or "",
            "bot_name": route.tenant.name,
            "bot_username": route.username,
            "app_url": app_url(runtime.settings.public_base_url, route.telegram_bot_id),
        },
    )
    return FanBot(runtime.bots.get(route), texts)


async def pack_offers(
    session: AsyncSession, runtime: BotRuntime, user: CurrentUser
) -> Sequence[PackOffer]:
    """The tenant's active packs, cheapest first, titled as their invoices and labelled as the
    chat's pack buttons."""
    texts = (await fan_bot(session, runtime, user)).texts
    offers = []
    for pack in await payments.list_packs(session, user.tenant_id):
        key = "payments.pack_bonus_button" if pack.bonus else "payments.pack_button"
        title, _ = payments.pack_invoice_texts(texts, pack.total_credits)
        label = texts(key, stars=pack.stars, credits=pack.credits, bonus=pack.bonus)
        offers.append(PackOffer(pack=pack, title=title, label=label))
    return offers


async def pack_invoice_link(
    session: AsyncSession, runtime: BotRuntime, user: CurrentUser, pack_id: int
) -> str:
    """A fresh order for the pack and its ``createInvoiceLink`` URL (another tenant's or an
    inactive pack: 404)."""
    found = await fan_bot(session, runtime, user)
    return await payments.pack_invoice_link(
        session,
        found.bot,
        found.texts,
        user.tenant_id,
        user_id=user.user_id,
        telegram_user_id=user.telegram_id,
        pack_id=pack_id,
    )
