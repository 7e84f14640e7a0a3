"""Shapes of the drive API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Color = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")
Sort = Literal["name", "date", "size", "type"]
Order = Literal["asc", "desc"]


class FolderIn(BaseModel):
    name: str = Field(min_length=1, max_length=255)
    parent_id: int | None = Field(default=None, gt=0)
    color: str | None = Color


class FolderPatch(BaseModel):
    """Only the fields sent change; ``parent_id: null`` moves the folder to the root."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    parent_id: int | None = Field(default=None, gt=0)
    color: str | None = Color


class FolderOut(BaseModel):
    id: int
    name: str
    parent_id: int | None
    color: str | None
    created_at: datetime
    deleted_at: datetime | None = None


class FilePatch(BaseModel):
    """Only the fields sent change; ``folder_id: null`` moves the file to the root."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    folder_id: int | None = Field(default=None, gt=0)


class MoveFiles(BaseModel):
    file_ids: list[int] = Field(min_length=1, max_length=500)
    folder_id: int | None = Field(default=None, gt=0)


class TagsIn(BaseModel):
    tags: list[str] = Field(max_length=20)


class Provenance(BaseModel):
    """Which tool and prompt made a generated file, and the form values to run it again."""

    tool: str | None = None
    prompt: str | None = None
    job_id: int | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ListedFileOut(BaseModel):
    """A file as folder pages, searches and the trash list it: what a grid or a list row
    shows (the thumbnail's link, not the file's own: ``GET /drive/files/{id}`` gives that when
    the file is opened, which halves the links a page signs and a third of its bytes)."""

    id: int
    name: str
    folder_id: int | None
    type: str = Field(description="image, video, audio, text or other")
    mime_type: str
    size: int
    width: int | None
    height: int | None
    duration: float | None
    thumbnail_url: str | None
    tags: list[str]
    source: str
    provenance: Provenance | None
    created_at: datetime
    deleted_at: datetime | None = None


class FileOut(ListedFileOut):
    """One file, opened: with a link that plays it inline (``Range`` works, so media seek)."""

    url: str


class ListingOut(BaseModel):
    folder: FolderOut | None
    breadcrumbs: list[FolderOut]
    folders: list[FolderOut]
    files: list[ListedFileOut]
    next_cursor: str | None


class PageOut(BaseModel):
    files: list[ListedFileOut]
    next_cursor: str | None


class TrashOut(BaseModel):
    folders: list[FolderOut]
    files: list[ListedFileOut]
    next_cursor: str | None = None


class UsageOut(BaseModel):
    user_bytes: int
    tenant_bytes: int
    quota_bytes: int | None
    max_file_bytes: int


class TagCount(BaseModel):
    tag: str
    files: int


class ShareIn(BaseModel):
    expires_in: int = Field(default=7 * 24 * 3600, ge=60, le=30 * 24 * 3600)


class ShareOut(BaseModel):
    id: int
    file_id: int
    expires_at: datetime
    revoked_at: datetime | None
    url: str | None = Field(default=None, description="Only in the answer that created it.")


class DownloadOut(BaseModel):
    url: str
    expires_in: int
