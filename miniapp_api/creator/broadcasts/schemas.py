from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from jobs.broadcasts.schemas import AudienceSpec, Progress


class ButtonIn(BaseModel):
    text: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1, max_length=2048)


class BroadcastIn(BaseModel):
    """Telegram HTML (≤ 4096 characters of visible text; ≤ 1024 with media), an optional file
    from the creator's own drive, rows of URL buttons, and the audience."""

    text: str = Field(default="", max_length=20_000)
    media_file_id: int | None = Field(default=None, gt=0, lt=2**63)
    buttons: list[list[ButtonIn]] = Field(default_factory=list, max_length=8)
    audience: AudienceSpec = Field(default_factory=AudienceSpec)


class BroadcastOut(BaseModel):
    id: int
    status: str
    text: str
    media_kind: str | None
    media_file_id: int | None
    buttons: list[list[dict[str, str]]]
    audience: AudienceSpec
    total: int
    sent: int
    failed: int
    blocked: int
    unconfirmed: int
    throttled: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    audience_count: int | None = None


class BroadcastPage(BaseModel):
    items: list[BroadcastOut]
    next_cursor: int | None
    daily_limit: int | None
    used_today: int


class AudienceCount(BaseModel):
    count: int


class PreviewOut(BaseModel):
    queued: bool = True


__all__ = [
    "AudienceCount",
    "AudienceSpec",
    "BroadcastIn",
    "BroadcastOut",
    "BroadcastPage",
    "ButtonIn",
    "PreviewOut",
    "Progress",
]
