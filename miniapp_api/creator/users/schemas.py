"""Shapes of the creator's fans API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from core.models import ChatMessage
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


class MessageOut(BaseModel):
    id: int
    direction: Literal["in", "out"] = Field(description="in: the fan wrote; out: the bot sent.")
    kind: str = Field(description="text, command, button, photo, video, voice, payment, ...")
    text: str = Field(description="The text or caption (a button's data), at most 4096 chars.")
    telegram_message_id: int | None
    created_at: datetime

    @classmethod
    def of(cls, message: ChatMessage) -> MessageOut:
        return cls(
            id=message.id,
            direction=message.direction,
            kind=message.kind,
            text=message.text,
            telegram_message_id=message.telegram_message_id,
            created_at=message.created_at,
        )


class MessagesOut(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None = Field(description="Pass back as ``before`` for older messages.")
