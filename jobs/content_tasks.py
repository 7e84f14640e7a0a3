"""Worker side of premium content: blurred previews, scheduled posts, posts sent in chat, and
the VIP expiry sweep.

- ``content_post_preview`` (queued when a locked post is saved): the blurred preview of its
  first picture or video, from the drive thumbnail when there is one, else from the file. It is
  rebuilt from a grid a few dozen cells wide and blurred again, so no detail of the original
  survives, and stored as its own object — the only image of a locked post anyone may fetch.
- ``publish_due_posts`` (cron, every minute): scheduled posts whose time came are marked
  published (fans see them from ``publish_at`` on anyway).
- ``content_deliver_posts`` (queued by ``/feed`` and by a PPV purchase): posts as chat messages
  through the tenant's bot. Open posts carry their media, uploaded from storage once per bot and
  then sent again by Telegram's ``file_id``; locked ones show the preview, teaser and a button.
- ``expire_vip`` (cron, every ten minutes; ``now_ts`` sets the clock): ends lapsed
  subscriptions, reminds fans whose VIP will not renew, and takes expired fans out of the
  package's channel where the bot is an admin (``banChatMember`` then ``unbanChatMember``, so
  they may join again after a new purchase).
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup, Message
from arq.cron import CronJob, cron
from arq.typing import WorkerCoroutine
from PIL import Image, ImageFilter, ImageOps
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select, utcnow
from core.errors import NotFoundError
from core.models import File, Post, Tenant, TenantBot, User
from core.models.ton_payments import TonItemKind
from core.queue import defer_job, unit_of_work
from core.settings import Settings
from core.storage import Storage
from jobs import media
from jobs.generation.runner import storage_of
from jobs.notify import media_method
from jobs.wrapper import JobContext, redis_of, session_factory_of, task
from tenants import admins
from tenants.content import repository as content_repo
from tenants.content import service as content
from tenants.content.formatting import visible_text
from tenants.service import tenant_bot
from tenants.texts import load_overrides
from tenants.ton import invoices
from tenants.users import mark_blocked, send_to_user
from tenants.vip import service as vip

logger = logging.getLogger(__name__)

PREVIEW_TASK = content.PREVIEW_TASK
DELIVER_TASK = "content_deliver_posts"
PREVIEW_MAX = 480
PREVIEW_CELLS = 24  # the preview is rebuilt from cells this many pixels wide
MAX_SEND_BYTES = 50 * 1024 * 1024  # what a bot may upload
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_CAPTION = 1024
MAX_RETRY_WAIT_S = 30.0
ADMIN_STATUSES = ("administrator", "creator")


def _now(now_ts: float | None) -> datetime:
    return datetime.fromtimestamp(now_ts, UTC) if now_ts is not None else utcnow()


# -- blurred previews --------------------------------------------------------------------------


def blur(picture: bytes) -> bytes:
    """A JPEG that shows the colours and rough shapes of ``picture``, nothing more."""
    with media.open_image(picture, media.DEFAULT_MAX_IMAGE_PIXELS) as opened:
        image = (ImageOps.exif_transpose(opened) or opened).convert("RGB")
    image.thumbnail((PREVIEW_MAX, PREVIEW_MAX))
    width, height = image.size
    cells = (max(1, width // PREVIEW_CELLS), max(1, height // PREVIEW_CELLS))
    coarse = image.resize(cells, Image.Resampling.BOX)
    smooth = coarse.resize((width, height), Image.Resampling.BICUBIC)
    out = io.BytesIO()
    smooth.filter(ImageFilter.GaussianBlur(radius=6)).save(out, "JPEG", quality=70)
    return out.getvalue()


async def _read(storage: Storage, key: str) -> bytes:
    return b"".join([chunk async for chunk in storage.open_stream(key)])


async def _picture_of(storage: Storage, file: File) -> bytes:
    """A still of ``file``: its drive thumbnail, else one made from the file (streamed to a
    temporary file, never held whole in memory)."""
    if file.thumbnail_key:
        return await _read(storage, file.thumbnail_key)
    with tempfile.TemporaryDirectory(prefix="atelier-preview-") as tmp:
        path = Path(tmp) / "object"
        handle = await asyncio.to_thread(path.open, "wb")
        try:
            async for chunk in storage.open_stream(file.storage_key):
                await asyncio.to_thread(handle.write, chunk)
        finally:
            await asyncio.to_thread(handle.close)
        thumb = await media.make_thumbnail(path, mime_type=file.mime_type, fmt="JPEG")
    return thumb.data


async def _first_visual(session: AsyncSession, tenant_id: int, post_id: int) -> File | None:
    found = await content_repo.media_of_posts(session, tenant_id, [post_id])
    return next((f for _, f in found.get(post_id, []) if content.is_visual(f)), None)


@task
async def content_post_preview(
    ctx: JobContext, session: AsyncSession, post_id: int, tenant_id: int
) -> dict[str, Any]:
    post = await content_repo.get_post(session, tenant_id, post_id)
    visual = await _first_visual(session, tenant_id, post_id) if post else None
    if post is None or visual is None:
        return {"post_id": post_id, "preview": False}
    source = f"file:{visual.id}"
    if post.preview_source == source and post.preview_key:
        return {"post_id": post_id, "preview": True, "unchanged": True}
    storage = storage_of(ctx)
    try:
        data = await asyncio.to_thread(blur, await _picture_of(storage, visual))
    except media.MediaError as exc:
        logger.warning("no preview for post %d: %s", post_id, exc)
        return {"post_id": post_id, "preview": False}
    key = f"content/{tenant_id}/previews/{post_id}-{uuid.uuid4().hex}.jpg"
    await storage.put_bytes(key, data, content_type="image/jpeg")
    locked = await session.scalar(
        tenant_select(Post, tenant_id)
        .where(Post.id == post_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    current = await _first_visual(session, tenant_id, post_id)
    if locked is None or current is None or current.id != visual.id:
        defer_job(session, content.DELETE_OBJECTS_TASK, [key])  # the post changed meanwhile
        return {"post_id": post_id, "preview": False}
    if locked.preview_key:
        defer_job(session, content.DELETE_OBJECTS_TASK, [locked.preview_key])
    locked.preview_key, locked.preview_source = key, source
    await session.flush()
    return {"post_id": post_id, "preview": True}


@task
async def publish_due_posts(
    ctx: JobContext, session: AsyncSession, now_ts: float | None = None
) -> int:
    return await content.publish_due(session, _now(now_ts))


# -- posts in chat -----------------------------------------------------------------------------


class _Stopped(Exception):
    """The fan blocked the bot: nothing more goes to this chat."""


@dataclass
class _Delivery:
    bot_row: TenantBot
    chat_id: int
    texts: Any  # bot.i18n.Texts
    items: list[content.FeedItem]
    cache: dict[str, str]
    ton_prices: dict[int, int] = field(default_factory=dict)  # PPV post id → nanotons


@dataclass
class _Sender:
    """Sends one delivery politely: 429 waits, 403 stops and marks the fan."""

    ctx: JobContext
    bot: Bot
    delivery: _Delivery
    storage: Storage
    sent: int = 0
    learned: list[tuple[str, str]] = field(default_factory=list)

    async def post(self, item: content.FeedItem) -> None:
        if item.locked:
            await self._locked(item.post)
        else:
            await self._open(item)

    async def _locked(self, post: Post) -> None:
        from bot.feed.keyboards import locked_keyboard, locked_line  # shared button layouts

        texts = self.delivery.texts
        parts = [html.escape(post.teaser), html.escape(locked_line(texts, post))]
        caption = "\n\n".join(part for part in parts if part)
        markup = locked_keyboard(texts, post, self.delivery.ton_prices.get(post.id))
        if post.preview_key:
            await self._file("photo", post.preview_key, "preview.jpg", caption, markup)
        else:
            await self._text(caption, markup)

    async def _open(self, item: content.FeedItem) -> None:
        text = item.post.text
        if not item.media:
            await self._text(text)
            return
        caption = text if len(visible_text(text)) <= MAX_CAPTION else None
        if text and caption is None:
            await self._text(text)
        for index, media_item in enumerate(item.media):
            await self._media(media_item.file, caption if index == 0 else None)

    async def _media(self, file: File, caption: str | None) -> None:
        method = media_method(file.mime_type, "")
        if method == "photo" and file.size > MAX_PHOTO_BYTES:
            method = "document"
        if file.size > MAX_SEND_BYTES:
            too_large = html.escape(self.delivery.texts("feed.too_large"))
            await self._text("\n\n".join(p for p in (caption, too_large) if p))
            return
        await self._file(method, file.storage_key, file.name, caption, None)

    async def _text(self, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        if text:
            chat = self.delivery.chat_id
            await self._call(
                lambda: self.bot.send_message(chat, text, parse_mode="HTML", reply_markup=markup)
            )

    async def _file(
        self,
        method: str,
        key: str,
        filename: str,
        caption: str | None,
        markup: InlineKeyboardMarkup | None,
    ) -> None:
        cached = self.delivery.cache.get(key)
        if cached is not None:
            try:
                await self._call(lambda: self._send(method, cached, caption, markup), quiet=False)
                return
            except TelegramBadRequest:
                logger.info("cached file id of %s refused; uploading again", key)
        upload = BufferedInputFile(await _read(self.storage, key), filename=filename)
        message = await self._call(lambda: self._send(method, upload, caption, markup))
        file_id = _file_id(message, method) if message is not None else None
        if file_id is not None:
            self.delivery.cache[key] = file_id
            self.learned.append((key, file_id))

    def _send(
        self,
        method: str,
        item: str | BufferedInputFile,
        caption: str | None,
        markup: InlineKeyboardMarkup | None,
    ) -> Awaitable[Message]:
        send = cast(Callable[..., Awaitable[Message]], getattr(self.bot, f"send_{method}"))
        return send(
            self.delivery.chat_id,
            item,
            caption=caption,
            parse_mode="HTML" if caption else None,
            reply_markup=markup,
        )

    async def _call(
        self, call: Callable[[], Awaitable[Message]], *, quiet: bool = True
    ) -> Message | None:
        for _ in range(3):
            try:
                message = await call()
            except TelegramRetryAfter as exc:
                await asyncio.sleep(min(float(exc.retry_after), MAX_RETRY_WAIT_S))
                continue
            except TelegramForbiddenError:
                row = self.delivery.bot_row
                await mark_blocked(
                    session_factory_of(self.ctx),
                    redis_of(self.ctx),
                    row.tenant_id,
                    self.delivery.chat_id,
                )
                raise _Stopped from None
            except TelegramBadRequest as exc:
                if not quiet:
                    raise
                logger.info("post delivery refused: %s", exc.message)
                return None
            self.sent += 1
            return message
        return None


def _file_id(message: Message, method: str) -> str | None:
    if method == "photo" and message.photo:
        return message.photo[-1].file_id
    found = getattr(message, method, None)
    return getattr(found, "file_id", None)


async def _fan_texts(session: AsyncSession, tenant: Tenant, bot_row: TenantBot, user: User) -> Any:
    from bot.i18n import Texts, create_i18n, enabled_languages, pick_language

    language = pick_language(
        user.language, user.language_code, tenant.default_language, enabled_languages(tenant.config)
    )
    base = {
        "user_name": user.first_name or "",
        "user_username": user.username or "",
        "bot_name": tenant.name,
        "bot_username": bot_row.username,
    }
    return Texts(create_i18n(), language, await load_overrides(session, tenant.id), base)


async def _plan(
    session: AsyncSession,
    tenant_id: int,
    telegram_bot_id: int,
    chat_id: int,
    user_id: int,
    post_ids: Sequence[int],
) -> _Delivery | None:
    bot_row = await session.scalar(
        tenant_select(TenantBot, tenant_id).where(TenantBot.telegram_bot_id == telegram_bot_id)
    )
    tenant = await session.get(Tenant, tenant_id)
    user = await content_repo.user_in_tenant(session, tenant_id, user_id)
    if bot_row is None or tenant is None or user is None or not tenant.is_active:
        return None
    role = await admins.role_of(session, tenant, user.telegram_id)
    viewer = content.Viewer(user.id, is_admin=role is not admins.Role.FAN)
    items = []
    for post_id in post_ids:
        try:
            items.append(await content.feed_item(session, tenant_id, viewer, post_id))
        except NotFoundError:
            continue
    keys = [m.file.storage_key for i in items if not i.locked for m in i.media]
    keys += [i.post.preview_key for i in items if i.locked and i.post.preview_key]
    cache = {}
    for key in keys:
        file_id = await content_repo.telegram_file_id(session, tenant_id, telegram_bot_id, key)
        if file_id is not None:
            cache[key] = file_id
    texts = await _fan_texts(session, tenant, bot_row, user)
    return _Delivery(bot_row, chat_id, texts, items, cache)


async def _ppv_ton_prices(
    session: AsyncSession, settings: Settings, tenant_id: int
) -> dict[int, int]:
    """PPV posts that are also sold in TON (nanotons); none while TON payments are off."""
    if not settings.ton_merchant_address:
        return {}
    prices = await invoices.list_prices(session, tenant_id, TonItemKind.PPV.value)
    return {price.item_id: price.amount for price in prices}


async def content_deliver_posts(
    ctx: JobContext,
    tenant_id: int,
    telegram_bot_id: int,
    chat_id: int,
    user_id: int,
    post_ids: list[int],
) -> dict[str, int]:
    """Send posts to a fan's chat, each as that fan may see it right now."""
    factory = session_factory_of(ctx)
    async with factory() as session:
        delivery = await _plan(session, tenant_id, telegram_bot_id, chat_id, user_id, post_ids)
        if delivery is not None:
            delivery.ton_prices = await _ppv_ton_prices(session, ctx["settings"], tenant_id)
    if delivery is None:
        return {"posts": 0, "messages": 0}
    async with tenant_bot(ctx["settings"].telegram_api_base, delivery.bot_row, ctx["redis"]) as bot:
        sender = _Sender(ctx, bot, delivery, storage_of(ctx))
        try:
            for item in delivery.items:
                await sender.post(item)
        except _Stopped:
            pass
    if sender.learned:
        async with unit_of_work(factory, redis_of(ctx)) as session:
            for key, file_id in sender.learned:
                await content_repo.remember_telegram_file_id(
                    session, tenant_id, telegram_bot_id, key, file_id
                )
    return {"posts": len(delivery.items), "messages": sender.sent}


# -- VIP expiry --------------------------------------------------------------------------------


async def _remove_member(bot: Bot, chat_id: int, telegram_id: int) -> str:
    """``removed``, ``not_admin`` (the bot cannot do it: give up) or ``failed`` (retry)."""
    try:
        me = await bot.get_chat_member(chat_id, bot.id)
    except TelegramBadRequest:
        return "not_admin"  # the bot is not in the chat (or the chat is gone)
    except TelegramAPIError:
        return "failed"
    if me.status not in ADMIN_STATUSES:
        return "not_admin"
    try:
        await bot.ban_chat_member(chat_id, telegram_id)
        await bot.unban_chat_member(chat_id, telegram_id, only_if_banned=True)
    except TelegramBadRequest as exc:
        if "not found" in exc.message.lower() or "participant" in exc.message.lower():
            return "removed"  # not a member: nothing to take away
        logger.warning("could not remove a member from %s: %s", chat_id, exc.message)
        return "failed"
    except TelegramAPIError:
        return "failed"
    return "removed"


async def _first_bot(session: AsyncSession, tenant_id: int) -> TenantBot | None:
    statement = (
        tenant_select(TenantBot, tenant_id)
        .where(TenantBot.is_active.is_(True))
        .order_by(TenantBot.id)
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def _tell_fan(ctx: JobContext, bot: Bot, notice: vip.VipNotice, texts: Any) -> int:
    key = "vip.reminder" if notice.kind == "reminder" else "vip.expired"
    text = texts(key, package=notice.package_name, date=notice.period_end.strftime("%Y-%m-%d"))
    try:
        delivered = await send_to_user(
            bot,
            factory=session_factory_of(ctx),
            redis=redis_of(ctx),
            tenant_id=notice.tenant_id,
            telegram_id=notice.telegram_id,
            text=text,
        )
    except TelegramAPIError as exc:  # one fan's failure must not cost the others theirs
        logger.warning("VIP notice to a fan of tenant %d failed: %s", notice.tenant_id, exc)
        return 0
    return int(delivered)


async def _settle_tenant(
    ctx: JobContext, tenant_id: int, notices: Sequence[vip.VipNotice], counts: dict[str, int]
) -> None:
    factory = session_factory_of(ctx)
    async with factory() as session:
        row, tenant = await _first_bot(session, tenant_id), await session.get(Tenant, tenant_id)
        if row is None or tenant is None:
            return
        users = {
            u.id: u
            for u in await session.scalars(
                tenant_select(User, tenant_id).where(User.id.in_([n.user_id for n in notices]))
            )
        }
        texts = {i: await _fan_texts(session, tenant, row, u) for i, u in users.items()}
    async with tenant_bot(ctx["settings"].telegram_api_base, row, ctx["redis"]) as bot:
        for notice in notices:
            if notice.kind != "remove" and notice.user_id in texts:
                counts["sent"] += await _tell_fan(ctx, bot, notice, texts[notice.user_id])
            if notice.kind == "reminder" or notice.channel_chat_id is None:
                continue
            outcome = await _remove_member(bot, notice.channel_chat_id, notice.telegram_id)
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome != "failed":
                async with unit_of_work(factory, redis_of(ctx)) as session:
                    await vip.mark_channel_removed(session, tenant_id, notice.subscription_id)


async def expire_vip(ctx: JobContext, now_ts: float | None = None) -> dict[str, int]:
    """The VIP sweep; ``now_ts`` (epoch seconds) sets the clock, for tests and catching up."""
    factory = session_factory_of(ctx)
    async with unit_of_work(factory, redis_of(ctx)) as session:
        notices = await vip.run_vip_expiry(session, _now(now_ts))
    counts = {
        "reminders": sum(n.kind == "reminder" for n in notices),
        "expired": sum(n.kind == "expired" for n in notices),
        "sent": 0,
        "removed": 0,
    }
    by_tenant: dict[int, list[vip.VipNotice]] = {}
    for notice in notices:
        by_tenant.setdefault(notice.tenant_id, []).append(notice)
    for tenant_id, items in by_tenant.items():
        try:
            await _settle_tenant(ctx, tenant_id, items, counts)
        except (TelegramAPIError, OSError) as exc:
            logger.warning("VIP notices of tenant %d failed: %s", tenant_id, exc)
    return counts


CONTENT_FUNCTIONS: list[Callable[..., Any]] = [
    content_post_preview,
    publish_due_posts,
    content_deliver_posts,
    expire_vip,
]
CONTENT_CRON_JOBS: list[CronJob] = [
    cron(cast(WorkerCoroutine, publish_due_posts), name="cron:publish_due_posts"),
    cron(
        cast(WorkerCoroutine, expire_vip),
        name="cron:expire_vip",
        minute={3, 13, 23, 33, 43, 53},
    ),
]
