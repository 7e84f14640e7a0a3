"""Fans and creators as seen by one tenant: the same Telegram user in two tenants is two rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import SERVER_NOW, Base, BigIntId, TenantOwned, TimestampMixin, utcnow


class User(TenantOwned, TimestampMixin, Base):
    __tablename__ = "users"
    tenant_id_indexed = False  # UNIQUE (tenant_id, telegram_id) leads with it
    __table_args__ = (
        UniqueConstraint("tenant_id", "telegram_id"),
        # A tenant's fans by time: the stats rollups' windows (``atelier stats backfill``).
        Index("ix_users_tenant_id_created_at", "tenant_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    last_name: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64))
    language_code: Mapped[str | None] = mapped_column(String(16))  # as Telegram reports it
    language: Mapped[str | None] = mapped_column(String(8))  # the user's own choice
    referrer_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="SET NULL")
    )
    is_blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    last_seen_at: Mapped[datetime] = mapped_column(server_default=SERVER_NOW, default=utcnow)
