"""Numbers for the creator panel: daily rollups per tenant, and the days each fan was active.

``tenant_daily_stats`` is a long table — one row per (tenant, UTC day, metric) — so a new
source of numbers (views, unlocks, subscribers once those areas exist) adds metrics without a
migration; an absent row means zero. It is rebuilt from events by :mod:`tenants.stats`.

``user_activity_days`` records that a fan was seen on a UTC day, once per source: ``bot`` (any
update) and ``app`` (a Mini App open, which also drives the open-the-app streak tasks).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import SERVER_NOW, Base, BigIntId, TenantOwned, utcnow


class ActivitySource(StrEnum):
    BOT = "bot"
    APP = "app"


class TenantDailyStat(TenantOwned, Base):
    __tablename__ = "tenant_daily_stats"
    tenant_id_indexed = False  # UNIQUE (tenant_id, day, metric) leads with it
    __table_args__ = (UniqueConstraint("tenant_id", "day", "metric"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    metric: Mapped[str] = mapped_column(String(48))
    value: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(server_default=SERVER_NOW, default=utcnow)


class UserActivityDay(TenantOwned, Base):
    __tablename__ = "user_activity_days"
    tenant_id_indexed = False  # UNIQUE (tenant_id, user_id, source, day) leads with it
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "source", "day"),
        # The rollup counts distinct fans per (day, tenant) from this index alone.
        Index("ix_user_activity_days_day_tenant_id_user_id", "day", "tenant_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    source: Mapped[ActivitySource] = mapped_column(String(8))
