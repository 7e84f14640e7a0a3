"""The creator's posts (``/api/v1/creator/content``): write, schedule, publish, pin, delete,
per-post numbers, and gifting a post to a fan. Owner and co-admins only (``CreatorDep``)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from core.db import tenant_select
from core.errors import NotFoundError
from core.models import PostAccess, PostStatus, User
from core.settings import Settings
from core.storage import Storage
from miniapp_api.content.service import PREVIEW_TTL_S, media_out
from miniapp_api.creator.content.schemas import (
    CreatorMediaOut,
    CreatorPostOut,
    GiftIn,
    GiftOut,
    PostIn,
    PostPatch,
    PostsOut,
    PublishIn,
    StatsOut,
)
from miniapp_api.creator.deps import Creator, CreatorDep
from miniapp_api.deps import SessionDep, SettingsDep
from miniapp_api.files import StorageDep
from tenants.content import service as content
from tenants.content.service import FeedItem, PostDraft

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


async def post_out(
    storage: Storage, settings: Settings, creator: Creator, item: FeedItem
) -> CreatorPostOut:
    post = item.post
    preview = None
    if post.preview_key:
        preview = await storage.download_url(
            post.preview_key, expires_in=PREVIEW_TTL_S, content_type="image/jpeg"
        )
    return CreatorPostOut(
        id=post.id,
        status=post.status,
        access=post.access,
        text_html=post.text,
        teaser=post.teaser,
        price_stars=post.price_stars,
        package_ids=item.package_ids,
        unlock_task_id=post.unlock_task_id,
        pinned=post.pinned,
        publish_at=post.publish_at,
        published_at=post.published_at,
        created_at=post.created_at,
        updated_at=post.updated_at,
        media=[
            CreatorMediaOut(
                **media_out(
                    m, tenant_id=creator.tenant.id, user_id=creator.user.user_id, settings=settings
                ).model_dump(),
                file_id=m.file.id,
            )
            for m in item.media
        ],
        preview_url=preview,
    )


async def _one(
    session: SessionDep, storage: Storage, settings: Settings, creator: Creator, post_id: int
) -> CreatorPostOut:
    item = await content.creator_item(session, creator.tenant.id, post_id)
    return await post_out(storage, settings, creator, item)


@router.get("/posts")
async def list_posts(
    creator: CreatorDep,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    status_: Annotated[PostStatus | None, Query(alias="status")] = None,
    cursor: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    limit: Annotated[int, Query(ge=1, le=content.MAX_PAGE)] = 20,
) -> PostsOut:
    """Every post (drafts and scheduled too), newest first; ``next_cursor`` pages on."""
    items = await content.list_posts(
        session,
        creator.tenant.id,
        status=status_,
        before_id=cursor,
        limit=limit,
    )
    out = [await post_out(storage, settings, creator, item) for item in items]
    next_cursor = str(items[-1].post.id) if len(items) == limit else None
    return PostsOut(items=out, next_cursor=next_cursor)


@router.post("/posts", status_code=status.HTTP_201_CREATED)
async def create_post(
    body: PostIn,
    creator: CreatorDep,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> CreatorPostOut:
    draft = PostDraft(
        text=body.text,
        teaser=body.teaser,
        access=PostAccess(body.access),
        price_stars=body.price_stars,
        package_ids=body.package_ids,
        unlock_task_id=body.unlock_task_id,
        file_ids=body.file_ids,
        pinned=body.pinned,
    )
    post = await content.create_post(
        session,
        creator.tenant.id,
        author_id=creator.user.user_id,
        draft=draft,
        publish_at=body.publish_at,
        publish_now=body.publish,
    )
    return await _one(session, storage, settings, creator, post.id)


@router.get("/posts/{post_id}")
async def get_post(
    post_id: Id,
    creator: CreatorDep,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> CreatorPostOut:
    return await _one(session, storage, settings, creator, post_id)


@router.patch("/posts/{post_id}")
async def update_post(
    post_id: Id,
    body: PostPatch,
    creator: CreatorDep,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> CreatorPostOut:
    changes: dict[str, Any] = {k: v for k, v in body.model_dump(exclude_unset=True).items()}
    if changes.get("access") is not None:
        changes["access"] = PostAccess(changes["access"])
    for name in ("text", "teaser", "access", "package_ids", "file_ids", "pinned"):
        if name in changes and changes[name] is None:
            del changes[name]  # null for a field that cannot be empty: unchanged
    await content.update_post(
        session, creator.tenant.id, post_id, author_id=creator.user.user_id, changes=changes
    )
    return await _one(session, storage, settings, creator, post_id)


@router.post("/posts/{post_id}/publish")
async def publish_post(
    post_id: Id,
    creator: CreatorDep,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
    body: PublishIn | None = None,
) -> CreatorPostOut:
    at = body.publish_at if body is not None else None
    await content.publish_post(session, creator.tenant.id, post_id, at=at)
    return await _one(session, storage, settings, creator, post_id)


@router.post("/posts/{post_id}/unpublish")
async def unpublish_post(
    post_id: Id,
    creator: CreatorDep,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> CreatorPostOut:
    await content.unpublish_post(session, creator.tenant.id, post_id)
    return await _one(session, storage, settings, creator, post_id)


@router.post("/posts/{post_id}/pin")
async def pin_post(
    post_id: Id,
    creator: CreatorDep,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> CreatorPostOut:
    await content.set_pinned(session, creator.tenant.id, post_id, True)
    return await _one(session, storage, settings, creator, post_id)


@router.delete("/posts/{post_id}/pin")
async def unpin_post(
    post_id: Id,
    creator: CreatorDep,
    session: SessionDep,
    storage: StorageDep,
    settings: SettingsDep,
) -> CreatorPostOut:
    await content.set_pinned(session, creator.tenant.id, post_id, False)
    return await _one(session, storage, settings, creator, post_id)


@router.delete("/posts/{post_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_post(post_id: Id, creator: CreatorDep, session: SessionDep) -> Response:
    await content.delete_post(session, creator.tenant.id, post_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/posts/{post_id}/stats")
async def post_stats(post_id: Id, creator: CreatorDep, session: SessionDep) -> StatsOut:
    found = await content.post_stats(session, creator.tenant.id, post_id)
    return StatsOut(
        views=found.views,
        unlocks=sum(found.unlocks.values()),
        unlocks_by_source=found.unlocks,
        revenue_stars=found.revenue_stars,
        purchases=found.purchases,
    )


@router.post("/posts/{post_id}/gifts")
async def gift_post(post_id: Id, body: GiftIn, creator: CreatorDep, session: SessionDep) -> GiftOut:
    """Unlock the post for one fan of this bot, for good (source ``gift``)."""
    fan = await session.scalar(
        tenant_select(User, creator.tenant.id).where(User.telegram_id == body.telegram_id)
    )
    if fan is None:
        raise NotFoundError("no fan with this Telegram id in this bot")
    granted = await content.grant_unlock(
        session,
        tenant_id=creator.tenant.id,
        user_id=fan.id,
        post_id=post_id,
        source="gift",
        source_ref=f"admin:{creator.user.telegram_id}",
    )
    return GiftOut(granted=granted)
