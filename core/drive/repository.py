"""All SQL of the drive. Every statement starts from :func:`core.db.tenant_select` (or filters
``tenant_id`` first) and names the user, so one fan's query never sees another's rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, literal, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.models import File, FileTag, Folder, Post, PostAccess, PostMedia, ShareLink


def _live(model: type[File] | type[Folder]) -> ColumnElement[bool]:
    return model.deleted_at.is_(None)


# -- folders -----------------------------------------------------------------------------------


async def get_folder(
    session: AsyncSession, tenant_id: int, user_id: int, folder_id: int, *, trashed: bool = False
) -> Folder | None:
    stmt = tenant_select(Folder, tenant_id).where(Folder.user_id == user_id, Folder.id == folder_id)
    if not trashed:
        stmt = stmt.where(_live(Folder))
    folder: Folder | None = await session.scalar(stmt)
    return folder


async def child_folders(
    session: AsyncSession, tenant_id: int, user_id: int, parent_id: int | None
) -> Sequence[Folder]:
    stmt = (
        tenant_select(Folder, tenant_id)
        .where(Folder.user_id == user_id, Folder.parent_key == (parent_id or 0), _live(Folder))
        .order_by(Folder.name, Folder.id)
    )
    return (await session.scalars(stmt)).all()


async def all_folders(session: AsyncSession, tenant_id: int, user_id: int) -> Sequence[Folder]:
    stmt = (
        tenant_select(Folder, tenant_id)
        .where(Folder.user_id == user_id, _live(Folder))
        .order_by(Folder.name, Folder.id)
    )
    return (await session.scalars(stmt)).all()


async def name_taken(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    parent_id: int | None,
    name: str,
    *,
    except_id: int | None = None,
) -> bool:
    """Whether a folder (live or trashed: the UNIQUE constraint counts both) has the name."""
    stmt = tenant_select(Folder, tenant_id).where(
        Folder.user_id == user_id, Folder.parent_key == (parent_id or 0), Folder.name == name
    )
    if except_id is not None:
        stmt = stmt.where(Folder.id != except_id)
    return await session.scalar(stmt.limit(1)) is not None


async def ancestors(
    session: AsyncSession, tenant_id: int, user_id: int, folder_id: int
) -> list[Folder]:
    """The folder and its parents, root first (one recursive query, both databases)."""
    base = select(Folder.id, Folder.parent_id, literal(0).label("depth")).where(
        Folder.tenant_id == tenant_id, Folder.user_id == user_id, Folder.id == folder_id
    )
    chain = base.cte("chain", recursive=True)
    chain = chain.union_all(
        select(Folder.id, Folder.parent_id, (chain.c.depth + 1).label("depth")).where(
            Folder.tenant_id == tenant_id, Folder.id == chain.c.parent_id
        )
    )
    stmt = (
        tenant_select(Folder, tenant_id)
        .join(chain, chain.c.id == Folder.id)
        .order_by(chain.c.depth.desc())
    )
    return list((await session.scalars(stmt)).all())


async def subtree_ids(
    session: AsyncSession, tenant_id: int, user_id: int, folder_id: int
) -> list[int]:
    """The folder and every folder below it, trashed or not."""
    tree = (
        select(Folder.id)
        .where(Folder.tenant_id == tenant_id, Folder.user_id == user_id, Folder.id == folder_id)
        .cte("tree", recursive=True)
    )
    tree = tree.union_all(
        select(Folder.id).where(Folder.tenant_id == tenant_id, Folder.parent_id == tree.c.id)
    )
    return list((await session.scalars(select(tree.c.id))).all())


async def mark_subtree(
    session: AsyncSession,
    tenant_id: int,
    folder_ids: Sequence[int],
    *,
    deleted_at: datetime | None,
    only_deleted_at: datetime | None = None,
) -> None:
    """Trash (``deleted_at`` set) or restore (``None``) folders and the files in them.

    Restoring passes ``only_deleted_at`` (the folder's own trash time) so items that were
    trashed on their own before stay in the trash."""
    for model, column in ((Folder, Folder.id), (File, File.folder_id)):
        stmt = update(model).where(model.tenant_id == tenant_id, column.in_(folder_ids))
        if deleted_at is not None:
            stmt = stmt.where(model.deleted_at.is_(None))
        elif only_deleted_at is not None:
            stmt = stmt.where(model.deleted_at == only_deleted_at)
        await session.execute(stmt.values(deleted_at=deleted_at))


# -- files -------------------------------------------------------------------------------------


async def get_file(
    session: AsyncSession, tenant_id: int, user_id: int, file_id: int, *, trashed: bool = False
) -> File | None:
    stmt = tenant_select(File, tenant_id).where(File.user_id == user_id, File.id == file_id)
    if not trashed:
        stmt = stmt.where(_live(File))
    file: File | None = await session.scalar(stmt)
    return file


async def get_files(
    session: AsyncSession, tenant_id: int, user_id: int, file_ids: Sequence[int]
) -> Sequence[File]:
    stmt = tenant_select(File, tenant_id).where(
        File.user_id == user_id, File.id.in_(file_ids), _live(File)
    )
    return (await session.scalars(stmt)).all()


SORT_COLUMNS: dict[str, Any] = {
    "name": File.name,
    "date": File.created_at,
    "size": File.size,
    "type": File.mime_type,
}


def _keyset(
    column: Any, descending: bool, after: tuple[Any, int] | None
) -> tuple[list[Any], list[Any]]:
    """ORDER BY and WHERE of a keyset page on ``(column, id)``: a row-value comparison, which
    PostgreSQL answers from the ``(..., column, id)`` index without an OFFSET scan."""
    order = [column.desc(), File.id.desc()] if descending else [column.asc(), File.id.asc()]
    if after is None:
        return order, []
    left = tuple_(column, File.id)
    right = tuple_(literal(after[0], column.type), literal(after[1], File.id.type))
    return order, [left < right if descending else left > right]


async def list_files(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    folder_id: int | None,
    *,
    sort: str,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
) -> Sequence[File]:
    """One page of a folder's live files, keyset-paginated on ``(sort column, id)``."""
    column = SORT_COLUMNS[sort]
    order, condition = _keyset(column, descending, after)
    in_folder = File.folder_id.is_(None) if folder_id is None else File.folder_id == folder_id
    stmt = (
        tenant_select(File, tenant_id)
        .where(File.user_id == user_id, in_folder, _live(File), *condition)
        .order_by(*order)
        .limit(limit)
    )
    return (await session.scalars(stmt)).all()


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def search_files(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    query: str | None,
    tag: str | None,
    mime_prefix: str | None,
    after: tuple[Any, int] | None,
    limit: int,
) -> Sequence[File]:
    """Live files of the user matching every given criterion, newest first."""
    order, condition = _keyset(File.created_at, True, after)
    stmt = tenant_select(File, tenant_id).where(File.user_id == user_id, _live(File), *condition)
    if query:
        stmt = stmt.where(File.name.ilike(_like(query), escape="\\"))
    if mime_prefix:
        stmt = stmt.where(File.mime_type.startswith(mime_prefix, autoescape=True))
    if tag:
        tagged = select(FileTag.file_id).where(
            FileTag.tenant_id == tenant_id, FileTag.user_id == user_id, FileTag.tag == tag
        )
        stmt = stmt.where(File.id.in_(tagged))
    return (await session.scalars(stmt.order_by(*order).limit(limit))).all()


async def trashed(
    session: AsyncSession, tenant_id: int, user_id: int
) -> tuple[Sequence[Folder], Sequence[File]]:
    """What the trash shows: trashed items whose folder is not itself in the trash."""
    parent = Folder.__table__.alias("parent")
    folders = await session.scalars(
        tenant_select(Folder, tenant_id)
        .outerjoin(parent, parent.c.id == Folder.parent_id)
        .where(
            Folder.user_id == user_id,
            Folder.deleted_at.is_not(None),
            or_(parent.c.id.is_(None), parent.c.deleted_at.is_(None)),
        )
        .order_by(Folder.deleted_at.desc(), Folder.id)
    )
    files = await session.scalars(
        tenant_select(File, tenant_id)
        .outerjoin(parent, parent.c.id == File.folder_id)
        .where(
            File.user_id == user_id,
            File.deleted_at.is_not(None),
            or_(parent.c.id.is_(None), parent.c.deleted_at.is_(None)),
        )
        .order_by(File.deleted_at.desc(), File.id)
    )
    return folders.all(), files.all()


async def trashed_files(
    session: AsyncSession, tenant_id: int, user_id: int, folder_ids: Sequence[int] = ()
) -> Sequence[File]:
    """Every trashed file of the user (or only those in ``folder_ids``)."""
    stmt = tenant_select(File, tenant_id).where(
        File.user_id == user_id, File.deleted_at.is_not(None)
    )
    if folder_ids:
        stmt = stmt.where(File.folder_id.in_(folder_ids))
    return (await session.scalars(stmt)).all()


async def delete_files(session: AsyncSession, tenant_id: int, file_ids: Sequence[int]) -> None:
    if file_ids:
        await session.execute(
            delete(File).where(File.tenant_id == tenant_id, File.id.in_(file_ids))
        )


async def delete_trashed_folders(
    session: AsyncSession, tenant_id: int, user_id: int, folder_ids: Sequence[int] = ()
) -> None:
    stmt = delete(Folder).where(
        Folder.tenant_id == tenant_id, Folder.user_id == user_id, Folder.deleted_at.is_not(None)
    )
    if folder_ids:
        stmt = stmt.where(Folder.id.in_(folder_ids))
    await session.execute(stmt)


async def expired_trash(
    session: AsyncSession, before: datetime, limit: int
) -> tuple[Sequence[File], Sequence[Folder]]:
    """Files and folders trashed before ``before``, across tenants (the purge cron)."""
    files = await session.scalars(
        select(File).where(File.deleted_at < before).order_by(File.id).limit(limit)
    )
    folders = await session.scalars(
        select(Folder).where(Folder.deleted_at < before).order_by(Folder.id).limit(limit)
    )
    return files.all(), folders.all()


async def delete_files_any(session: AsyncSession, file_ids: Sequence[int]) -> None:
    """Delete files of any tenant by id (the purge cron, which works across tenants)."""
    if file_ids:
        await session.execute(delete(File).where(File.id.in_(file_ids)))


async def delete_folders(session: AsyncSession, folder_ids: Sequence[int]) -> None:
    if folder_ids:
        await session.execute(delete(Folder).where(Folder.id.in_(folder_ids)))


# -- tags --------------------------------------------------------------------------------------


async def tags_of(
    session: AsyncSession, tenant_id: int, file_ids: Sequence[int]
) -> dict[int, list[str]]:
    if not file_ids:
        return {}
    rows = await session.execute(
        select(FileTag.file_id, FileTag.tag)
        .where(FileTag.tenant_id == tenant_id, FileTag.file_id.in_(file_ids))
        .order_by(FileTag.tag)
    )
    tags: dict[int, list[str]] = {}
    for file_id, tag in rows:
        tags.setdefault(file_id, []).append(tag)
    return tags


async def replace_tags(session: AsyncSession, file: File, tags: Sequence[str]) -> None:
    await session.execute(
        delete(FileTag).where(FileTag.tenant_id == file.tenant_id, FileTag.file_id == file.id)
    )
    session.add_all(
        FileTag(tenant_id=file.tenant_id, user_id=file.user_id, file_id=file.id, tag=tag)
        for tag in tags
    )
    await session.flush()


async def user_tags(session: AsyncSession, tenant_id: int, user_id: int) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(FileTag.tag, func.count())
        .where(FileTag.tenant_id == tenant_id, FileTag.user_id == user_id)
        .group_by(FileTag.tag)
        .order_by(FileTag.tag)
    )
    return [(tag, count) for tag, count in rows]


# -- usage -------------------------------------------------------------------------------------


async def bytes_used(session: AsyncSession, tenant_id: int, user_id: int | None = None) -> int:
    """Bytes stored (trash included, until purged) by the tenant, or by one of its users."""
    stmt = select(func.coalesce(func.sum(File.size), 0)).where(File.tenant_id == tenant_id)
    if user_id is not None:
        stmt = stmt.where(File.user_id == user_id)
    return int(await session.scalar(stmt) or 0)


# -- share links -------------------------------------------------------------------------------


async def share_by_hash(session: AsyncSession, token_hash: str) -> ShareLink | None:
    link: ShareLink | None = await session.scalar(
        select(ShareLink).where(ShareLink.token_hash == token_hash)
    )
    return link


async def get_share(
    session: AsyncSession, tenant_id: int, user_id: int, share_id: int
) -> ShareLink | None:
    link: ShareLink | None = await session.scalar(
        tenant_select(ShareLink, tenant_id).where(
            ShareLink.user_id == user_id, ShareLink.id == share_id
        )
    )
    return link


async def shares_of_file(
    session: AsyncSession, tenant_id: int, file_id: int
) -> Sequence[ShareLink]:
    stmt = (
        tenant_select(ShareLink, tenant_id)
        .where(ShareLink.file_id == file_id)
        .order_by(ShareLink.id.desc())
    )
    return (await session.scalars(stmt)).all()


async def file_for_share(session: AsyncSession, link: ShareLink) -> File | None:
    file: File | None = await session.scalar(
        tenant_select(File, link.tenant_id).where(File.id == link.file_id, _live(File))
    )
    return file


async def is_premium_file(session: AsyncSession, tenant_id: int, file_id: int) -> bool:
    """Whether the file is media of a live post that is not free (premium content): such a
    file is never shared by public link, whoever asks and whenever the link was made."""
    stmt = (
        select(PostMedia.id)
        .join(Post, and_(Post.id == PostMedia.post_id, Post.tenant_id == tenant_id))
        .where(
            PostMedia.tenant_id == tenant_id,
            PostMedia.file_id == file_id,
            Post.deleted_at.is_(None),
            Post.access != PostAccess.FREE,
        )
        .limit(1)
    )
    return await session.scalar(stmt) is not None
