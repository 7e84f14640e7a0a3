"""The bot's own membership (``my_chat_member``).

In a private chat: a fan blocked (``kicked``) or unblocked the bot; keep ``is_blocked`` true to
Telegram, so broadcasts skip them. Any later update from them reactivates them
(:func:`tenants.users.upsert_user`).

In a group, supergroup or channel: the chat joins the tenant's managed chats
(:mod:`tenants.groups`). One more than the plan's ``max_groups`` is refused: after commit the
bot says so there, in the tenant's default language, and leaves.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiogram import Bot, Router
from aiogram.enums import ChatMemberStatus
from aiogram.types import ChatMemberUpdated
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import InlineFilter, PrivateChat
from bot.i18n import Texts
from bot.routing import TenantInfo
from tenants.groups import service as groups
from tenants.users import forget_snapshot, set_blocked

AfterCommit = list[Callable[[], Awaitable[Any]]]


class GroupChat(InlineFilter):
    """A group, supergroup or channel."""

    def test(self, event: ChatMemberUpdated, data: dict[str, Any]) -> bool:
        return event.chat.type in groups.CHAT_TYPES


async def membership_changed(
    event: ChatMemberUpdated,
    session: AsyncSession,
    tenant: TenantInfo,
    redis: ArqRedis,
    after_commit: AfterCommit,
) -> None:
    blocked = event.new_chat_member.status == ChatMemberStatus.KICKED
    await set_blocked(session, tenant.id, event.from_user.id, blocked=blocked)
    after_commit.append(partial(forget_snapshot, redis, tenant.id, event.from_user.id))


async def group_membership_changed(
    event: ChatMemberUpdated,
    session: AsyncSession,
    tenant: TenantInfo,
    bot: Bot,
    texts: Texts,
    after_commit: AfterCommit,
) -> None:
    if tenant.is_platform:  # the manager bot has no plan to count groups against
        return
    seen = groups.snapshot(event.chat, event.new_chat_member)
    change = await groups.membership_changed(
        session, tenant.id, bot.id, seen, added_by=event.from_user.id
    )
    if change is not None and change.refused:
        notice = texts.with_locale(tenant.default_language)("groups.refused", limit=change.limit)
        after_commit.append(partial(groups.leave_chat, bot, event.chat.id, notice))


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent)."""
    router = Router(name="members")
    router.my_chat_member.register(membership_changed, PrivateChat())
    router.my_chat_member.register(group_membership_changed, GroupChat())
    return router
