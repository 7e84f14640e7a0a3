"""``/invite`` shows the fan's link; ``/start ref_<code>`` attributes and notifies."""

from __future__ import annotations

from functools import partial
from typing import Any

from aiogram import Router
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, Message

from bot.filters import CallbackIs
from bot.i18n import Texts, pick_language
from bot.referrals.service import (
    ReferralReward,
    attribute_referral,
    referral_link,
    reward_amount,
)
from bot.routing import BotRoute, TenantInfo
from bot.start.payloads import PayloadContext, payload_handler
from tenants.users import BotUser, send_to_user


def invite_text(route: BotRoute, tenant: TenantInfo, user: BotUser, texts: Texts) -> str:
    return texts(
        "referral.invite",
        reward=reward_amount(tenant),
        referral_link=referral_link(route.username, user.id),
    )


async def invite_command(
    message: Message, route: BotRoute, tenant: TenantInfo, user: BotUser, texts: Texts
) -> SendMessage:
    return message.answer(invite_text(route, tenant, user, texts))


async def invite_button(
    callback: CallbackQuery, route: BotRoute, tenant: TenantInfo, user: BotUser, texts: Texts
) -> Any:
    if isinstance(callback.message, Message):
        await callback.message.answer(invite_text(route, tenant, user, texts))
    return callback.answer()


@payload_handler("ref_")
async def referral_payload(ctx: PayloadContext) -> None:
    reward = await attribute_referral(ctx.session, ctx.route.tenant, ctx.user, ctx.value)
    if reward is not None:
        ctx.after_commit.append(partial(notify_referrer, ctx, reward))


async def notify_referrer(ctx: PayloadContext, reward: ReferralReward) -> None:
    """In the referrer's language, after the reward committed; a referrer who blocked the bot
    is marked, not retried."""
    locale = pick_language(
        reward.referrer_language,
        reward.referrer_language_code,
        ctx.route.tenant.default_language,
    )
    texts = Texts(
        ctx.texts.i18n,
        locale,
        ctx.route.texts,
        {**ctx.texts.base, "user_name": reward.referrer_name},
    )
    await send_to_user(
        ctx.bot,
        factory=ctx.runtime.session_factory,
        redis=ctx.runtime.redis,
        tenant_id=ctx.route.tenant.id,
        telegram_id=reward.referrer_telegram_id,
        text=texts("referral.rewarded", friend_name=ctx.user.first_name, reward=reward.reward),
    )


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent)."""
    router = Router(name="referrals")
    router.message.register(invite_command, Command("invite"))
    router.callback_query.register(invite_button, CallbackIs("menu:invite"))
    return router
