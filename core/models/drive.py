"""The user's cloud drive: folders and files (uploads and generated media).

A file's bytes live in object storage under ``storage_key``; the row carries what the drive and
the chat need without touching storage: type, size, hash, dimensions, duration, a thumbnail, and
for generated media the provenance (tool, prompt, parameters, job). ``output_key``
(``job:{id}:output:{n}``) is UNIQUE per tenant, so a job that runs twice stores its outputs once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntId, TenantOwned, TimestampMixin


class FileSource:
    UPLOAD = "upload"
    GENERATED = "generated"


class Folder(TenantOwned, TimestampMixin, Base):
    """A folder of one user. ``parent_key`` is the parent's id or 0 at the root, so names are
    unique per parent (a UNIQUE over a nullable ``parent_id`` would not hold at the root)."""

    __tablename__ = "folders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "parent_key", "name"),
        CheckConstraint(
            "(parent_id IS NULL AND parent_key = 0)"
            " OR (parent_id IS NOT NULL AND parent_key = parent_id)",
            name="parent_key_matches_parent",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    parent_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("folders.id", ondelete="CASCADE")
    )
    parent_key: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(255))
    color: Mapped[str | None] = mapped_column(String(16))
    deleted_at: Mapped[datetime | None]


class File(TenantOwned, TimestampMixin, Base):
    __tablename__ = "files"
    __table_args__ = (
        UniqueConstraint("storage_key"),
        UniqueConstraint("tenant_id", "output_key"),
        CheckConstraint("size >= 0", name="size_non_negative"),
        Index("ix_files_tenant_id_user_id_folder_id", "tenant_id", "user_id", "folder_id"),
        # Keyset pages of a folder sorted by name or date; trigram search on names (PostgreSQL;
        # a plain index elsewhere). Added by the Mini App drive migration.
        Index(
            "ix_files_tenant_id_user_id_folder_id_name",
            "tenant_id",
            "user_id",
            "folder_id",
            "name",
            "id",
        ),
        Index(
            "ix_files_tenant_id_user_id_folder_id_created_at",
            "tenant_id",
            "user_id",
            "folder_id",
            "created_at",
            "id",
        ),
        Index(
            "ix_files_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    folder_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("folders.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(255))
    storage_key: Mapped[str] = mapped_column(String(1024))
    mime_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    thumbnail_key: Mapped[str | None] = mapped_column(String(1024))
    thumbnail_mime: Mapped[str | None] = mapped_column(String(127))
    source: Mapped[str] = mapped_column(String(16), default=FileSource.UPLOAD)
    job_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("jobs.id", ondelete="SET NULL"), index=True
    )
    output_key: Mapped[str | None] = mapped_column(String(200))
    # For generated media: {"tool": slug, "prompt": ..., "params": {...}, "job_id": ...}
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    deleted_at: Mapped[datetime | None]
