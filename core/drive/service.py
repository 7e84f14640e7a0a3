"""Drive rules as plain async functions taking a session (they only flush; the edge commits).

Per tenant and per user: a fan sees only their own folders and files, and any other id is
:class:`core.errors.NotFoundError`. Trash is a ``deleted_at`` time: trashing a folder stamps
it and everything below with the same time, so restoring it brings back exactly what went with
it (items trashed on their own earlier stay in the trash). Storage objects of purged files are
deleted by a queued job after the rows' deletion commits, never before.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import unicodedata
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.drive import repository as repo
from core.drive.errors import (
    FolderConflictError,
    ImageTooLargeError,
    InvalidCursorError,
    NotInTrashError,
    PremiumFileError,
    QuotaExceededError,
    UnsupportedFileTypeError,
)
from core.errors import NotFoundError, ValidationError
from core.models import File, Folder, ShareLink, Tenant
from core.models.drive import FileSource
from core.queue import defer_job
from core.storage import ObjectTooLargeError, Storage
from jobs import media
from tenants.plans import effective_limits

METADATA_TASK = "drive_file_metadata"
DELETE_OBJECTS_TASK = "drive_delete_objects"
TRASH_RETENTION = timedelta(days=30)
MAX_FILE_BYTES = 2 * 1024**3
"""Largest single upload on any plan (the plan's total quota applies as well)."""
HEAD_BYTES = 64 * 1024
"""Bytes read before accepting an upload: enough to sniff the type and read image headers."""
MAX_TAGS = 20
MAX_PAGE = 200
SHARE_MAX_SECONDS = 30 * 24 * 3600
_CONTROL = ("Cc", "Cf", "Zl", "Zp")
_TAG = re.compile(r"^[\w][\w .+-]{0,63}$")


@dataclass(frozen=True, slots=True)
class Page:
    files: Sequence[repo.ListedFile]
    tags: dict[int, list[str]]
    next_cursor: str | None
    folders: Sequence[repo.ListedFolder] = field(default_factory=tuple)
    breadcrumbs: Sequence[repo.ListedFolder] = field(default_factory=tuple)
    """The listed folder and its parents, root first (empty at the root and in searches)."""


@dataclass(frozen=True, slots=True)
class UsageDrift:
    """A counter row that did not match the files (``user_id`` None: the tenant's row)."""

    user_id: int | None
    counted_bytes: int
    actual_bytes: int
    counted_files: int
    actual_files: int


@dataclass(frozen=True, slots=True)
class Usage:
    user_bytes: int
    tenant_bytes: int
    quota_bytes: int | None
    max_file_bytes: int


# -- names and cursors -------------------------------------------------------------------------


def clean_name(name: str) -> str:
    """A display name safe everywhere: NFC, no control or format characters, no path
    separators, no ``.``/``..``, at most 255 bytes of UTF-8. ``ValidationError`` if nothing
    is left."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(" " if unicodedata.category(ch) in _CONTROL else ch for ch in text)
    text = " ".join(text.replace("/", "_").replace("\\", "_").split())
    while len(text.encode()) > 255:
        text = text[:-1]
    if text in ("", ".", ".."):
        raise ValidationError("the name is empty or not allowed", name=name[:64])
    return text


def clean_tags(tags: Sequence[str]) -> list[str]:
    cleaned = sorted({" ".join(unicodedata.normalize("NFC", t).split()).lower() for t in tags})
    if len(cleaned) > MAX_TAGS:
        raise ValidationError(f"at most {MAX_TAGS} tags per file")
    bad = [t for t in cleaned if not _TAG.match(t)]
    if bad:
        raise ValidationError("tags are 1-64 letters, digits, spaces or . + - _", tags=bad)
    return cleaned


def _encode_cursor(kind: str, value: Any, file_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([kind, value, file_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _decode_cursor(cursor: str | None, kind: str) -> tuple[Any, int] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        cursor_kind, value, file_id = json.loads(raw)
        if cursor_kind != kind or not isinstance(file_id, int):
            raise ValueError
        if kind.startswith("date") or kind in ("search", "trash"):
            value = datetime.fromisoformat(value)
        elif not isinstance(value, int if kind.startswith("size") else str):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidCursorError("the cursor is not valid for this listing") from None
    return value, file_id


def _next_cursor(
    kind: str, files: Sequence[repo.ListedFile], limit: int, column: str
) -> str | None:
    if len(files) < limit:
        return None
    last = files[-1]
    return _encode_cursor(kind, getattr(last, column), last.id)


# -- folders -----------------------------------------------------------------------------------


async def get_folder(session: AsyncSession, tenant_id: int, user_id: int, folder_id: int) -> Folder:
    folder = await repo.get_folder(session, tenant_id, user_id, folder_id)
    if folder is None:
        raise NotFoundError("folder not found", folder_id=folder_id)
    return folder


async def _parent(
    session: AsyncSession, tenant_id: int, user_id: int, parent_id: int | None
) -> int | None:
    if parent_id is not None:
        await get_folder(session, tenant_id, user_id, parent_id)
    return parent_id


async def create_folder(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    name: str,
    parent_id: int | None = None,
    color: str | None = None,
) -> Folder:
    name = clean_name(name)
    parent_id = await _parent(session, tenant_id, user_id, parent_id)
    if await repo.name_taken(session, tenant_id, user_id, parent_id, name):
        raise FolderConflictError("a folder with this name is already there", name=name)
    folder = Folder(
        tenant_id=tenant_id,
        user_id=user_id,
        parent_id=parent_id,
        parent_key=parent_id or 0,
        name=name,
        color=color,
    )
    session.add(folder)
    await session.flush()
    return folder


async def update_folder(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    folder_id: int,
    *,
    changes: dict[str, Any],
) -> Folder:
    """Rename, recolour and/or move (``parent_id``, None for the root) a folder.

    Moving a folder into itself or below itself is refused (409): the tree stays a tree."""
    folder = await get_folder(session, tenant_id, user_id, folder_id)
    name = clean_name(changes["name"]) if "name" in changes else folder.name
    parent_id = folder.parent_id
    if "parent_id" in changes:
        parent_id = await _parent(session, tenant_id, user_id, changes["parent_id"])
        if parent_id is not None:
            chain = await repo.ancestors(session, tenant_id, user_id, parent_id)
            if any(f.id == folder.id for f in chain):
                raise FolderConflictError("a folder cannot move into itself or its subfolders")
    if (name, parent_id) != (folder.name, folder.parent_id) and await repo.name_taken(
        session, tenant_id, user_id, parent_id, name, except_id=folder.id
    ):
        raise FolderConflictError("a folder with this name is already there", name=name)
    folder.name, folder.parent_id, folder.parent_key = name, parent_id, parent_id or 0
    if "color" in changes:
        folder.color = changes["color"]
    await session.flush()
    return folder


async def folder_tree(session: AsyncSession, tenant_id: int, user_id: int) -> Sequence[Folder]:
    """Every live folder of the user (flat, with ``parent_id``: the client builds the tree).

    A folder inside a trashed folder is trashed with it, so no orphan shows up here."""
    return await repo.all_folders(session, tenant_id, user_id)


async def breadcrumbs(
    session: AsyncSession, tenant_id: int, user_id: int, folder_id: int | None
) -> list[Folder]:
    """The live folder and its parents, root first, in one query; a trashed, unknown or
    someone else's folder is :class:`NotFoundError` (a live folder's parents are live:
    trashing a folder trashes what is below it)."""
    if folder_id is None:
        return []
    chain = await repo.ancestors(session, tenant_id, user_id, folder_id)
    if not chain or chain[-1].deleted_at is not None:
        raise NotFoundError("folder not found", folder_id=folder_id)
    return chain


async def trash_folder(session: AsyncSession, tenant_id: int, user_id: int, folder_id: int) -> None:
    await get_folder(session, tenant_id, user_id, folder_id)
    ids = await repo.subtree_ids(session, tenant_id, user_id, folder_id)
    await repo.mark_subtree(session, tenant_id, ids, deleted_at=utcnow())


async def restore_folder(
    session: AsyncSession, tenant_id: int, user_id: int, folder_id: int
) -> Folder:
    """Bring a trashed folder back with what was trashed with it; to the root if its parent
    is gone or still in the trash."""
    folder = await repo.get_folder(session, tenant_id, user_id, folder_id, trashed=True)
    if folder is None:
        raise NotFoundError("folder not found", folder_id=folder_id)
    if folder.deleted_at is None:
        raise NotInTrashError("the folder is not in the trash")
    if folder.parent_id is not None and (
        await repo.get_folder(session, tenant_id, user_id, folder.parent_id) is None
    ):
        folder.parent_id, folder.parent_key = None, 0
    if await repo.name_taken(
        session, tenant_id, user_id, folder.parent_id, folder.name, except_id=folder.id
    ):
        raise FolderConflictError("a folder with this name is already there", name=folder.name)
    await session.flush()
    ids = await repo.subtree_ids(session, tenant_id, user_id, folder_id)
    await repo.mark_subtree(
        session, tenant_id, ids, deleted_at=None, only_deleted_at=folder.deleted_at
    )
    await session.refresh(folder)
    return folder


# -- files -------------------------------------------------------------------------------------


async def get_file(
    session: AsyncSession, tenant_id: int, user_id: int, file_id: int, *, trashed: bool = False
) -> File:
    file = await repo.get_file(session, tenant_id, user_id, file_id, trashed=trashed)
    if file is None:
        raise NotFoundError("file not found", file_id=file_id)
    return file


async def list_folder(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    folder_id: int | None,
    *,
    sort: str = "name",
    descending: bool = False,
    cursor: str | None = None,
    limit: int = 100,
) -> Page:
    """One page of a folder: its breadcrumbs, its subfolders (first page only) and up to
    ``limit`` files, keyset-paginated on (sort column, id) so ties never repeat or skip."""
    kind = f"{sort}:{'desc' if descending else 'asc'}"
    after = _decode_cursor(cursor, kind)
    limit = max(1, min(limit, MAX_PAGE))
    crumbs, folders = await repo.crumbs_and_children(
        session, tenant_id, user_id, folder_id, children=after is None
    )
    if folder_id is not None and (not crumbs or crumbs[-1].deleted_at is not None):
        raise NotFoundError("folder not found", folder_id=folder_id)
    files, tags = await repo.list_files(
        session,
        tenant_id,
        user_id,
        folder_id,
        sort=sort,
        descending=descending,
        after=after,
        limit=limit,
    )
    return Page(
        files=files,
        tags=tags,
        next_cursor=_next_cursor(kind, files, limit, repo.SORT_COLUMNS[sort].key),
        folders=folders,
        breadcrumbs=crumbs,
    )


async def search(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    query: str | None = None,
    tag: str | None = None,
    kind: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page:
    """Files of the whole drive whose name contains ``query``, tagged ``tag``, of type ``kind``
    (``image``, ``video``, ``audio``, ``text`` or a full MIME type), newest first."""
    if not (query or tag or kind):
        raise ValidationError("give at least one of q, tag or type")
    after = _decode_cursor(cursor, "search")
    limit = max(1, min(limit, MAX_PAGE))
    wanted = repo.SearchFilter(
        query=query or None,
        tag=" ".join(unicodedata.normalize("NFC", tag).split()).lower() if tag else None,
        mime_prefix=None if kind is None else (kind if "/" in kind else f"{kind}/"),
    )
    files, tags = await repo.search_files(
        session, tenant_id, user_id, wanted, after=after, limit=limit
    )
    return Page(
        files=files,
        tags=tags,
        next_cursor=_next_cursor("search", files, limit, "created_at"),
    )


async def update_file(
    session: AsyncSession, tenant_id: int, user_id: int, file_id: int, *, changes: dict[str, Any]
) -> File:
    """Rename and/or move (``folder_id``, None for the root) one file."""
    file = await get_file(session, tenant_id, user_id, file_id)
    if "name" in changes:
        file.name = clean_name(changes["name"])
    if "folder_id" in changes:
        file.folder_id = await _parent(session, tenant_id, user_id, changes["folder_id"])
    await session.flush()
    return file


async def move_files(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    file_ids: Sequence[int],
    folder_id: int | None,
) -> Sequence[File]:
    """Move several files at once: all of them or none (any unknown id is a 404)."""
    wanted = set(file_ids)
    folder_id = await _parent(session, tenant_id, user_id, folder_id)
    files = await repo.get_files(session, tenant_id, user_id, sorted(wanted))
    missing = wanted - {f.id for f in files}
    if missing:
        raise NotFoundError("file not found", file_ids=sorted(missing))
    for file in files:
        file.folder_id = folder_id
    await session.flush()
    return files


async def set_tags(
    session: AsyncSession, tenant_id: int, user_id: int, file_id: int, tags: Sequence[str]
) -> list[str]:
    file = await get_file(session, tenant_id, user_id, file_id)
    cleaned = clean_tags(tags)
    await repo.replace_tags(session, file, cleaned)
    return cleaned


async def tags_of(
    session: AsyncSession, tenant_id: int, file_ids: Sequence[int]
) -> dict[int, list[str]]:
    return await repo.tags_of(session, tenant_id, file_ids)


async def user_tags(session: AsyncSession, tenant_id: int, user_id: int) -> list[tuple[str, int]]:
    return await repo.user_tags(session, tenant_id, user_id)


async def trash_file(session: AsyncSession, tenant_id: int, user_id: int, file_id: int) -> None:
    file = await get_file(session, tenant_id, user_id, file_id)
    file.deleted_at = utcnow()
    await session.flush()


async def restore_file(session: AsyncSession, tenant_id: int, user_id: int, file_id: int) -> File:
    file = await get_file(session, tenant_id, user_id, file_id, trashed=True)
    if file.deleted_at is None:
        raise NotInTrashError("the file is not in the trash")
    if file.folder_id is not None and (
        await repo.get_folder(session, tenant_id, user_id, file.folder_id) is None
    ):
        file.folder_id = None
    file.deleted_at = None
    await session.flush()
    return file


async def trash(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    cursor: str | None = None,
    limit: int = MAX_PAGE,
) -> Page:
    """The trash, latest first: its folders on the first page, files ``limit`` at a time."""
    after = _decode_cursor(cursor, "trash")
    limit = max(1, min(limit, MAX_PAGE))
    folders, files = await repo.trashed(session, tenant_id, user_id, after=after, limit=limit)
    return Page(
        files=files,
        tags=await tags_of(session, tenant_id, [f.id for f in files]),
        next_cursor=_next_cursor("trash", files, limit, "deleted_at"),
        folders=folders,
    )


def _object_keys(files: Sequence[File]) -> list[str]:
    return [k for f in files for k in (f.storage_key, f.thumbnail_key) if k]


def _delete_objects_later(session: AsyncSession, files: Sequence[File]) -> None:
    keys = _object_keys(files)
    if keys:
        defer_job(session, DELETE_OBJECTS_TASK, keys)


async def purge_file(session: AsyncSession, tenant_id: int, user_id: int, file_id: int) -> None:
    """Delete a trashed file for good (a live one must go to the trash first: 409)."""
    file = await get_file(session, tenant_id, user_id, file_id, trashed=True)
    if file.deleted_at is None:
        raise NotInTrashError("move the file to the trash first")
    await repo.delete_files(session, tenant_id, [file.id])
    _delete_objects_later(session, [file])


async def purge_folder(session: AsyncSession, tenant_id: int, user_id: int, folder_id: int) -> None:
    folder = await repo.get_folder(session, tenant_id, user_id, folder_id, trashed=True)
    if folder is None:
        raise NotFoundError("folder not found", folder_id=folder_id)
    if folder.deleted_at is None:
        raise NotInTrashError("move the folder to the trash first")
    ids = await repo.subtree_ids(session, tenant_id, user_id, folder_id)
    files = await repo.trashed_files(session, tenant_id, user_id, ids)
    await repo.delete_files(session, tenant_id, [f.id for f in files])
    await repo.delete_trashed_folders(session, tenant_id, user_id, ids)
    _delete_objects_later(session, files)


async def empty_trash(session: AsyncSession, tenant_id: int, user_id: int) -> int:
    """Delete everything in the user's trash; returns how many files went."""
    files = await repo.trashed_files(session, tenant_id, user_id)
    await repo.delete_files(session, tenant_id, [f.id for f in files])
    await repo.delete_trashed_folders(session, tenant_id, user_id)
    _delete_objects_later(session, files)
    return len(files)


async def purge_expired(
    session: AsyncSession, *, now: datetime | None = None, batch: int = 1000
) -> int:
    """The trash cron: delete what has been in any trash for 30 days (a batch per call)."""
    before = (now or utcnow()) - TRASH_RETENTION
    files, folders = await repo.expired_trash(session, before, batch)
    await repo.delete_files_any(session, [f.id for f in files])
    await repo.delete_folders(session, [f.id for f in folders])
    _delete_objects_later(session, files)
    return len(files) + len(folders)


# -- usage and uploads -------------------------------------------------------------------------


async def usage(session: AsyncSession, tenant: Tenant, user_id: int) -> Usage:
    """Storage used by the user and their tenant (trash included) against the tenant's
    quota: two rows of the counters, never a sum over the files."""
    quota = effective_limits(tenant.plan, tenant.config).storage_quota_bytes
    tenant_bytes, user_bytes = await repo.usage_of(session, tenant.id, user_id)
    return Usage(
        user_bytes=user_bytes,
        tenant_bytes=tenant_bytes,
        quota_bytes=quota,
        max_file_bytes=MAX_FILE_BYTES,
    )


async def reconcile_usage(session: AsyncSession, tenant_id: int) -> list[UsageDrift]:
    """Recompute the tenant's usage counters from its files and fix those that drifted.

    The triggers keep the counters exact; this is the safety net for what bypasses them
    (rows written with triggers disabled, a restore from a partial backup). The tenant's
    counter row is held first, which keeps every writer of the tenant's files waiting until
    the commit, so the sums and the counters describe the same files."""
    await repo.lock_usage(session, tenant_id)
    actual = await repo.usage_from_files(session, tenant_id)
    counted = await repo.usage_rows(session, tenant_id)
    fixes = {
        key: actual.get(key, (0, 0))
        for key in actual.keys() | counted.keys()
        if actual.get(key, (0, 0)) != counted.get(key, (0, 0))
    }
    await repo.write_usage(session, tenant_id, fixes)
    return [
        _drift(key, counted.get(key, (0, 0)), fixes[key])
        for key in sorted(fixes, key=lambda k: k[0])
    ]


def _drift(
    key: tuple[int, int | None], counted: tuple[int, int], actual: tuple[int, int]
) -> UsageDrift:
    return UsageDrift(
        user_id=key[1],
        counted_bytes=counted[0],
        actual_bytes=actual[0],
        counted_files=counted[1],
        actual_files=actual[1],
    )


async def tenants_with_usage(session: AsyncSession) -> list[int]:
    """Every tenant that has stored a file (what the reconciliation cron goes through)."""
    return await repo.tenants_with_usage(session)


async def _with_head(chunks: AsyncIterator[bytes]) -> tuple[bytes, AsyncIterator[bytes]]:
    """Read at least :data:`HEAD_BYTES` (or everything) and give back a stream of the whole."""
    head = bytearray()
    exhausted = True
    async for chunk in chunks:
        head += chunk
        if len(head) >= HEAD_BYTES:
            exhausted = False
            break

    async def whole() -> AsyncIterator[bytes]:
        if head:
            yield bytes(head)
        if not exhausted:
            async for chunk in chunks:
                yield chunk

    return bytes(head), whole()


def _check_image_header(head: bytes) -> None:
    try:
        media.open_image(head, media.DEFAULT_MAX_IMAGE_PIXELS).close()
    except media.DecompressionBombError as exc:
        raise ImageTooLargeError(
            "the image has too many pixels", max_pixels=exc.max_pixels
        ) from exc
    except media.UnsupportedMediaError:
        pass  # a header beyond the first bytes: the metadata job checks the whole file


async def upload(
    session: AsyncSession,
    storage: Storage,
    tenant: Tenant,
    user_id: int,
    *,
    name: str,
    chunks: AsyncIterator[bytes],
    folder_id: int | None = None,
    declared_size: int | None = None,
) -> File:
    """Store a streamed upload and record it; thumbnails and measurements follow in the queue.

    Refused before any byte is stored: a bad name or folder, a declared size over the per-file
    limit or the room left in the tenant's quota (413), a type not recognised from the content
    (415; the client's type and the file name are never trusted), an image whose header
    promises a decompression bomb (413). While streaming, going past the room left is 413.
    """
    name = clean_name(name)
    folder_id = await _parent(session, tenant.id, user_id, folder_id)
    quota = effective_limits(tenant.plan, tenant.config).storage_quota_bytes
    room = MAX_FILE_BYTES
    if quota is not None:
        room = min(room, quota - await repo.tenant_bytes(session, tenant.id))
    if room <= 0 or (declared_size is not None and declared_size > room):
        raise QuotaExceededError("the file does not fit in the storage quota", room=max(room, 0))
    head, stream = await _with_head(chunks)
    mime = media.sniff_mime(head)
    if mime == media.OCTET_STREAM:
        raise UnsupportedFileTypeError("this kind of file is not supported")
    if mime.startswith("image/"):
        _check_image_header(head)
    key = f"drive/{tenant.id}/{user_id}/{uuid.uuid4().hex}"
    try:
        stored = await storage.put_stream(key, stream, content_type=mime, max_bytes=room)
    except ObjectTooLargeError as exc:
        raise QuotaExceededError("the file does not fit in the storage quota", room=room) from exc
    file = File(
        tenant_id=tenant.id,
        user_id=user_id,
        folder_id=folder_id,
        name=name,
        storage_key=stored.key,
        mime_type=mime,
        size=stored.size,
        sha256=stored.sha256,
        source=FileSource.UPLOAD,
        provenance={},
    )
    session.add(file)
    await session.flush()
    await _check_quota_after_insert(session, storage, tenant.id, quota, stored.key)
    if mime.split("/")[0] in ("image", "video", "audio"):
        defer_job(session, METADATA_TASK, file.id, tenant.id)
    return file


async def _check_quota_after_insert(
    session: AsyncSession, storage: Storage, tenant_id: int, quota: int | None, key: str
) -> None:
    """The quota again, now exactly: the insert's trigger holds the tenant's counter until
    commit, so uploads that all saw room before streaming cannot together overshoot it."""
    if quota is None:
        return
    used = await repo.tenant_bytes(session, tenant_id)
    if used > quota:
        await storage.delete(key)
        raise QuotaExceededError("the file does not fit in the storage quota", room=0)


# -- share links -------------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_share(
    session: AsyncSession, tenant_id: int, user_id: int, file_id: int, *, expires_in: int
) -> tuple[ShareLink, str]:
    """A new public link to the file, valid ``expires_in`` seconds; the token is shown once."""
    if not 60 <= expires_in <= SHARE_MAX_SECONDS:
        raise ValidationError(f"expires_in must be within 60..{SHARE_MAX_SECONDS} seconds")
    file = await get_file(session, tenant_id, user_id, file_id)
    if await repo.is_premium_file(session, tenant_id, file.id):
        raise PremiumFileError("this file is premium content of a post and cannot be shared")
    token = secrets.token_urlsafe(24)
    link = ShareLink(
        tenant_id=tenant_id,
        user_id=user_id,
        file_id=file.id,
        token_hash=_token_hash(token),
        expires_at=utcnow() + timedelta(seconds=expires_in),
    )
    session.add(link)
    await session.flush()
    return link, token


async def shares_of_file(
    session: AsyncSession, tenant_id: int, user_id: int, file_id: int
) -> Sequence[ShareLink]:
    await get_file(session, tenant_id, user_id, file_id)
    return await repo.shares_of_file(session, tenant_id, file_id)


async def revoke_share(session: AsyncSession, tenant_id: int, user_id: int, share_id: int) -> None:
    link = await repo.get_share(session, tenant_id, user_id, share_id)
    if link is None:
        raise NotFoundError("share link not found", share_id=share_id)
    if link.revoked_at is None:
        link.revoked_at = utcnow()
        await session.flush()


async def resolve_share(session: AsyncSession, token: str) -> File:
    """The file behind a public link; revoked, expired or unknown links are all 404 — and so
    is a link to a file that became premium content after the link was made."""
    link = await repo.share_by_hash(session, _token_hash(token))
    if link is None or link.revoked_at is not None or link.expires_at <= utcnow():
        raise NotFoundError("this link does not exist or has expired")
    file = await repo.file_for_share(session, link)
    if file is None or await repo.is_premium_file(session, link.tenant_id, file.id):
        raise NotFoundError("this link does not exist or has expired")
    return file
