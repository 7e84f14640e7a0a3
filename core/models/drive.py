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
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntId, TenantOwned, TimestampMixin


class FileSource:
    UPLOAD = "upload"
    GENERATED = "generated"


class Folder(TenantOwned, TimestampMixin, Base):
    """A folder of one user. ``parent_key`` is the parent's id or 0 at the root, so names are
    unique per parent (a UNIQUE over a nullable ``parent_id`` would not hold at the root).
    ``parent_id`` is indexed for the subtree walk and the foreign key's ``ON DELETE CASCADE``."""

    __tablename__ = "folders"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "parent_key", "name"),
        Index("ix_folders_parent_id", "parent_id"),
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


LIVE = text("deleted_at IS NULL")
TRASHED = text("deleted_at IS NOT NULL")
IN_FOLDER = text("folder_id IS NOT NULL")


def _live_index(name: str, *columns: str) -> Index:
    """A b-tree over live files only (the trash is a few per cent and is never paged)."""
    return Index(name, *columns, postgresql_where=LIVE, sqlite_where=LIVE)


class File(TenantOwned, TimestampMixin, Base):
    """A stored object of one user.

    Indexes, each for a query of :mod:`core.drive.repository` (all over live rows only):

    - one per folder sort, ``(tenant_id, user_id, folder_id, <sort column>, id)``: a page of a
      folder and every next page (keyset on ``(sort column, id)``) is one ordered index range,
      however big the folder;
    - ``(tenant_id, user_id, created_at, id)``: search walks the user's newest files first;
    - a GIN over ``(tenant_id, user_id, name, mime_type)`` (``btree_gin`` for the ids,
      ``pg_trgm`` for the texts): "name contains" and "type is" among one user's files
      without touching anyone else's (on SQLite a plain index);
    - ``folder_id`` (rows in a folder only): the foreign key's ``ON DELETE SET NULL`` and
      trashing a folder's files; were it to cover the root's NULLs, the planner would take it
      for the root's page and sort the whole root;
    - the trash, ``(tenant_id, user_id, deleted_at)`` over trashed rows only.

    ``tenant_id`` needs no index of its own: ``UNIQUE (tenant_id, output_key)`` leads with it.
    Inserting, deleting or resizing rows keeps :class:`DriveUsage` in step (database triggers).
    """

    __tablename__ = "files"
    tenant_id_indexed = False
    __table_args__ = (
        UniqueConstraint("storage_key"),
        UniqueConstraint("tenant_id", "output_key"),
        CheckConstraint("size >= 0", name="size_non_negative"),
        _live_index("ix_files_live_folder_name", "tenant_id", "user_id", "folder_id", "name", "id"),
        _live_index(
            "ix_files_live_folder_created_at",
            "tenant_id",
            "user_id",
            "folder_id",
            "created_at",
            "id",
        ),
        _live_index("ix_files_live_folder_size", "tenant_id", "user_id", "folder_id", "size", "id"),
        _live_index(
            "ix_files_live_folder_mime_type", "tenant_id", "user_id", "folder_id", "mime_type", "id"
        ),
        _live_index("ix_files_live_created_at", "tenant_id", "user_id", "created_at", "id"),
        Index(
            "ix_files_live_search",
            "tenant_id",
            "user_id",
            "name",
            "mime_type",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops", "mime_type": "gin_trgm_ops"},
            postgresql_where=LIVE,
            sqlite_where=LIVE,
        ),
        Index(
            "ix_files_folder_id", "folder_id", postgresql_where=IN_FOLDER, sqlite_where=IN_FOLDER
        ),
        Index(
            "ix_files_trash",
            "tenant_id",
            "user_id",
            "deleted_at",
            postgresql_where=TRASHED,
            sqlite_where=TRASHED,
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


class DriveUsage(TenantOwned, Base):
    """Bytes and files stored (trash included, until purged): one row per tenant
    (``user_key`` 0, ``user_id`` NULL) and one per user who ever stored a file
    (``user_key`` = ``user_id``; the same trick as :attr:`Folder.parent_key`).

    Database triggers on ``files`` keep the rows in step with every insert, delete and size
    change, in the same transaction, whoever writes (uploads, generated outputs, purges, the
    cascade of a deleted user): the quota check reads one row instead of summing the tenant's
    files, and concurrent uploads cannot both slip under the quota, because the tenant row is
    locked from a file's insert to its commit. Triggers lock the tenant row before user rows,
    so two writers never wait on each other in opposite orders. Deletes only ever ``UPDATE``
    existing rows (a cascade may have removed them first). :func:`core.drive.service.
    reconcile_usage` recomputes the rows from ``files`` should they ever drift.
    """

    __tablename__ = "drive_usage"
    tenant_id_indexed = False  # the primary key leads with it
    __table_args__ = (
        PrimaryKeyConstraint("tenant_id", "user_key"),
        CheckConstraint(
            "(user_id IS NULL AND user_key = 0) OR (user_id IS NOT NULL AND user_key = user_id)",
            name="user_key_matches_user",
        ),
    )

    user_key: Mapped[int] = mapped_column(BigInteger)
    user_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="CASCADE")
    )
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    files: Mapped[int] = mapped_column(BigInteger, default=0)
