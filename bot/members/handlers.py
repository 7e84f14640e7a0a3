"""A fan blocked (``kicked``) or unblocked the bot in their private chat: keep ``is_blocked``
true to Telegram, so broadcasts skip them. Any later update from them reactivates them
(:func:`tenants.users.upsert_user`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiogram import Router
from aiogram.enums import ChatMemberStatus
from aiogram.types import ChatMemberUpdated
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import PrivateChat
from bot.routing import TenantInfo
from tenants.users import forget_snapshot, set_blocked


async def membership_changed(
    event: ChatMemberUpdated,
    session: AsyncSession,
    tenant: TenantInfo,
    redis: ArqRedis,
    after_commit: list[Callable[[], Awaitable[Any]]],
) -> None:
    blocked = event.new_chat_member.status == ChatMemberStatus.KICKED
    await set_blocked(session, tenant.id, event.from_user.id, blocked=blocked)
    after_commit.append(partial(forget_snapshot, redis, tenant.id, event.from_user.id))


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent)."""
    router = Router(name="members")
    router.my_chat_member.register(membership_changed, PrivateChat())
    return router
