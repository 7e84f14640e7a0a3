"""Broadcasts: a creator's message to many fans, and one durable record per recipient.

A :class:`Broadcast` holds what is sent (HTML text, an optional drive file or Telegram file id,
URL buttons), to whom (an audience spec, frozen at ``max_user_id`` when sending starts), where
the walk over recipients stands (``cursor``), the sender's lease and the running counters.

A :class:`BroadcastDelivery` is one recipient of one broadcast. ``UNIQUE (broadcast_id,
user_id)`` makes a second row for the same fan impossible, and its status moves
``pending → sending → sent | failed | blocked`` with conditional updates, so at most one sender
ever sends to a fan. ``sending`` is written (committed) *before* the Bot API call: a row found
in ``sending`` after its sender died is an intent without a result and becomes ``unconfirmed``
— never sent again (see :mod:`jobs.broadcasts.sender`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntId, TenantOwned, TimestampMixin


class BroadcastStatus(StrEnum):
    DRAFT = "draft"
    RUNNING = "running"  # sending, or waiting for a worker to (re)take it
    PAUSED = "paused"
    LIMITED = "limited"  # stopped at the plan's daily limit; resumes when quota is back
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in (BroadcastStatus.COMPLETED, BroadcastStatus.CANCELLED)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"  # intent recorded, result not yet
    SENT = "sent"
    FAILED = "failed"
    BLOCKED = "blocked"
    UNCONFIRMED = "unconfirmed"  # the sender died between intent and result: never resent


class Broadcast(TenantOwned, TimestampMixin, Base):
    __tablename__ = "broadcasts"
    __table_args__ = (
        Index("ix_broadcasts_tenant_id_status", "tenant_id", "status"),
        Index("ix_broadcasts_status_heartbeat_at", "status", "heartbeat_at"),
    )
    tenant_id_indexed = False  # (tenant_id, status) leads with it

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    created_by_telegram_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[BroadcastStatus] = mapped_column(String(16), default=BroadcastStatus.DRAFT)
    text: Mapped[str] = mapped_column(Text, default="")  # Telegram HTML
    media_kind: Mapped[str | None] = mapped_column(String(16))  # photo|video|audio|document
    media_file_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("files.id", ondelete="SET NULL")
    )
    # The bot's own file id once the media was uploaded (or came from a chat): reused for
    # every recipient instead of uploading the file again.
    telegram_file_id: Mapped[str | None] = mapped_column(String(255))
    buttons: Mapped[list[list[dict[str, str]]]] = mapped_column(JSON, default=list)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Where the bot's live progress message is (a broadcast started from chat).
    progress_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_message_id: Mapped[int | None] = mapped_column(BigInteger)
    progress_locale: Mapped[str | None] = mapped_column(String(8))
    # The walk: recipients with ids in (cursor, max_user_id] are still to be materialised.
    max_user_id: Mapped[int | None] = mapped_column(BigInteger)
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    sent: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    blocked: Mapped[int] = mapped_column(Integer, default=0)
    unconfirmed: Mapped[int] = mapped_column(Integer, default=0)
    throttled: Mapped[int] = mapped_column(Integer, default=0)  # 429s received and retried
    lease_token: Mapped[str | None] = mapped_column(String(36))
    heartbeat_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime | None]


class BroadcastDelivery(TenantOwned, Base):
    __tablename__ = "broadcast_deliveries"
    __table_args__ = (
        UniqueConstraint("broadcast_id", "user_id"),
        Index("ix_broadcast_deliveries_broadcast_id_status", "broadcast_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    broadcast_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("broadcasts.id", ondelete="CASCADE")
    )
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[DeliveryStatus] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None]
