"""Groups, supergroups and channels a tenant's bot is in, as Telegram last told us.

One row per (tenant, chat), kept from ``my_chat_member`` updates and refreshed on demand with
``getChat`` / ``getChatMember`` / ``getChatMemberCount``. A chat the bot left (or was removed
from) keeps its row with ``bot_status`` ``left`` or ``kicked``; only chats where the bot is a
member or an administrator count against the plan's ``max_groups``. ``refused_at`` marks a chat
the bot left on its own because the plan had no room for it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntId, TenantOwned, TimestampMixin, utcnow


class ChatType(StrEnum):
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class BotStatus(StrEnum):
    MEMBER = "member"
    ADMINISTRATOR = "administrator"
    LEFT = "left"
    KICKED = "kicked"

    @property
    def present(self) -> bool:
        return self in (BotStatus.MEMBER, BotStatus.ADMINISTRATOR)


#: The administrator rights our features rely on (invite links for VIP, bans for expiry,
#: reading members for join tasks, posting to channels), stored as columns of the same name.
RIGHTS: tuple[str, ...] = (
    "can_manage_chat",
    "can_invite_users",
    "can_restrict_members",
    "can_delete_messages",
    "can_pin_messages",
    "can_post_messages",
)


class ManagedChat(TenantOwned, TimestampMixin, Base):
    __tablename__ = "managed_chats"
    __table_args__ = (UniqueConstraint("tenant_id", "chat_id"),)
    tenant_id_indexed = False  # UNIQUE (tenant_id, chat_id) leads with it

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    bot_id: Mapped[int] = mapped_column(BigInteger)  # the tenant bot's Telegram id
    type: Mapped[ChatType] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(255), default="")
    username: Mapped[str | None] = mapped_column(String(64))
    bot_status: Mapped[BotStatus] = mapped_column(String(16))
    can_manage_chat: Mapped[bool] = mapped_column(Boolean, default=False)
    can_invite_users: Mapped[bool] = mapped_column(Boolean, default=False)
    can_restrict_members: Mapped[bool] = mapped_column(Boolean, default=False)
    can_delete_messages: Mapped[bool] = mapped_column(Boolean, default=False)
    can_pin_messages: Mapped[bool] = mapped_column(Boolean, default=False)
    can_post_messages: Mapped[bool] = mapped_column(Boolean, default=False)
    member_count: Mapped[int | None] = mapped_column(Integer)
    added_by_telegram_id: Mapped[int | None] = mapped_column(BigInteger)
    refused_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
