"""The rules of managed chats: what a ``my_chat_member`` update means for a tenant, the plan's
``max_groups``, and the panel's refresh and leave through the Bot API.

Telegram is the truth; the table is what it last told us. A membership change locks the
tenant row (see :func:`repository.lock_tenant`) so the count against ``max_groups`` and the
row it decides about are written by one update at a time. Bot API calls (the refusal notice,
``leaveChat``) are left to the caller to make after commit.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
)
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import NotFoundError, UpstreamError
from core.models import RIGHTS, BotStatus, ChatType, ManagedChat
from tenants.groups import repository
from tenants.plans import effective_limits

logger = logging.getLogger(__name__)

CHAT_TYPES = frozenset(item.value for item in ChatType)
#: Telegram's statuses for a bot, as ours (a bot is never the creator; ``restricted`` means a
#: member whose rights were cut).
_STATUSES = {
    "creator": BotStatus.ADMINISTRATOR,
    "administrator": BotStatus.ADMINISTRATOR,
    "member": BotStatus.MEMBER,
    "restricted": BotStatus.MEMBER,
    "left": BotStatus.LEFT,
    "kicked": BotStatus.KICKED,
}


@dataclass(frozen=True, slots=True)
class ChatSnapshot:
    """A chat and the bot's place in it, as one update or one refresh saw them."""

    chat_id: int
    type: ChatType
    title: str
    username: str | None
    status: BotStatus
    rights: Mapping[str, bool] = field(default_factory=dict)
    member_count: int | None = None


def snapshot(chat: Any, member: Any, member_count: int | None = None) -> ChatSnapshot:
    """From aiogram's ``Chat`` and the bot's ``ChatMember``."""
    return ChatSnapshot(
        chat_id=chat.id,
        type=ChatType(chat.type),
        title=chat.title or "",
        username=chat.username,
        status=_STATUSES.get(str(member.status), BotStatus.LEFT),
        rights={name: bool(getattr(member, name, False)) for name in RIGHTS},
        member_count=member_count,
    )


@dataclass(frozen=True, slots=True)
class Change:
    chat: ManagedChat
    refused: bool  # the plan has no room: the bot must say so and leave
    limit: int | None


async def membership_changed(
    session: AsyncSession,
    tenant_id: int,
    bot_id: int,
    seen: ChatSnapshot,
    *,
    added_by: int | None,
) -> Change | None:
    """Record the bot's new status in a chat. Joining one chat more than the plan allows is
    recorded as refused (status ``left``): the caller then tells the chat and leaves."""
    tenant = await repository.lock_tenant(session, tenant_id)
    if tenant is None:
        return None
    limit = effective_limits(tenant.plan, tenant.config).max_groups
    row = await repository.by_chat_id(session, tenant_id, seen.chat_id)
    joining = seen.status.present and (row is None or not BotStatus(row.bot_status).present)
    refused = (
        joining
        and limit is not None
        and await repository.count_present(session, tenant_id) >= limit
    )
    if row is None:
        row = ManagedChat(tenant_id=tenant_id, chat_id=seen.chat_id)
        session.add(row)
    _apply(row, bot_id, seen)
    if joining:
        row.added_by_telegram_id = added_by
        row.refused_at = None
    if refused:
        row.bot_status = BotStatus.LEFT
        row.refused_at = utcnow()
        logger.info("group refused: plan limit", extra={"tenant_id": tenant_id, "limit": limit})
    await session.flush()
    return Change(row, refused, limit)


def _apply(row: ManagedChat, bot_id: int, seen: ChatSnapshot) -> None:
    row.bot_id = bot_id
    row.type = seen.type
    row.title = seen.title[:255]
    row.username = seen.username
    row.bot_status = seen.status
    for name in RIGHTS:
        setattr(row, name, bool(seen.rights.get(name)) and seen.status is BotStatus.ADMINISTRATOR)
    if seen.member_count is not None:
        row.member_count = seen.member_count
    row.updated_at = utcnow()


async def list_chats(session: AsyncSession, tenant_id: int) -> Sequence[ManagedChat]:
    return await repository.all_chats(session, tenant_id)


async def groups_used(session: AsyncSession, tenant_id: int) -> int:
    """Chats counted against ``max_groups``: those the bot is in now."""
    return await repository.count_present(session, tenant_id)


async def get_chat(session: AsyncSession, tenant_id: int, row_id: int) -> ManagedChat:
    row = await repository.by_id(session, tenant_id, row_id)
    if row is None:
        raise NotFoundError("no such group", group_id=row_id)
    return row


async def refresh(session: AsyncSession, bot: Bot, row: ManagedChat) -> ManagedChat:
    """Read the chat, the bot's membership and the member count again from Telegram. A chat
    Telegram no longer shows the bot is one the bot has left (or was removed from)."""
    try:
        chat = await bot.get_chat(row.chat_id)
        member = await bot.get_chat_member(row.chat_id, bot.id)
        count = await _member_count(bot, row.chat_id)
    except TelegramForbiddenError:
        _gone(row, BotStatus.KICKED)
    except (TelegramBadRequest, TelegramMigrateToChat):
        # A group upgraded to a supergroup lives on under a new id: the old one is a chat
        # the bot is no longer in.
        _gone(row, BotStatus.LEFT)
    except (TelegramNetworkError, TelegramAPIError) as exc:
        raise UpstreamError(f"Telegram did not answer: {exc.message}") from None
    else:
        _apply(row, bot.id, snapshot(chat, member, count))
    await session.flush()
    return row


async def _member_count(bot: Bot, chat_id: int) -> int | None:
    """Channels show their count to administrators only: unknown is not an error."""
    try:
        return await bot.get_chat_member_count(chat_id)
    except TelegramBadRequest:
        return None


def _gone(row: ManagedChat, status: BotStatus) -> None:
    row.bot_status = status
    for name in RIGHTS:
        setattr(row, name, False)
    row.updated_at = utcnow()


async def leave(session: AsyncSession, bot: Bot, row: ManagedChat) -> ManagedChat:
    """The bot leaves the chat (already gone is fine); the row stays, as ``left``."""
    if BotStatus(row.bot_status).present:
        await leave_chat(bot, row.chat_id)
    _gone(row, BotStatus.LEFT)
    await session.flush()
    return row


async def leave_chat(bot: Bot, chat_id: int, notice: str | None = None) -> None:
    """Say ``notice`` in the chat (when the bot may speak there) and leave it. Only a
    Telegram that cannot be reached is an error: a chat already gone is left."""
    if notice:
        try:
            await bot.send_message(chat_id, notice)
        except TelegramAPIError as exc:
            logger.info("could not say goodbye in chat %d: %s", chat_id, exc)
    try:
        await bot.leave_chat(chat_id)
    except (TelegramBadRequest, TelegramForbiddenError):
        pass
    except (TelegramNetworkError, TelegramAPIError) as exc:
        raise UpstreamError(f"Telegram did not answer: {exc.message}") from None


#: What each feature needs of the bot in its chat: administrator status (``administrator``)
#: and these rights. VIP channels: invite links for subscribers, removal at expiry. Join
#: tasks: administrator, to see who joined (a channel's members are hidden from others).
FEATURE_NEEDS: dict[str, tuple[str, ...]] = {
    "vip": ("administrator", "can_invite_users", "can_restrict_members"),
    "task": ("administrator",),
}


@dataclass(frozen=True, slots=True)
class ChatView:
    chat: ManagedChat
    used_by: list[str]  # features using the chat: "vip", "task"
    missing: list[str]  # what those features need and the bot lacks there

    @property
    def present(self) -> bool:
        return BotStatus(self.chat.bot_status).present


async def chat_views(session: AsyncSession, tenant_id: int) -> list[ChatView]:
    uses = await repository.chat_uses(session, tenant_id)
    return [view(row, uses.get(row.chat_id, set())) for row in await list_chats(session, tenant_id)]


async def chat_view(session: AsyncSession, row: ManagedChat) -> ChatView:
    uses = await repository.chat_uses(session, row.tenant_id)
    return view(row, uses.get(row.chat_id, set()))


def view(row: ManagedChat, used_by: set[str]) -> ChatView:
    needed = sorted({need for feature in used_by for need in FEATURE_NEEDS[feature]})
    have = {name for name in RIGHTS if getattr(row, name)}
    if row.bot_status == BotStatus.ADMINISTRATOR:
        have.add("administrator")
    missing = [need for need in needed if need not in have]
    return ChatView(row, sorted(used_by), missing)
