"""``/vip``: the tenant's VIP packages with the fan's status, a 30-day Stars subscription link
per package, and cancelling a renewal (access stays until the period ends). The receipt of a
VIP charge, first or renewal, is written here too (called from :mod:`bot.payments.handlers`).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.feed.keyboards import VIP_BUY, VIP_CANCEL, VIP_FOR_POST, url_keyboard, vip_keyboard
from bot.filters import CallbackIs
from bot.i18n import Texts
from bot.payments import service as payment_service
from bot.routing import TenantInfo
from bot.vip.service import send_invite
from bot.wallet_ton import pay as ton_pay
from core.db import utcnow
from core.errors import NotFoundError
from core.settings import Settings
from tenants.content import service as content
from tenants.payments import ChargeOutcome
from tenants.users import BotUser
from tenants.vip import service as vip

if TYPE_CHECKING:
    from bot.runtime import BotRuntime

MAX_TEXT = 4096


def day(when: datetime) -> str:
    return when.strftime("%Y-%m-%d")


async def _menu(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    texts: Texts,
    only: set[int] | None = None,
    settings: Settings | None = None,
) -> tuple[str, InlineKeyboardMarkup | None]:
    """The packages (all, or ``only`` those) with the fan's status, and their buttons."""
    now = utcnow()
    items = await vip.fan_packages(session, tenant_id, user_id, now=now)
    if only is not None:
        items = [item for item in items if item.package.id in only]
    if not items:
        return texts("vip.none"), None
    lines = [texts("vip.header") if only is None else texts("vip.for_post")]
    buy: list[tuple[int, str]] = []
    cancel: list[tuple[int, str]] = []
    for item in items:
        package, sub = item.package, item.subscription
        lines += ["", texts("vip.package_line", package=package.name, stars=package.price_stars)]
        if package.description:
            lines.append(package.description)
        lines += [f"• {perk}" for perk in package.perks or []]
        renewing = sub is not None and vip.renews(sub, now)
        if sub is not None and item.is_open:
            key = "vip.status_active" if renewing else "vip.status_cancelled"
            lines.append(texts(key, date=day(sub.period_end)))
        if renewing and sub is not None:
            cancel.append((sub.id, texts("vip.cancel_button", package=package.name)))
        elif package.is_active:
            label = texts("vip.buy_button", package=package.name, stars=package.price_stars)
            buy.append((package.id, label))
    markup = vip_keyboard(buy, cancel)
    if settings is not None:  # 30 days paid once in TON, for packages with a TON price
        named = [(item.package.id, item.package.name) for item in items]
        buyable = {package_id for package_id, _ in buy}
        prices = await ton_pay.prices_of(session, settings, tenant_id, ton_pay.VIP)
        rows = ton_pay.vip_buttons(texts, [p for p in named if p[0] in buyable], prices)
        if rows:
            markup = InlineKeyboardMarkup(
                inline_keyboard=[*(markup.inline_keyboard if markup else []), *rows]
            )
    return "\n".join(lines)[:MAX_TEXT], markup


async def vip_command(
    message: Message,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    runtime: BotRuntime,
) -> SendMessage:
    text, markup = await _menu(session, tenant.id, user.id, texts, settings=runtime.settings)
    return message.answer(text, reply_markup=markup)


def _id(callback: CallbackQuery, prefix: str) -> int | None:
    raw = (callback.data or "").removeprefix(prefix)
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


async def vip_for_post(
    callback: CallbackQuery,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    after_commit: list[Any],
    runtime: BotRuntime,
) -> Any:
    """ "Join VIP" under a locked post: the packages that open that post."""
    post_id = _id(callback, VIP_FOR_POST)
    if post_id is None:
        return callback.answer()
    try:
        item = await content.feed_item(session, tenant.id, content.Viewer(user.id), post_id)
    except NotFoundError:
        return callback.answer(texts("feed.post_gone"), show_alert=True)
    text, markup = await _menu(
        session, tenant.id, user.id, texts, set(item.package_ids), runtime.settings
    )
    after_commit.append(partial(bot.send_message, user.telegram_id, text, reply_markup=markup))
    return callback.answer()


async def vip_buy(
    callback: CallbackQuery,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    after_commit: list[Any],
) -> Any:
    package_id = _id(callback, VIP_BUY)
    if package_id is None:
        return callback.answer()
    try:
        order, package = await vip.create_vip_order(
            session,
            tenant.id,
            user_id=user.id,
            telegram_user_id=user.telegram_id,
            package_id=package_id,
        )
    except NotFoundError:
        return callback.answer(texts("vip.package_gone"), show_alert=True)
    except vip.AlreadySubscribedError:
        return callback.answer(texts("vip.already"), show_alert=True)
    title, description = vip.vip_invoice_texts(texts, package)
    link = await payment_service.invoice_link(bot, order, title, description, subscription=True)
    prompt = texts("vip.pay_prompt", package=package.name, stars=package.price_stars)
    markup = url_keyboard(texts("plans.pay_button", stars=package.price_stars), link)
    after_commit.append(partial(bot.send_message, user.telegram_id, prompt, reply_markup=markup))
    return callback.answer()


async def vip_cancel(
    callback: CallbackQuery,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    bot: Bot,
) -> Any:
    subscription_id = _id(callback, VIP_CANCEL)
    if subscription_id is None:
        return callback.answer()
    try:
        sub = await vip.cancel_subscription(
            session,
            bot,
            tenant.id,
            user_id=user.id,
            telegram_user_id=user.telegram_id,
            subscription_id=subscription_id,
        )
    except NotFoundError:
        return callback.answer(texts("error.not_found"), show_alert=True)
    except vip.NotCancellableError:
        return callback.answer(texts("vip.not_cancellable"), show_alert=True)
    package = await vip.get_package(session, tenant.id, sub.package_id)
    text = texts("vip.cancelled", package=package.name, date=day(sub.period_end))
    return callback.answer(text, show_alert=True)


async def vip_receipt(
    message: Message,
    session: AsyncSession,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    after_commit: list[Any],
    outcome: ChargeOutcome,
) -> SendMessage | None:
    """A VIP charge was applied: welcome (first charge) or renewed, and the channel link."""
    summary = await vip.charge_summary(session, outcome.order) if outcome.order else None
    if summary is None:
        return message.answer(texts("payments.unmatched"))
    sub, package, first = summary
    key = "vip.welcome" if first else "vip.renewed"
    text = texts(key, package=package.name, date=day(sub.period_end))
    if package.channel_chat_id is None:
        return message.answer(text)
    # Both after the commit, in this order: the welcome, then the channel's link.
    after_commit.append(partial(bot.send_message, message.chat.id, text))
    after_commit.append(
        partial(send_invite, bot, user.telegram_id, package.channel_chat_id, package.name, texts)
    )
    return None


def create_router() -> Router:
    router = Router(name="vip")
    router.message.register(vip_command, Command("vip"))
    router.callback_query.register(vip_for_post, CallbackIs(VIP_FOR_POST, prefix=True))
    router.callback_query.register(vip_buy, CallbackIs(VIP_BUY, prefix=True))
    router.callback_query.register(vip_cancel, CallbackIs(VIP_CANCEL, prefix=True))
    return router
