"""Premium content rules: posts and their media, who may see what, views, unlocks and
pay-per-view purchases. Plain async functions taking a session; they only flush.

Access (:func:`access_of`), in this order: the tenant's owner and co-admins see everything; a
free post is open to every fan; a fan's unlock (pay-per-view, task, gift — never revoked) opens
its post for good; a VIP post is open while the fan holds a subscription to one of its packages
(:mod:`tenants.vip.service`). Everything else is locked: a locked post's text and media never
leave this module for that fan — the API and the bot get a teaser, a blurred preview made in
the worker, and the way to unlock it.

Pay-per-view goes through the same orders, invoices and payments as credit packs
(``OrderKind.PPV`` with ``post_id``): the unlock is granted when the charge is recorded, keyed by
the UNIQUE (post, fan) row, so a duplicated ``successful_payment`` unlocks once. A refunded PPV
charge revokes the unlock it granted (the row stays, ``revoked_at`` set): the fan loses access
at once, media links included, and may buy it again.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select, utcnow
from core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from core.models import (
    File,
    MediaKind,
    Order,
    Payment,
    Post,
    PostAccess,
    PostMedia,
    PostStatus,
    UnlockSource,
)
from core.models.payments import OrderKind
from core.queue import defer_job
from tenants import payments
from tenants.content import repository as repo
from tenants.content.formatting import MAX_VISIBLE_CHARS, sanitize_html, visible_text
from tenants.tasks import repository as tasks_repo
from tenants.vip import repository as vip_repo
from tenants.vip.service import RENEWAL_GRACE

logger = logging.getLogger(__name__)

MAX_MEDIA = 10
MAX_PACKAGES = 20
MAX_PAGE = 50
PREVIEW_TASK = "content_post_preview"
DELETE_OBJECTS_TASK = "drive_delete_objects"


class LockedError(PermissionDeniedError):
    """The fan has no access to this post (yet): buy, subscribe or complete its task."""

    code = "content_locked"


class NotForSaleError(ConflictError):
    code = "not_for_sale"


class AlreadyUnlockedError(ConflictError):
    code = "already_unlocked"


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who looks: a fan (``users.id``), or one of the tenant's admins (sees everything)."""

    user_id: int
    is_admin: bool = False


@dataclass(frozen=True, slots=True)
class MediaItem:
    media: PostMedia
    file: File


@dataclass(frozen=True, slots=True)
class FeedItem:
    """A post as one viewer may see it; ``via`` is why it is open (None: locked)."""

    post: Post
    media: list[MediaItem]
    package_ids: list[int]
    via: str | None

    @property
    def locked(self) -> bool:
        return self.via is None


@dataclass(frozen=True, slots=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class PostDraft:
    """A post as the creator describes it; ``text`` may be HTML (it is sanitized)."""

    text: str = ""
    teaser: str = ""
    access: PostAccess = PostAccess.FREE
    price_stars: int | None = None
    package_ids: list[int] = field(default_factory=list)
    unlock_task_id: int | None = None
    file_ids: list[int] = field(default_factory=list)
    pinned: bool = False


@dataclass(frozen=True, slots=True)
class PostStats:
    views: int
    unlocks: dict[str, int]
    revenue_stars: int
    purchases: int


def media_kind(mime_type: str) -> MediaKind:
    main = mime_type.split("/", 1)[0]
    if main == "image":
        return MediaKind.PHOTO
    if main == "video":
        return MediaKind.VIDEO
    if main == "audio":
        return MediaKind.AUDIO
    return MediaKind.DOCUMENT


def is_visual(file: File) -> bool:
    return file.mime_type.startswith(("image/", "video/"))


# -- writing posts -----------------------------------------------------------------------------


async def get_post(session: AsyncSession, tenant_id: int, post_id: int) -> Post:
    post = await repo.get_post(session, tenant_id, post_id)
    if post is None:
        raise NotFoundError("post not found", post_id=post_id)
    return post


async def draft_of(session: AsyncSession, post: Post) -> PostDraft:
    """The post as a draft (what an update starts from)."""
    media = (await repo.media_of_posts(session, post.tenant_id, [post.id])).get(post.id, [])
    packages = (await repo.packages_of_posts(session, post.tenant_id, [post.id])).get(post.id, [])
    return PostDraft(
        text=post.text,
        teaser=post.teaser,
        access=PostAccess(post.access),
        price_stars=post.price_stars,
        package_ids=list(packages),
        unlock_task_id=post.unlock_task_id,
        file_ids=[m.file_id for m, _ in media],
        pinned=post.pinned,
    )


async def _checked_files(
    session: AsyncSession, tenant_id: int, author_id: int, post: Post | None, file_ids: list[int]
) -> list[tuple[File, str]]:
    """Files the post may show: already in it, or live in the author's own drive."""
    if len(file_ids) > MAX_MEDIA:
        raise ValidationError(f"a post has at most {MAX_MEDIA} media items")
    if len(set(file_ids)) != len(file_ids):
        raise ValidationError("a file appears twice in the post")
    attached: dict[int, File] = {}
    if post is not None:
        media = (await repo.media_of_posts(session, tenant_id, [post.id])).get(post.id, [])
        attached = {file.id: file for _, file in media}
    own = await repo.drive_files(session, tenant_id, author_id, file_ids)
    missing = [i for i in file_ids if i not in attached and i not in own]
    if missing:
        raise NotFoundError("file not found in your drive", file_ids=missing)
    files = [attached.get(i) or own[i] for i in file_ids]
    return [(file, media_kind(file.mime_type).value) for file in files]


async def _check_draft(session: AsyncSession, tenant_id: int, draft: PostDraft) -> PostDraft:
    """Normalise and validate a draft: sanitized text, what each access level needs."""
    text = sanitize_html(draft.text)
    if len(visible_text(text)) > MAX_VISIBLE_CHARS:
        raise ValidationError(f"the text is longer than {MAX_VISIBLE_CHARS} characters")
    if not text and not draft.file_ids:
        raise ValidationError("a post needs text or media")
    price, packages, task = draft.price_stars, list(dict.fromkeys(draft.package_ids)), None
    if draft.access == PostAccess.PPV:
        if price is None or not 1 <= price <= 10_000:
            raise ValidationError("a pay-per-view post needs a price of 1 to 10,000 Stars")
    else:
        price = None
    if draft.access == PostAccess.VIP:
        if not packages or len(packages) > MAX_PACKAGES:
            raise ValidationError(f"a VIP post needs 1 to {MAX_PACKAGES} packages")
        known = await vip_repo.packages_by_id(session, tenant_id, packages)
        if len(known) != len(packages):
            raise NotFoundError(
                "VIP package not found", package_ids=sorted(set(packages) - set(known))
            )
    else:
        packages = []
    if draft.access == PostAccess.TASK:
        if draft.unlock_task_id is None or draft.unlock_task_id <= 0:
            raise ValidationError("a task-unlock post needs the task's id")
        if await tasks_repo.get_task(session, tenant_id, draft.unlock_task_id) is None:
            raise NotFoundError("task not found", task_id=draft.unlock_task_id)
        task = draft.unlock_task_id
    return PostDraft(
        text=text,
        teaser=" ".join(draft.teaser.split())[:280],
        access=draft.access,
        price_stars=price,
        package_ids=packages,
        unlock_task_id=task,
        file_ids=list(draft.file_ids),
        pinned=draft.pinned,
    )


async def _apply_draft(
    session: AsyncSession, post: Post, draft: PostDraft, author_id: int, now: datetime
) -> Post:
    files = await _checked_files(session, post.tenant_id, author_id, post, draft.file_ids)
    post.text, post.teaser, post.access = draft.text, draft.teaser, draft.access
    post.price_stars, post.unlock_task_id = draft.price_stars, draft.unlock_task_id
    post.pinned, post.updated_at = draft.pinned, now
    await session.flush()
    await repo.replace_media(session, post, files)
    await repo.replace_packages(session, post, draft.package_ids)
    _refresh_preview(session, post, [file for file, _ in files])
    return post


def _refresh_preview(session: AsyncSession, post: Post, files: Sequence[File]) -> None:
    """A locked post's blurred preview is made in the worker from its first picture or video
    (a fresh one whenever that changes); with nothing to blur the old preview goes."""
    visual = next((file for file in files if is_visual(file)), None)
    if visual is None:
        if post.preview_key:
            defer_job(session, DELETE_OBJECTS_TASK, [post.preview_key])
        post.preview_key = post.preview_source = None
        return
    if post.access != PostAccess.FREE and post.preview_source != f"file:{visual.id}":
        defer_job(session, PREVIEW_TASK, post.id, post.tenant_id)


async def create_post(
    session: AsyncSession,
    tenant_id: int,
    *,
    author_id: int,
    draft: PostDraft,
    publish_at: datetime | None = None,
    publish_now: bool = False,
    now: datetime | None = None,
) -> Post:
    now = now or utcnow()
    draft = await _check_draft(session, tenant_id, draft)
    post = Post(tenant_id=tenant_id, author_id=author_id, status=PostStatus.DRAFT, created_at=now)
    session.add(post)
    await _apply_draft(session, post, draft, author_id, now)
    if publish_at is not None or publish_now:
        _publish(post, publish_at, now)
    await session.flush()
    return post


async def update_post(
    session: AsyncSession,
    tenant_id: int,
    post_id: int,
    *,
    author_id: int,
    changes: dict[str, Any],
    now: datetime | None = None,
) -> Post:
    """Change the fields in ``changes`` (keys of :class:`PostDraft`); the rest stays."""
    now = now or utcnow()
    post = await get_post(session, tenant_id, post_id)
    current = await draft_of(session, post)
    merged = PostDraft(**{**_fields(current), **changes})
    await _apply_draft(
        session, post, await _check_draft(session, tenant_id, merged), author_id, now
    )
    return post


def _fields(draft: PostDraft) -> dict[str, Any]:
    return {name: getattr(draft, name) for name in PostDraft.__dataclass_fields__}


def _publish(post: Post, at: datetime | None, now: datetime) -> None:
    if at is not None and at > now:
        post.status, post.publish_at, post.published_at = PostStatus.SCHEDULED, at, at
    elif post.status != PostStatus.PUBLISHED or post.published_at is None:
        post.status, post.publish_at, post.published_at = PostStatus.PUBLISHED, None, now


async def publish_post(
    session: AsyncSession,
    tenant_id: int,
    post_id: int,
    *,
    at: datetime | None = None,
    now: datetime | None = None,
) -> Post:
    """Publish now, or at ``at`` (a scheduled post shows up in feeds from then on)."""
    now = now or utcnow()
    post = await get_post(session, tenant_id, post_id)
    _publish(post, at, now)
    post.updated_at = now
    await session.flush()
    return post


async def unpublish_post(
    session: AsyncSession, tenant_id: int, post_id: int, *, now: datetime | None = None
) -> Post:
    """Back to draft: gone from feeds (fans who unlocked it keep their unlock for later)."""
    post = await get_post(session, tenant_id, post_id)
    post.status, post.publish_at, post.published_at = PostStatus.DRAFT, None, None
    post.updated_at = now or utcnow()
    await session.flush()
    return post


async def set_pinned(session: AsyncSession, tenant_id: int, post_id: int, pinned: bool) -> Post:
    post = await get_post(session, tenant_id, post_id)
    post.pinned, post.updated_at = pinned, utcnow()
    await session.flush()
    return post


async def delete_post(
    session: AsyncSession, tenant_id: int, post_id: int, *, now: datetime | None = None
) -> None:
    """Soft delete: the post leaves every view, its unlocks and payments stay on record."""
    post = await get_post(session, tenant_id, post_id)
    post.deleted_at, post.pinned = now or utcnow(), False
    await session.flush()


async def list_posts(
    session: AsyncSession,
    tenant_id: int,
    *,
    status: PostStatus | None = None,
    before_id: int | None = None,
    limit: int = MAX_PAGE,
) -> list[FeedItem]:
    """The creator's view: every post (drafts and scheduled too), all open."""
    posts = await repo.list_posts(
        session, tenant_id, status=status, before_id=before_id, limit=max(1, min(limit, MAX_PAGE))
    )
    return await _items(session, tenant_id, None, posts, utcnow())


async def creator_item(session: AsyncSession, tenant_id: int, post_id: int) -> FeedItem:
    post = await get_post(session, tenant_id, post_id)
    return (await _items(session, tenant_id, None, [post], utcnow()))[0]


async def publish_due(session: AsyncSession, now: datetime | None = None) -> int:
    return await repo.publish_due(session, now or utcnow())


async def post_stats(session: AsyncSession, tenant_id: int, post_id: int) -> PostStats:
    await get_post(session, tenant_id, post_id)
    stars, charges = await repo.ppv_revenue(session, tenant_id, post_id)
    return PostStats(
        views=await repo.count_views(session, tenant_id, post_id),
        unlocks=await repo.unlocks_by_source(session, tenant_id, post_id),
        revenue_stars=stars,
        purchases=charges,
    )


# -- reading: the fan's feed -------------------------------------------------------------------


def _encode_cursor(post: Post) -> str:
    assert post.published_at is not None
    raw = json.dumps([int(post.pinned), post.published_at.isoformat(), post.id])
    return base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()


def _decode_cursor(cursor: str | None) -> repo.FeedKey | None:
    if not cursor:
        return None
    try:
        pinned, stamp, post_id = json.loads(
            base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        )
        when = datetime.fromisoformat(stamp)
        valid_id = isinstance(post_id, int) and 0 < post_id < 2**63
        if pinned not in (0, 1) or not valid_id or when.tzinfo is None:
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise ValidationError("the cursor is not valid for this feed") from None
    return bool(pinned), when, post_id


def access_of(
    post: Post,
    viewer: Viewer | None,
    unlocked: set[int],
    open_packages: set[int],
    packages: list[int],
) -> str | None:
    """Why ``viewer`` may open ``post`` (``admin``, ``free``, ``unlock``, ``vip``), or None."""
    if viewer is None or viewer.is_admin:
        return "admin"
    if post.access == PostAccess.FREE:
        return "free"
    if post.id in unlocked:
        return "unlock"
    if post.access == PostAccess.VIP and open_packages.intersection(packages):
        return "vip"
    return None


async def _items(
    session: AsyncSession,
    tenant_id: int,
    viewer: Viewer | None,
    posts: Sequence[Post],
    now: datetime,
) -> list[FeedItem]:
    ids = [post.id for post in posts]
    media = await repo.media_of_posts(session, tenant_id, ids)
    packages = await repo.packages_of_posts(session, tenant_id, ids)
    unlocked: set[int] = set()
    open_packages: set[int] = set()
    if viewer is not None and not viewer.is_admin:
        gated = [p.id for p in posts if p.access != PostAccess.FREE]
        unlocked = await repo.unlocked_post_ids(session, tenant_id, viewer.user_id, gated)
        if any(p.access == PostAccess.VIP for p in posts):
            open_packages = await vip_repo.open_package_ids(
                session, tenant_id, viewer.user_id, now, RENEWAL_GRACE
            )
    return [
        FeedItem(
            post=post,
            media=[MediaItem(m, f) for m, f in media.get(post.id, [])],
            package_ids=packages.get(post.id, []),
            via=access_of(post, viewer, unlocked, open_packages, packages.get(post.id, [])),
        )
        for post in posts
    ]


async def feed(
    session: AsyncSession,
    tenant_id: int,
    viewer: Viewer,
    *,
    cursor: str | None = None,
    limit: int = 20,
    now: datetime | None = None,
) -> FeedPage:
    """Published posts, pinned first then newest, as ``viewer`` may see them."""
    now = now or utcnow()
    limit = max(1, min(limit, MAX_PAGE))
    posts = await repo.feed_page(session, tenant_id, now, _decode_cursor(cursor), limit)
    items = await _items(session, tenant_id, viewer, posts, now)
    next_cursor = _encode_cursor(posts[-1]) if len(posts) == limit else None
    return FeedPage(items=items, next_cursor=next_cursor)


async def latest_post_ids(
    session: AsyncSession, tenant_id: int, limit: int, *, now: datetime | None = None
) -> list[int]:
    """The first ``limit`` posts of the feed (pinned first, then newest)."""
    posts = await repo.feed_page(session, tenant_id, now or utcnow(), None, limit)
    return [post.id for post in posts]


async def feed_item(
    session: AsyncSession,
    tenant_id: int,
    viewer: Viewer,
    post_id: int,
    *,
    now: datetime | None = None,
) -> FeedItem:
    now = now or utcnow()
    post = await repo.get_visible_post(session, tenant_id, post_id, now)
    if post is None:
        raise NotFoundError("post not found", post_id=post_id)
    return (await _items(session, tenant_id, viewer, [post], now))[0]


async def open_media(
    session: AsyncSession,
    tenant_id: int,
    viewer: Viewer,
    media_id: int,
    *,
    now: datetime | None = None,
) -> MediaItem:
    """One media item of a post, only if ``viewer`` may open the post right now (the unlock
    still stands, the subscription still runs): 404 when there is no such visible post item,
    :class:`LockedError` (403) when it is locked for this fan."""
    now = now or utcnow()
    found = await repo.get_media(session, tenant_id, media_id)
    if found is None:
        raise NotFoundError("media not found", media_id=media_id)
    media, file, post = found
    published = post.published_at
    visible = post.status != PostStatus.DRAFT and published is not None and published <= now
    if not viewer.is_admin and not visible:
        raise NotFoundError("media not found", media_id=media_id)
    item = (await _items(session, tenant_id, viewer, [post], now))[0]
    if item.locked:
        raise LockedError("this post is locked")
    return MediaItem(media, file)


async def record_view(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    post_id: int,
    *,
    now: datetime | None = None,
) -> bool:
    """Count the fan's view of a visible post; True the first time only (UNIQUE row)."""
    post = await repo.get_visible_post(session, tenant_id, post_id, now or utcnow())
    if post is None:
        raise NotFoundError("post not found", post_id=post_id)
    return await repo.insert_view(session, tenant_id, post.id, user_id)


# -- unlocks -----------------------------------------------------------------------------------


async def posts_unlocked_by_task(session: AsyncSession, tenant_id: int, task_id: int) -> list[int]:
    """The live posts whose access is "complete task ``task_id``"."""
    return await repo.post_ids_for_task(session, tenant_id, task_id)


async def grant_unlock(
    session: AsyncSession,
    *,
    tenant_id: int,
    user_id: int,
    post_id: int,
    source: str,
    source_ref: str,
) -> bool:
    """Open ``post_id`` for the fan for good. Idempotent: True only when this call granted it
    (a new row, or one a refund had revoked); a second grant, concurrent or not, is False.

    ``source`` is ``ppv``, ``vip``, ``task`` or ``gift``; ``source_ref`` names what granted it
    (charge id, task id, admin), kept with the row. Another tenant's post or fan is 404."""
    try:
        kind = UnlockSource(source)
    except ValueError:
        raise ValidationError(f"unknown unlock source {source!r}") from None
    ref = str(source_ref)[:256]
    if await repo.get_post(session, tenant_id, post_id) is None:
        raise NotFoundError("post not found", post_id=post_id)
    if await repo.user_in_tenant(session, tenant_id, user_id) is None:
        raise NotFoundError("no such fan in this bot", user_id=user_id)
    values = {
        "tenant_id": tenant_id,
        "post_id": post_id,
        "user_id": user_id,
        "source": kind.value,
        "source_ref": ref,
        "created_at": utcnow(),
    }
    if await repo.insert_unlock(session, values):
        return True
    return await repo.restore_unlock(session, tenant_id, post_id, user_id, kind.value, ref)


# -- pay per view ------------------------------------------------------------------------------


async def create_ppv_order(
    session: AsyncSession,
    tenant_id: int,
    *,
    user_id: int,
    telegram_user_id: int,
    post_id: int,
    now: datetime | None = None,
) -> tuple[Order, Post]:
    """A pending order for one pay-per-view post the fan can see and has not unlocked."""
    now = now or utcnow()
    post = await repo.get_visible_post(session, tenant_id, post_id, now)
    if post is None:
        raise NotFoundError("post not found", post_id=post_id)
    if post.access != PostAccess.PPV or post.price_stars is None:
        raise NotForSaleError("this post is not sold on its own")
    if await repo.unlocked_post_ids(session, tenant_id, user_id, [post.id]):
        raise AlreadyUnlockedError("you have already unlocked this post")
    order = await payments.create_order(
        session,
        tenant_id,
        kind=OrderKind.PPV,
        user_id=user_id,
        telegram_user_id=telegram_user_id,
        stars=post.price_stars,
        post_id=post.id,
    )
    return order, post


def ppv_invoice_texts(texts: payments.TextLookup, post: Post) -> tuple[str, str]:
    description = post.teaser or texts("content.invoice_description")
    return texts("content.invoice_title"), description


async def ppv_invoice_link(
    session: AsyncSession,
    bot: Bot,
    texts: payments.TextLookup,
    tenant_id: int,
    *,
    user_id: int,
    telegram_user_id: int,
    post_id: int,
) -> str:
    """A fresh PPV order and its ``createInvoiceLink`` URL (for the Mini App)."""
    order, post = await create_ppv_order(
        session, tenant_id, user_id=user_id, telegram_user_id=telegram_user_id, post_id=post_id
    )
    title, description = ppv_invoice_texts(texts, post)
    return await payments.create_invoice_link(bot, order, title, description)


async def check_ppv_order(session: AsyncSession, order: Order, now: datetime) -> None:
    """Pre-checkout: refuse a PPV order whose post is gone or no longer sold, or that the fan
    already unlocked (a second invoice paid late would charge twice for one post)."""
    post = None
    if order.post_id is not None:
        post = await repo.get_visible_post(session, order.tenant_id, order.post_id, now)
    if post is None or post.access != PostAccess.PPV:
        raise payments.PaymentRefusedError(
            payments.Refusal.UNAVAILABLE, "the post is not for sale any more"
        )
    if await repo.unlocked_post_ids(session, order.tenant_id, order.user_id, [post.id]):
        raise payments.PaymentRefusedError(
            payments.Refusal.ALREADY_PAID, "the post is already unlocked"
        )


async def apply_ppv_payment(session: AsyncSession, order: Order, charge_id: str) -> bool:
    """The charge for a PPV order was recorded (once): unlock the post for the fan."""
    if order.post_id is None:
        logger.error("PPV charge %s names no post", charge_id, extra={"order_id": order.id})
        return False
    granted = await grant_unlock(
        session,
        tenant_id=order.tenant_id,
        user_id=order.user_id,
        post_id=order.post_id,
        source=UnlockSource.PPV,
        source_ref=charge_id,
    )
    if not granted:
        logger.warning(
            "PPV charge %s for an already unlocked post", charge_id, extra={"order_id": order.id}
        )
    return granted


async def revoke_ppv_payment(
    session: AsyncSession, payment: Payment, *, now: datetime | None = None
) -> bool:
    """A PPV charge is being refunded: take back the unlock it granted (only that one)."""
    order = None
    if payment.order_id is not None:
        order = await session.scalar(
            tenant_select(Order, payment.tenant_id).where(Order.id == payment.order_id)
        )
    if order is None or order.post_id is None or payment.user_id is None:
        return False
    return await repo.revoke_unlock(
        session,
        payment.tenant_id,
        order.post_id,
        payment.user_id,
        payment.telegram_payment_charge_id,
        now or utcnow(),
    )
