"""The AI tool catalogue ("tool store"): platform-wide tools and each tenant's view of them.

A :class:`Tool` is platform data, seeded from the reviewed file ``jobs/catalog/tools.json`` and
editable by the platform afterwards (an edited row is no longer overwritten by the seed). A
tenant never changes a tool; it hides it or sets its own price through
:class:`TenantToolSettings` — a fixed price per unit or a markup over the tool's base cost.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import SERVER_NOW, Base, BigIntId, TenantOwned, TimestampMixin, utcnow


class ToolCategory(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    SPEECH = "speech"
    TEXT = "text"
    THREE_D = "3d"


class PricingModel(StrEnum):
    """How a run's units are counted; price = units x price per unit."""

    PER_USE = "per_use"  # one unit per run
    PER_SECOND = "per_second"  # units = ceil(params[unit_param]) seconds
    PER_UNIT = "per_unit"  # units = params[unit_param] (images, variations, ...)


class Tool(TimestampMixin, Base):
    """One AI tool. ``kind`` is a :class:`jobs.providers.ToolKind` value the provider runs."""

    __tablename__ = "tools"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_non_negative"),
        CheckConstraint("base_cost >= 0", name="base_cost_non_negative"),
        CheckConstraint("timeout_s > 0", name="timeout_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    category: Mapped[ToolCategory] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    provider: Mapped[str] = mapped_column(String(32))
    model: Mapped[str | None] = mapped_column(String(64))
    # {"en": ..., "tr": ..., "ru": ..., "ar": ...}
    names: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    descriptions: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    params_schema: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Fixed parameters the tool adds to every run (e.g. ``{"audio_type": "music"}``, a system
    # prompt or a ``prompt_template``); users cannot override them.
    preset: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    input_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    output_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    pricing_model: Mapped[PricingModel] = mapped_column(String(16), default=PricingModel.PER_USE)
    unit_param: Mapped[str | None] = mapped_column(String(32))
    price: Mapped[int] = mapped_column(Integer)  # fan credits per unit, unless a tenant overrides
    base_cost: Mapped[int] = mapped_column(Integer)  # platform credits per unit, metered
    examples: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    timeout_s: Mapped[int] = mapped_column(Integer, default=120)
    sort_order: Mapped[int] = mapped_column(Integer, default=0)
    # Which seed entry (by content hash) the row was last synced from, and whether the platform
    # edited it since: an edited row is left alone by ``sync_catalog``.
    seed_hash: Mapped[str | None] = mapped_column(String(64))
    edited_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(
        server_default=SERVER_NOW, default=utcnow, onupdate=utcnow
    )


class TenantToolSettings(TenantOwned, TimestampMixin, Base):
    """A tenant's choices about one tool: hidden or not, and its own price per unit.

    ``price`` (fixed credits per unit) wins over ``markup_percent`` (over the base cost); with
    neither, the tool's own price applies. Either way the price never goes below the base cost.
    """

    __tablename__ = "tenant_tool_settings"
    __table_args__ = (
        UniqueConstraint("tenant_id", "tool_id"),
        CheckConstraint("price IS NULL OR price >= 0", name="price_non_negative"),
        CheckConstraint(
            "markup_percent IS NULL OR markup_percent >= 0", name="markup_non_negative"
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    tool_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tools.id", ondelete="CASCADE"))
    is_hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    price: Mapped[int | None] = mapped_column(Integer)
    markup_percent: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=SERVER_NOW, default=utcnow, onupdate=utcnow
    )
