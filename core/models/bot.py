"""Rows the bot area owns: referral attributions and per-tenant text overrides."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import SERVER_NOW, Base, BigIntId, TenantOwned, TimestampMixin, utcnow


class Referral(TenantOwned, TimestampMixin, Base):
    """One fan brought in by another. The UNIQUE on ``referred_id`` is what makes a referral
    count once, whatever the update stream does (retries, duplicates, repeated ``/start``)."""

    __tablename__ = "referrals"
    __table_args__ = (UniqueConstraint("tenant_id", "referred_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    referrer_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    referred_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    reward: Mapped[int] = mapped_column(Integer, default=0)


class TenantText(TenantOwned, Base):
    """A creator's override of one fan-facing text in one language (a sandboxed jinja2
    template, validated when saved; see :mod:`tenants.texts`)."""

    __tablename__ = "tenant_texts"
    __table_args__ = (UniqueConstraint("tenant_id", "key", "language"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    language: Mapped[str] = mapped_column(String(8))
    template: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(server_default=SERVER_NOW, default=utcnow)
