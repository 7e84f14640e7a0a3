"""Tenants (creators and the platform itself) and the Telegram bots they connect."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntId, TenantOwned, TimestampMixin


class TenantRole(StrEnum):
    CREATOR = "creator"
    PLATFORM = "platform"  # the manager bot's tenant


class Tenant(TimestampMixin, Base):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[TenantRole] = mapped_column(String(16), default=TenantRole.CREATOR)
    plan: Mapped[str] = mapped_column(String(32), default="basic")
    owner_telegram_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    default_language: Mapped[str] = mapped_column(String(8), default="en")
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_at: Mapped[datetime | None]


class TenantBot(TenantOwned, TimestampMixin, Base):
    """A BotFather bot connected to a tenant. The token is stored encrypted, never in clear."""

    __tablename__ = "tenant_bots"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    telegram_bot_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    username: Mapped[str] = mapped_column(String(64))
    token_encrypted: Mapped[str] = mapped_column(Text)
    # A keyed hash of the webhook secret: enough to check the header, useless if leaked.
    webhook_secret_hash: Mapped[str | None] = mapped_column(String(64))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)


class TenantAdmin(TenantOwned, TimestampMixin, Base):
    """A co-admin the creator added by Telegram user id. The owner is not listed here: the
    owner is ``Tenant.owner_telegram_id`` and cannot be removed."""

    __tablename__ = "tenant_admins"
    tenant_id_indexed = False  # UNIQUE (tenant_id, telegram_id) leads with it
    __table_args__ = (UniqueConstraint("tenant_id", "telegram_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    added_by_telegram_id: Mapped[int] = mapped_column(BigInteger)
