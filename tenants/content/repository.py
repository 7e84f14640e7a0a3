"""All SQL of premium content. Statements start from :func:`core.db.tenant_select` (or filter
``tenant_id`` first), so a post, unlock or view of one tenant is never seen from another."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import Base, tenant_select
from core.models import (
    File,
    MediaKind,
    Order,
    Payment,
    Post,
    PostMedia,
    PostPackage,
    PostStatus,
    PostUnlock,
    PostView,
    TelegramFileId,
    User,
)
from core.models.payments import OrderKind

FeedKey = tuple[bool, datetime, int]


async def insert_ignoring_conflict(
    session: AsyncSession, model: type[Base], values: dict[str, Any], conflict: Sequence[str]
) -> int | None:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING id`` on PostgreSQL and SQLite: the new
    row's id, or None when a row with the same ``conflict`` columns exists (a concurrent
    duplicate waits for the first and then finds it)."""
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    table: Any = model.__table__
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=list(conflict))
        .returning(table.c.id)
    )
    new_id: int | None = (await session.execute(statement)).scalar_one_or_none()
    return new_id


# -- posts -------------------------------------------------------------------------------------


def visible(now: datetime) -> ColumnElement[bool]:
    """What fans may see: not deleted, published (or scheduled and due)."""
    return and_(
        Post.deleted_at.is_(None),
        Post.status.in_([PostStatus.PUBLISHED, PostStatus.SCHEDULED]),
        Post.published_at <= now,
    )


async def get_post(session: AsyncSession, tenant_id: int, post_id: int) -> Post | None:
    statement = tenant_select(Post, tenant_id).where(Post.id == post_id, Post.deleted_at.is_(None))
    post: Post | None = await session.scalar(statement)
    return post


async def post_ids_for_task(session: AsyncSession, tenant_id: int, task_id: int) -> list[int]:
    statement = (
        tenant_select(Post, tenant_id)
        .where(Post.unlock_task_id == task_id, Post.deleted_at.is_(None))
        .with_only_columns(Post.id)
        .order_by(Post.id)
    )
    return list((await session.scalars(statement)).all())


async def get_visible_post(
    session: AsyncSession, tenant_id: int, post_id: int, now: datetime
) -> Post | None:
    statement = tenant_select(Post, tenant_id).where(Post.id == post_id, visible(now))
    post: Post | None = await session.scalar(statement)
    return post


async def feed_page(
    session: AsyncSession, tenant_id: int, now: datetime, after: FeedKey | None, limit: int
) -> Sequence[Post]:
    """Visible posts, pinned first, then newest first (keyset on pinned, date, id)."""
    statement = tenant_select(Post, tenant_id).where(visible(now))
    if after is not None:
        statement = statement.where(
            tuple_(Post.pinned, Post.published_at, Post.id) < tuple_(*after)
        )
    statement = statement.order_by(
        Post.pinned.desc(), Post.published_at.desc(), Post.id.desc()
    ).limit(limit)
    return (await session.scalars(statement)).all()


async def list_posts(
    session: AsyncSession,
    tenant_id: int,
    *,
    status: PostStatus | None,
    before_id: int | None,
    limit: int,
) -> Sequence[Post]:
    """The creator's posts (drafts too), newest first."""
    statement = tenant_select(Post, tenant_id).where(Post.deleted_at.is_(None))
    if status is not None:
        statement = statement.where(Post.status == status)
    if before_id is not None:
        statement = statement.where(Post.id < before_id)
    return (await session.scalars(statement.order_by(Post.id.desc()).limit(limit))).all()


async def publish_due(session: AsyncSession, now: datetime) -> int:
    """Scheduled posts whose time came become published (fans already see them: the feed
    treats a due scheduled post as published, so this only settles the status)."""
    result = await session.execute(
        update(Post)
        .where(
            Post.status == PostStatus.SCHEDULED,
            Post.publish_at <= now,
            Post.deleted_at.is_(None),
        )
        .values(status=PostStatus.PUBLISHED, updated_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- media -------------------------------------------------------------------------------------


async def media_of_posts(
    session: AsyncSession, tenant_id: int, post_ids: Sequence[int]
) -> dict[int, list[tuple[PostMedia, File]]]:
    found: dict[int, list[tuple[PostMedia, File]]] = defaultdict(list)
    if not post_ids:
        return found
    statement = (
        tenant_select(PostMedia, tenant_id)
        .add_columns(File)
        .join(File, and_(File.id == PostMedia.file_id, File.tenant_id == tenant_id))
        .where(PostMedia.post_id.in_(post_ids))
        .order_by(PostMedia.post_id, PostMedia.position, PostMedia.id)
    )
    for media, file in await session.execute(statement):
        found[media.post_id].append((media, file))
    return found


async def get_media(
    session: AsyncSession, tenant_id: int, media_id: int
) -> tuple[PostMedia, File, Post] | None:
    statement = (
        tenant_select(PostMedia, tenant_id)
        .add_columns(File, Post)
        .join(File, and_(File.id == PostMedia.file_id, File.tenant_id == tenant_id))
        .join(Post, and_(Post.id == PostMedia.post_id, Post.tenant_id == tenant_id))
        .where(PostMedia.id == media_id, Post.deleted_at.is_(None))
    )
    row = (await session.execute(statement)).first()
    return None if row is None else (row[0], row[1], row[2])


async def drive_files(
    session: AsyncSession, tenant_id: int, user_id: int, file_ids: Sequence[int]
) -> dict[int, File]:
    """Live files of one user's drive (the creator attaching them to a post)."""
    if not file_ids:
        return {}
    statement = tenant_select(File, tenant_id).where(
        File.id.in_(list(file_ids)), File.user_id == user_id, File.deleted_at.is_(None)
    )
    return {file.id: file for file in (await session.scalars(statement)).all()}


async def replace_media(
    session: AsyncSession, post: Post, files: Sequence[tuple[File, str]]
) -> None:
    """The post's media become ``files`` (with their kinds), in that order."""
    current = (
        await session.scalars(
            tenant_select(PostMedia, post.tenant_id).where(PostMedia.post_id == post.id)
        )
    ).all()
    by_file = {media.file_id: media for media in current}
    wanted = {file.id for file, _ in files}
    for media in current:
        if media.file_id not in wanted:
            await session.delete(media)
    await session.flush()
    for position, (file, kind) in enumerate(files):
        existing = by_file.get(file.id)
        if existing is None:
            session.add(
                PostMedia(
                    tenant_id=post.tenant_id,
                    post_id=post.id,
                    file_id=file.id,
                    position=position,
                    kind=MediaKind(kind),
                )
            )
        else:
            existing.position, existing.kind = position, MediaKind(kind)
    await session.flush()


# -- packages of posts -------------------------------------------------------------------------


async def packages_of_posts(
    session: AsyncSession, tenant_id: int, post_ids: Sequence[int]
) -> dict[int, list[int]]:
    found: dict[int, list[int]] = defaultdict(list)
    if not post_ids:
        return found
    statement = (
        tenant_select(PostPackage, tenant_id)
        .where(PostPackage.post_id.in_(post_ids))
        .order_by(PostPackage.package_id)
    )
    for link in (await session.scalars(statement)).all():
        found[link.post_id].append(link.package_id)
    return found


async def replace_packages(session: AsyncSession, post: Post, package_ids: Sequence[int]) -> None:
    current = (
        await session.scalars(
            tenant_select(PostPackage, post.tenant_id).where(PostPackage.post_id == post.id)
        )
    ).all()
    wanted = set(package_ids)
    for link in current:
        if link.package_id not in wanted:
            await session.delete(link)
    have = {link.package_id for link in current}
    for package_id in sorted(wanted - have):
        session.add(PostPackage(tenant_id=post.tenant_id, post_id=post.id, package_id=package_id))
    await session.flush()


# -- access ------------------------------------------------------------------------------------


async def unlocked_post_ids(
    session: AsyncSession, tenant_id: int, user_id: int, post_ids: Sequence[int]
) -> set[int]:
    if not post_ids:
        return set()
    statement = (
        tenant_select(PostUnlock, tenant_id)
        .with_only_columns(PostUnlock.post_id)
        .where(
            PostUnlock.post_id.in_(list(post_ids)),
            PostUnlock.user_id == user_id,
            PostUnlock.revoked_at.is_(None),
        )
    )
    return set((await session.scalars(statement)).all())


async def insert_unlock(session: AsyncSession, values: dict[str, Any]) -> bool:
    return (
        await insert_ignoring_conflict(session, PostUnlock, values, ("post_id", "user_id"))
        is not None
    )


async def restore_unlock(
    session: AsyncSession, tenant_id: int, post_id: int, user_id: int, source: str, ref: str
) -> bool:
    """Grant again an unlock that a refund revoked (the row stays one per fan and post)."""
    result = await session.execute(
        update(PostUnlock)
        .where(
            PostUnlock.tenant_id == tenant_id,
            PostUnlock.post_id == post_id,
            PostUnlock.user_id == user_id,
            PostUnlock.revoked_at.is_not(None),
        )
        .values(revoked_at=None, source=source, source_ref=ref)
    )
    return bool(getattr(result, "rowcount", 0))


async def revoke_unlock(
    session: AsyncSession, tenant_id: int, post_id: int, user_id: int, ref: str, now: datetime
) -> bool:
    result = await session.execute(
        update(PostUnlock)
        .where(
            PostUnlock.tenant_id == tenant_id,
            PostUnlock.post_id == post_id,
            PostUnlock.user_id == user_id,
            PostUnlock.source_ref == ref,
            PostUnlock.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(getattr(result, "rowcount", 0))


async def user_in_tenant(session: AsyncSession, tenant_id: int, user_id: int) -> User | None:
    user: User | None = await session.scalar(
        tenant_select(User, tenant_id).where(User.id == user_id)
    )
    return user


# -- views and stats ---------------------------------------------------------------------------


async def insert_view(session: AsyncSession, tenant_id: int, post_id: int, user_id: int) -> bool:
    values = {"tenant_id": tenant_id, "post_id": post_id, "user_id": user_id}
    return (
        await insert_ignoring_conflict(session, PostView, values, ("post_id", "user_id"))
        is not None
    )


async def count_views(session: AsyncSession, tenant_id: int, post_id: int) -> int:
    statement = (
        tenant_select(PostView, tenant_id)
        .with_only_columns(func.count())
        .where(PostView.post_id == post_id)
    )
    return int(await session.scalar(statement) or 0)


async def unlocks_by_source(session: AsyncSession, tenant_id: int, post_id: int) -> dict[str, int]:
    statement = (
        tenant_select(PostUnlock, tenant_id)
        .with_only_columns(PostUnlock.source, func.count())
        .where(PostUnlock.post_id == post_id, PostUnlock.revoked_at.is_(None))
        .group_by(PostUnlock.source)
    )
    return {str(source): int(count) for source, count in (await session.execute(statement)).all()}


async def ppv_revenue(session: AsyncSession, tenant_id: int, post_id: int) -> tuple[int, int]:
    """(Stars, charges) of the post's pay-per-view payments that were not refunded."""
    statement = (
        tenant_select(Payment, tenant_id)
        .with_only_columns(func.coalesce(func.sum(Payment.stars), 0), func.count())
        .join(Order, and_(Order.id == Payment.order_id, Order.tenant_id == tenant_id))
        .where(
            Order.post_id == post_id,
            Payment.kind == OrderKind.PPV,
            Payment.refunded_at.is_(None),
        )
    )
    stars, charges = (await session.execute(statement)).one()
    return int(stars), int(charges)


# -- Telegram file ids -------------------------------------------------------------------------


async def telegram_file_id(
    session: AsyncSession, tenant_id: int, telegram_bot_id: int, storage_key: str
) -> str | None:
    statement = (
        tenant_select(TelegramFileId, tenant_id)
        .with_only_columns(TelegramFileId.file_id)
        .where(
            TelegramFileId.telegram_bot_id == telegram_bot_id,
            TelegramFileId.storage_key == storage_key,
        )
    )
    file_id: str | None = await session.scalar(statement)
    return file_id


async def remember_telegram_file_id(
    session: AsyncSession, tenant_id: int, telegram_bot_id: int, storage_key: str, file_id: str
) -> None:
    values = {
        "tenant_id": tenant_id,
        "telegram_bot_id": telegram_bot_id,
        "storage_key": storage_key,
        "file_id": file_id,
    }
    await insert_ignoring_conflict(
        session, TelegramFileId, values, ("telegram_bot_id", "storage_key")
    )
