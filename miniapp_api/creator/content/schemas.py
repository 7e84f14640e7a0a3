"""Shapes of the creator's post editor."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field

from miniapp_api.content.schemas import MediaOut

Access = Literal["free", "vip", "ppv", "task"]
Id = Annotated[int, Field(ge=1, le=2**63 - 1)]


class PostIn(BaseModel):
    """A new post. ``text`` may be HTML (sanitized to Telegram's subset); ``file_ids`` are files
    of your drive, in display order. ``publish`` publishes now; ``publish_at`` schedules."""

    text: str = Field(default="", max_length=20_000)
    teaser: str = Field(default="", max_length=280)
    access: Access = "free"
    price_stars: int | None = Field(default=None, ge=1, le=10_000)
    package_ids: list[Id] = Field(default_factory=list, max_length=20)
    unlock_task_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    file_ids: list[Id] = Field(default_factory=list, max_length=10)
    pinned: bool = False
    publish: bool = False
    publish_at: AwareDatetime | None = None


class PostPatch(BaseModel):
    """Only the fields sent change."""

    text: str | None = Field(default=None, max_length=20_000)
    teaser: str | None = Field(default=None, max_length=280)
    access: Access | None = None
    price_stars: int | None = Field(default=None, ge=1, le=10_000)
    package_ids: list[Id] | None = Field(default=None, max_length=20)
    unlock_task_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    file_ids: list[Id] | None = Field(default=None, max_length=10)
    pinned: bool | None = None


class PublishIn(BaseModel):
    """Empty: publish now. ``publish_at`` in the future: scheduled."""

    publish_at: AwareDatetime | None = None


class CreatorMediaOut(MediaOut):
    """A media item as its creator sees it: ``id`` is the post-media id, ``file_id`` the drive
    file, which is what ``file_ids`` takes (send them back unchanged to keep the media)."""

    file_id: int


class CreatorPostOut(BaseModel):
    id: int
    status: str
    access: str
    text_html: str
    teaser: str
    price_stars: int | None
    package_ids: list[int]
    unlock_task_id: int | None
    pinned: bool
    publish_at: datetime | None
    published_at: datetime | None
    created_at: datetime
    updated_at: datetime
    media: list[CreatorMediaOut]
    preview_url: str | None


class PostsOut(BaseModel):
    items: list[CreatorPostOut]
    next_cursor: str | None


class StatsOut(BaseModel):
    views: int
    unlocks: int
    unlocks_by_source: dict[str, int]
    revenue_stars: int
    purchases: int


class GiftIn(BaseModel):
    telegram_id: int = Field(ge=1, lt=2**53)


class GiftOut(BaseModel):
    granted: bool
