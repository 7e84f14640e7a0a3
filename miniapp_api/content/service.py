"""The feed as JSON: a post as one viewer may see it, with media links signed for them.

A locked post carries its teaser, the kinds of media it holds, the blurred preview (a separate
object made in the worker, safe to serve) and how to unlock it — never a link, id or key of its
media, and never its text.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from core.models import PostAccess, VipPackage
from core.settings import Settings
from core.storage import Storage
from miniapp_api.content.schemas import MediaOut, PackageRef, PostOut, UnlockOut
from tenants.content import links
from tenants.content.service import FeedItem, MediaItem
from tenants.vip import repository as vip_repo

PREVIEW_TTL_S = 3600


def media_out(item: MediaItem, *, tenant_id: int, user_id: int, settings: Settings) -> MediaOut:
    def link(purpose: str) -> str:
        return links.media_link(
            settings.public_base_url,
            tenant_id=tenant_id,
            media_id=item.media.id,
            file_id=item.file.id,
            user_id=user_id,
            purpose=purpose,
            secret_key=settings.secret_key,
        )

    file = item.file
    return MediaOut(
        id=item.media.id,
        kind=item.media.kind,
        mime_type=file.mime_type,
        name=file.name,
        size=file.size,
        width=file.width,
        height=file.height,
        duration=file.duration,
        url=link("media"),
        thumbnail_url=link("thumb") if file.thumbnail_key else None,
    )


def _unlock(item: FeedItem, packages: dict[int, VipPackage]) -> UnlockOut | None:
    post = item.post
    if not item.locked:
        return None
    if post.access == PostAccess.PPV:
        return UnlockOut(kind="ppv", price_stars=post.price_stars)
    if post.access == PostAccess.TASK:
        return UnlockOut(kind="task", task_id=post.unlock_task_id)
    refs = [
        PackageRef(id=p.id, name=p.name, price_stars=p.price_stars)
        for p in (packages.get(i) for i in item.package_ids)
        if p is not None and p.is_active
    ]
    return UnlockOut(kind="vip", packages=refs)


async def posts_out(
    session: AsyncSession,
    storage: Storage,
    settings: Settings,
    items: Sequence[FeedItem],
    *,
    tenant_id: int,
    user_id: int,
) -> list[PostOut]:
    wanted = sorted({i for item in items if item.locked for i in item.package_ids})
    packages = await vip_repo.packages_by_id(session, tenant_id, wanted)
    return [
        await post_out(storage, settings, item, packages, tenant_id=tenant_id, user_id=user_id)
        for item in items
    ]


async def post_out(
    storage: Storage,
    settings: Settings,
    item: FeedItem,
    packages: dict[int, VipPackage],
    *,
    tenant_id: int,
    user_id: int,
) -> PostOut:
    post = item.post
    preview = None
    if item.locked and post.preview_key:
        preview = await storage.download_url(
            post.preview_key, expires_in=PREVIEW_TTL_S, content_type="image/jpeg"
        )
    media = []
    if not item.locked:
        media = [
            media_out(m, tenant_id=tenant_id, user_id=user_id, settings=settings)
            for m in item.media
        ]
    return PostOut(
        id=post.id,
        access=post.access,
        locked=item.locked,
        unlocked_via=item.via,
        text_html=None if item.locked else post.text,
        teaser=post.teaser,
        pinned=post.pinned,
        published_at=post.published_at,
        media=media,
        media_count=len(item.media),
        media_kinds=sorted({m.media.kind for m in item.media}),
        preview_url=preview,
        unlock=_unlock(item, packages),
    )
