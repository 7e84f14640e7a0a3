"""Shapes of the creator's fans API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from miniapp_api.creator.dashboard.schemas import EventOut


class FanOut(BaseModel):
    id: int
    telegram_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language: str | None = Field(description="Their choice, else Telegram's language code.")
    is_blocked: bool = Field(description="They blocked the bot.")
    balance: int
    created_at: datetime
    last_seen_at: datetime


class FansOut(BaseModel):
    items: list[FanOut]
    next_cursor: str | None


class FanLevelOut(BaseModel):
    xp: int
    number: int
    name: str


class FanDetailOut(FanOut):
    referred_by: int | None
    referrals: int
    jobs: int
    payments: int
    stars_paid: int
    tasks_completed: int
    level: FanLevelOut


class HistoryOut(BaseModel):
    items: list[EventOut]
    next_cursor: datetime | None = Field(description="Pass back as ``before``.")
