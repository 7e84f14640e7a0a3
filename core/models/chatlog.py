"""The conversation between a fan and a tenant's bot, as the creator panel shows it.

Rows arrive in batches from a Redis stream (``tenants.chatlog``): the webhook records what the
fan sends in its one Redis command per update, the bot's replies and Bot API sends are
recorded as they go out, and a worker cron moves the stream into this table. ``stream_id``
(the stream entry's id) is UNIQUE, so a batch delivered twice inserts nothing twice.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntId, TenantOwned

MAX_TEXT = 4096  # Telegram's longest message text


class Direction(StrEnum):
    IN = "in"  # the fan wrote or pressed a button
    OUT = "out"  # the bot sent it


class ChatMessage(TenantOwned, Base):
    __tablename__ = "chat_messages"
    tenant_id_indexed = False  # the fan's index leads with it
    __table_args__ = (
        # A fan's messages newest first, keyset pages on (created_at, id).
        Index(
            "ix_chat_messages_tenant_id_user_id_created_at_id",
            "tenant_id",
            "user_id",
            "created_at",
            "id",
        ),
        Index("ix_chat_messages_created_at", "created_at"),  # the retention cron
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    direction: Mapped[Direction] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    telegram_message_id: Mapped[int | None] = mapped_column(BigInteger)
    stream_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column()
