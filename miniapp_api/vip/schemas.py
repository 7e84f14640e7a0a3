"""Shapes of the fan's VIP screen."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SubscriptionOut(BaseModel):
    id: int
    package_id: int
    status: str = Field(description="active, cancelled (access until period_end) or expired")
    period_end: datetime
    renews: bool
    is_open: bool


class FanPackageOut(BaseModel):
    id: int
    name: str
    description: str
    perks: list[str]
    price_stars: int
    has_channel: bool
    subscription: SubscriptionOut | None


class VipOut(BaseModel):
    packages: list[FanPackageOut]
