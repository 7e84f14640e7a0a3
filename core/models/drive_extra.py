"""Rows the Mini App adds around the drive and the tool store: tags, share links, favourites.

Tags live in their own table (one row per file and tag) so "every file tagged X" is an index
lookup rather than a scan of a JSON column. A share link stores only the SHA-256 of its token:
a leaked database cannot be turned into working links.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntId, TenantOwned, TimestampMixin


class FileTag(TenantOwned, Base):
    """One tag on one file. ``(tenant_id, user_id, tag, file_id)`` answers "the user's files
    tagged X" from the index alone; ``UNIQUE (file_id, tag)`` answers "is this file tagged X"
    and the tags of a page of files."""

    __tablename__ = "file_tags"
    tenant_id_indexed = False  # the (tenant_id, user_id, tag, file_id) index leads with it
    __table_args__ = (
        UniqueConstraint("file_id", "tag"),
        Index(
            "ix_file_tags_tenant_id_user_id_tag_file_id", "tenant_id", "user_id", "tag", "file_id"
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    file_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("files.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(64))


class ShareLink(TenantOwned, TimestampMixin, Base):
    """A public, expiring, revocable link to one file."""

    __tablename__ = "share_links"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    file_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("files.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ToolFavourite(TenantOwned, TimestampMixin, Base):
    __tablename__ = "tool_favourites"
    tenant_id_indexed = False  # UNIQUE (tenant_id, user_id, tool_id) leads with it
    __table_args__ = (UniqueConstraint("tenant_id", "user_id", "tool_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    tool_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("tools.id", ondelete="CASCADE"))
