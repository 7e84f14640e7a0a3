"""Shapes of the creator's VIP screen."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

ChannelStatus = Literal["admin", "not_admin", "unreachable"]


class PackageIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    description: str = Field(default="", max_length=1000)
    perks: list[str] = Field(default_factory=list, max_length=10)
    price_stars: int = Field(ge=1, le=10_000, description="Stars per 30 days")
    is_active: bool = True
    channel_chat_id: int | None = Field(default=None, ge=-(2**53), lt=0)
    position: int = Field(default=0, ge=0, le=10_000)


class PackagePatch(BaseModel):
    """Only the fields sent change; ``channel_chat_id: null`` removes the channel."""

    name: str | None = Field(default=None, min_length=1, max_length=64)
    description: str | None = Field(default=None, max_length=1000)
    perks: list[str] | None = Field(default=None, max_length=10)
    price_stars: int | None = Field(default=None, ge=1, le=10_000)
    is_active: bool | None = None
    channel_chat_id: int | None = Field(default=None, ge=-(2**53), lt=0)
    position: int | None = Field(default=None, ge=0, le=10_000)


class PackageOut(BaseModel):
    id: int
    name: str
    description: str
    perks: list[str]
    price_stars: int
    is_active: bool
    channel_chat_id: int | None
    position: int
    subscribers: dict[str, int] = Field(description="subscriptions by status")
    channel_status: ChannelStatus | None = Field(
        default=None,
        description="whether the bot is an admin of the channel (needed for invite links "
        "and for removing members whose VIP ended); only on single-package answers",
    )


class PackagesOut(BaseModel):
    items: list[PackageOut]


class SubscriberOut(BaseModel):
    subscription_id: int
    package_id: int
    user_id: int
    telegram_id: int
    first_name: str
    username: str | None
    status: str
    period_end: datetime
    is_recurring: bool
    cancelled_at: datetime | None
    expired_at: datetime | None
    created_at: datetime


class SubscribersOut(BaseModel):
    items: list[SubscriberOut]
    next_cursor: str | None
