"""Shapes of the fan's feed: posts as a fan may see them (no media at all while locked)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field


class MediaOut(BaseModel):
    """One media item of an open post; ``url`` and ``thumbnail_url`` are links signed for the
    signed-in user, valid an hour (the route checks access again)."""

    id: int
    kind: str = Field(description="photo, video, audio or document")
    mime_type: str
    name: str
    size: int
    width: int | None
    height: int | None
    duration: float | None
    url: str
    thumbnail_url: str | None


class PackageRef(BaseModel):
    id: int
    name: str
    price_stars: int


class UnlockOut(BaseModel):
    """How to open a locked post: buy it (``ppv``), join one of ``packages`` (``vip``) or
    complete ``task_id`` (``task``)."""

    kind: Literal["ppv", "vip", "task"]
    price_stars: int | None = None
    packages: list[PackageRef] = Field(default_factory=list)
    task_id: int | None = None


class PostOut(BaseModel):
    id: int
    access: str
    locked: bool
    unlocked_via: str | None = Field(description="free, unlock, vip or admin; null if locked")
    text_html: str | None = Field(description="sanitized Telegram HTML; null while locked")
    teaser: str
    pinned: bool
    published_at: datetime | None
    media: list[MediaOut]
    media_count: int
    media_kinds: list[str]
    preview_url: str | None = Field(description="the blurred preview of a locked post")
    unlock: UnlockOut | None


class FeedOut(BaseModel):
    items: list[PostOut]
    next_cursor: str | None


class ViewOut(BaseModel):
    counted: bool


class InvoiceLinkOut(BaseModel):
    invoice_link: str
