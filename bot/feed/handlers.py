"""``/feed`` and buying a pay-per-view post in chat.

The handler picks the posts and queues ``content_deliver_posts`` (after the commit): the
worker sends them as this fan may see them, uploading media from storage (slow work has no
place in a webhook). A locked post's "Unlock for N ⭐" button makes an order and sends a Stars
invoice; the bot's ``successful_payment`` (see :mod:`bot.payments.handlers`) unlocks the post
and queues the post again, now open.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.feed.keyboards import BUY_POST, TASK_POST
from bot.filters import CallbackIs
from bot.i18n import Texts
from bot.payments import service as payment_service
from bot.routing import TenantInfo
from core.errors import NotFoundError
from core.queue import defer_job
from tenants.content import service as content
from tenants.payments import ChargeOutcome
from tenants.users import BotUser

FEED_SIZE = 5
DELIVER_TASK = "content_deliver_posts"


def deliver_later(
    session: AsyncSession, tenant_id: int, bot: Bot, chat_id: int, user_id: int, ids: list[int]
) -> None:
    defer_job(session, DELIVER_TASK, tenant_id, bot.id, chat_id, user_id, ids)


async def feed_command(
    message: Message,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    bot: Bot,
) -> SendMessage:
    ids = await content.latest_post_ids(session, tenant.id, FEED_SIZE)
    if not ids:
        return message.answer(texts("feed.empty"))
    # Oldest first: the pinned and newest posts end up at the bottom, where the fan looks.
    deliver_later(session, tenant.id, bot, message.chat.id, user.id, list(reversed(ids)))
    return message.answer(texts("feed.header"))


def _post_id(callback: CallbackQuery, prefix: str) -> int | None:
    raw = (callback.data or "").removeprefix(prefix)
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


async def buy_post(
    callback: CallbackQuery,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    after_commit: list[Any],
) -> Any:
    post_id = _post_id(callback, BUY_POST)
    if post_id is None:
        return callback.answer()
    try:
        order, post = await content.create_ppv_order(
            session,
            tenant.id,
            user_id=user.id,
            telegram_user_id=user.telegram_id,
            post_id=post_id,
        )
    except NotFoundError:
        return callback.answer(texts("feed.post_gone"), show_alert=True)
    except content.AlreadyUnlockedError:
        return callback.answer(texts("feed.already_unlocked"), show_alert=True)
    except content.NotForSaleError:
        return callback.answer(texts("feed.not_for_sale"), show_alert=True)
    title, description = content.ppv_invoice_texts(texts, post)
    after_commit.append(
        partial(payment_service.send_invoice, bot, user.telegram_id, order, title, description)
    )
    return callback.answer()


async def task_hint(callback: CallbackQuery, texts: Texts) -> Any:
    return callback.answer(texts("feed.task_hint"), show_alert=True)


async def ppv_receipt(
    message: Message,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    outcome: ChargeOutcome,
    stars: int,
) -> SendMessage:
    """A PPV charge was recorded: thank the fan and send them the post, now open."""
    order = outcome.order
    if order is not None and order.post_id is not None:
        deliver_later(session, tenant.id, bot, message.chat.id, user.id, [order.post_id])
    return message.answer(texts("feed.unlocked", stars=stars))


def create_router() -> Router:
    router = Router(name="feed")
    router.message.register(feed_command, Command("feed"))
    router.callback_query.register(buy_post, CallbackIs(BUY_POST, prefix=True))
    router.callback_query.register(task_hint, CallbackIs(TASK_POST, prefix=True))
    return router
