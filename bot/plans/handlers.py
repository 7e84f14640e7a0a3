"""The manager bot's money: ``/plan`` (buy or renew a plan as a 30-day Stars subscription) and
``/topup`` (one-off platform credits). Only the owner of a bot can pay for it.

A creator with one bot goes straight to the choices; with several, they pick the bot first.
The order is written in the platform tenant (whose bot takes the Stars) and names the creator's
tenant as its target; the invoice (a subscription link for plans) goes out after the commit.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import CallbackIs, PlatformBot
from bot.i18n import Texts
from bot.onboarding.service import owned_bots
from bot.payments import service
from bot.payments.keyboards import (
    PLAN_PREFIX,
    TOPUP_PREFIX,
    bots_keyboard,
    pay_link_keyboard,
    plans_keyboard,
    topups_keyboard,
)
from bot.routing import TenantInfo
from core.models import Tenant
from core.models.payments import OrderKind
from tenants import billing, payments
from tenants.plans import get_plan
from tenants.users import BotUser


async def plan_command(message: Message, session: AsyncSession, texts: Texts) -> Any:
    return await _choose(message, session, texts, PLAN_PREFIX, plans_keyboard, "plans.choose")


async def topup_command(message: Message, session: AsyncSession, texts: Texts) -> Any:
    return await _choose(
        message, session, texts, TOPUP_PREFIX, topups_keyboard, "plans.topup_choose"
    )


async def _choose(
    message: Message, session: AsyncSession, texts: Texts, prefix: str, keyboard: Any, key: str
) -> Any:
    assert message.from_user is not None
    bots = list(await owned_bots(session, message.from_user.id))
    if not bots:
        return message.answer(texts("manager.no_bots"))
    if len(bots) > 1:
        choices = [(tenant.id, bot.username) for tenant, bot in bots]
        return message.answer(texts("plans.pick_bot"), reply_markup=bots_keyboard(prefix, choices))
    tenant, bot = bots[0]
    return message.answer(
        await _status(session, texts, tenant, bot.username, key),
        reply_markup=keyboard(texts, tenant.id),
    )


async def _status(
    session: AsyncSession, texts: Texts, tenant: Tenant, username: str, key: str
) -> str:
    balance = await billing.platform_balance(session, tenant.id)
    return texts(
        key, bot_username=username, plan=get_plan(tenant.plan).name, balance=balance.available
    )


async def _owned(session: AsyncSession, tenant_id: int, telegram_id: int) -> Tenant | None:
    tenant = await session.get(Tenant, tenant_id)
    return tenant if tenant is not None and tenant.owner_telegram_id == telegram_id else None


async def plan_button(
    callback: CallbackQuery,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    after_commit: list[Any],
) -> Any:
    parts = (callback.data or "").removeprefix(PLAN_PREFIX).split(":")
    if not parts[0].isdigit():
        return callback.answer()
    target = await _owned(session, int(parts[0]), callback.from_user.id)
    if target is None:
        return callback.answer(texts("manager.not_owner"), show_alert=True)
    if len(parts) == 1:  # a bot was picked: show its plans
        if isinstance(callback.message, Message):
            text = texts("plans.choose_for", plan=get_plan(target.plan).name)
            after_commit.append(
                partial(
                    bot.send_message,
                    callback.from_user.id,
                    text,
                    reply_markup=plans_keyboard(texts, target.id),
                )
            )
        return callback.answer()
    code = parts[1]
    stars = billing.PLAN_PRICES_STARS.get(code)
    if stars is None:
        return callback.answer()
    order = await payments.create_order(
        session,
        tenant.id,
        kind=OrderKind.PLAN,
        user_id=user.id,
        telegram_user_id=user.telegram_id,
        stars=stars,
        plan=code,
        target_tenant_id=target.id,
    )
    name = get_plan(code).name
    link = await service.invoice_link(
        bot,
        order,
        texts("plans.invoice_title", plan=name),
        texts("plans.invoice_description", plan=name),
        subscription=True,
    )
    after_commit.append(
        partial(
            bot.send_message,
            callback.from_user.id,
            texts("plans.pay_prompt", plan=name, stars=stars),
            reply_markup=pay_link_keyboard(texts, stars, link),
        )
    )
    return callback.answer()


async def topup_button(
    callback: CallbackQuery,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    after_commit: list[Any],
) -> Any:
    parts = (callback.data or "").removeprefix(TOPUP_PREFIX).split(":")
    if not parts[0].isdigit():
        return callback.answer()
    target = await _owned(session, int(parts[0]), callback.from_user.id)
    if target is None:
        return callback.answer(texts("manager.not_owner"), show_alert=True)
    if len(parts) == 1:
        after_commit.append(
            partial(
                bot.send_message,
                callback.from_user.id,
                texts("plans.topup_pick"),
                reply_markup=topups_keyboard(texts, target.id),
            )
        )
        return callback.answer()
    if not parts[1].isdigit() or int(parts[1]) >= len(billing.TOPUP_PACKS):
        return callback.answer()
    stars, credits = billing.TOPUP_PACKS[int(parts[1])]
    order = await payments.create_order(
        session,
        tenant.id,
        kind=OrderKind.TOPUP,
        user_id=user.id,
        telegram_user_id=user.telegram_id,
        stars=stars,
        credits=credits,
        target_tenant_id=target.id,
    )
    after_commit.append(
        partial(
            service.send_invoice,
            bot,
            callback.from_user.id,
            order,
            texts("plans.topup_title", credits=credits),
            texts("plans.topup_description", credits=credits),
        )
    )
    return callback.answer()


def create_router() -> Router:
    """Manager-bot only, like onboarding: one router-level filter for everyone else."""
    router = Router(name="plans")
    router.message.filter(PlatformBot())
    router.callback_query.filter(PlatformBot())
    router.message.register(plan_command, Command("plan"))
    router.message.register(topup_command, Command("topup"))
    router.callback_query.register(plan_button, CallbackIs(PLAN_PREFIX, prefix=True))
    router.callback_query.register(topup_button, CallbackIs(TOPUP_PREFIX, prefix=True))
    return router
