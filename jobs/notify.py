"""Worker-side chat delivery: the progress message a fan sees, edited as a job advances, then
the result as the right kind of Telegram media.

The bot creates a job (or a workflow run) from chat, sends one progress message and records
where it is with :func:`track` — a small Redis record keyed by the job or run id. The runner's
:class:`ChatProgressReporter` hands each progress event to the worker's :class:`Notifier`, which
finds that record and talks to the fan through the tenant's own bot over the Bot API (never
through ``bot`` handlers):

- progress edits are throttled (at least ``edit_interval`` seconds apart per message, unchanged
  texts skipped, one edit in flight) and run in the background, so a slow Telegram never slows
  the job; a 429 pushes the next edit past its ``retry_after``;
- the end is awaited: the message is edited to its final state, then the output is sent as a
  photo, video, audio, voice, document or text, with Re-run / Variations / Open in drive
  buttons; a failure or cancel says why and that the held credits went back;
- a 403 (the fan blocked the bot) marks the fan and drops the delivery.

Records live in Redis (``notify:job:{id}`` / ``notify:run:{id}``, two days): a delivery is a
courtesy on top of the job's real record in the database, so no schema change is needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    WebAppInfo,
)
from pydantic import BaseModel
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import tenant_select
from core.models import TenantBot
from core.models.catalog import Tool
from core.models.drive import File
from core.models.jobs import JobStatus
from core.settings import Settings
from jobs.generation.progress import ProgressReporter, publish
from jobs.generation.schemas import ProgressEvent
from tenants.chatlog.record import RecordSends
from tenants.service import bot_token
from tenants.texts import load_overrides

logger = logging.getLogger(__name__)

T = TypeVar("T")
Factory = async_sessionmaker[AsyncSession]

RECORD_TTL_S = 2 * 24 * 3600
MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # what a bot may send
MAX_RESULT_FILES = 4
MAX_RETRY_WAIT_S = 30.0


class Delivery(BaseModel):
    """Where a job's (or run's) progress message lives, as the bot recorded it."""

    kind: Literal["job", "run"]
    id: int
    tenant_id: int
    telegram_bot_id: int
    chat_id: int
    message_id: int
    locale: str
    steps: int = 1


def record_key(kind: str, ident: int) -> str:
    return f"notify:{kind}:{ident}"


async def track(redis: Redis, delivery: Delivery) -> None:
    """Remember the progress message of a job or run (the bot calls this before commit)."""
    await redis.set(
        record_key(delivery.kind, delivery.id), delivery.model_dump_json(), ex=RECORD_TTL_S
    )


async def find_delivery(redis: Redis, event: ProgressEvent) -> Delivery | None:
    keys = [record_key("job", event.id)]
    if event.workflow_run_id is not None:
        keys.append(record_key("run", event.workflow_run_id))
    for raw in await redis.mget(keys):
        if raw is not None:
            return Delivery.model_validate_json(raw)
    return None


def result_keyboard(
    public_base_url: str, delivery: Delivery, event: ProgressEvent, labels: Mapping[str, str]
) -> InlineKeyboardMarkup:
    """Re-run (the job or the whole run), Variations (images), Open in drive (Mini App)."""
    rerun = f"gen:rerun:{delivery.kind}:{delivery.id}"
    row = [InlineKeyboardButton(text=labels["rerun"], callback_data=rerun)]
    rows = [row]
    if event.file_ids:
        file_id = event.file_ids[0]
        if labels.get("variations"):
            row.append(
                InlineKeyboardButton(text=labels["variations"], callback_data=f"gen:var:{file_id}")
            )
        url = (
            f"{public_base_url.rstrip('/')}/app/?bot={delivery.telegram_bot_id}"
            f"#/drive/file/{file_id}"
        )
        rows.append([InlineKeyboardButton(text=labels["drive"], web_app=WebAppInfo(url=url))])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def cancel_keyboard(label: str, delivery_kind: str, ident: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=label, callback_data=f"gen:cancel:{delivery_kind}:{ident}")]
        ]
    )


def media_method(mime_type: str, tool_kind: str) -> str:
    """Which ``send*`` suits a file: photo, video, voice (spoken ogg/opus), audio, document."""
    if mime_type in ("image/png", "image/jpeg", "image/webp"):
        return "photo"
    if mime_type == "video/mp4":
        return "video"
    if tool_kind == "text_to_speech" and mime_type in ("audio/ogg", "audio/opus"):
        return "voice"
    if mime_type.startswith("audio/"):
        return "audio"
    return "document"


@dataclass
class _Chat:
    """One progress message being kept up to date by this worker."""

    delivery: Delivery
    bot: Bot
    texts: Any  # bot.i18n.Texts
    last_text: str = ""
    last_edit: float = 0.0
    not_before: float = 0.0
    inflight: asyncio.Task[None] | None = None
    closed: bool = False
    names: dict[str, str] = field(default_factory=dict)


class Notifier:
    """The worker's link to fans: tenant bots on one shared HTTP session (a small LRU),
    and the progress messages of the jobs it runs."""

    def __init__(
        self,
        settings: Settings,
        factory: Factory,
        redis: Redis,
        ctx: Mapping[str, Any],
        *,
        edit_interval: float = 1.0,
        max_bots: int = 256,
        max_chats: int = 1024,
    ) -> None:
        self.settings = settings
        self.factory = factory
        self.redis = redis
        self.ctx = ctx
        self.edit_interval = edit_interval
        self.session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_base))
        self.session.middleware(RecordSends(redis))  # results and broadcasts: chat history
        self._bots: OrderedDict[int, Bot] = OrderedDict()
        self._chats: OrderedDict[tuple[str, int], _Chat] = OrderedDict()
        self._max_bots = max_bots
        self._max_chats = max_chats

    async def close(self) -> None:
        for chat in list(self._chats.values()):
            if chat.inflight is not None:
                chat.inflight.cancel()
        self._chats.clear()
        await self.session.close()

    # -- events --------------------------------------------------------------------------------

    async def on_event(self, event: ProgressEvent) -> None:
        """Show one progress event; never raises (a delivery must not fail a job)."""
        try:
            delivery = await find_delivery(self.redis, event)
            if delivery is None:
                return
            chat = await self._chat(delivery)
            if chat is None or chat.closed:
                return
            if self._is_end(delivery, event):
                await self._finish(chat, event)
            else:
                self._progress(chat, event)
        except Exception:
            logger.warning("could not show progress of job %d in chat", event.id, exc_info=True)

    @staticmethod
    def _is_end(delivery: Delivery, event: ProgressEvent) -> bool:
        if event.status in (JobStatus.FAILED, JobStatus.CANCELLED):
            return True
        if event.status is not JobStatus.SUCCEEDED:
            return False
        return delivery.kind == "job" or (event.step_index or 0) + 1 >= delivery.steps

    async def _chat(self, delivery: Delivery) -> _Chat | None:
        key = (delivery.kind, delivery.id)
        chat = self._chats.get(key)
        if chat is not None:
            self._chats.move_to_end(key)
            return chat
        async with self.factory() as session:
            row = await session.scalar(
                select(TenantBot).where(TenantBot.telegram_bot_id == delivery.telegram_bot_id)
            )
            if row is None or row.tenant_id != delivery.tenant_id:
                return None
            overrides = await load_overrides(session, delivery.tenant_id)
            names = {
                tool.slug: tool.names.get(delivery.locale) or tool.names.get("en") or tool.slug
                for tool in (await session.scalars(select(Tool))).all()
            }
            token = bot_token(row)
        from bot.i18n import Texts, create_i18n  # the catalogues live with the bot

        chat = _Chat(
            delivery=delivery,
            bot=self._bot(delivery.telegram_bot_id, token),
            texts=Texts(create_i18n(), delivery.locale, overrides),
            names=names,
        )
        self._chats[key] = chat
        while len(self._chats) > self._max_chats:
            self._chats.popitem(last=False)
        return chat

    def _bot(self, telegram_bot_id: int, token: str) -> Bot:
        bot = self._bots.get(telegram_bot_id)
        if bot is None or bot.token != token:
            bot = Bot(token, session=self.session)
            self._bots[telegram_bot_id] = bot
        self._bots.move_to_end(telegram_bot_id)
        while len(self._bots) > self._max_bots:
            self._bots.popitem(last=False)
        return bot

    # -- progress ------------------------------------------------------------------------------

    def _progress_text(self, chat: _Chat, event: ProgressEvent) -> str:
        texts, delivery = chat.texts, chat.delivery
        tool = chat.names.get(event.tool, event.tool)
        if event.status is JobStatus.SUCCEEDED:  # a workflow step done, more to come
            return str(
                texts("gen.step_done", step=(event.step_index or 0) + 1, steps=delivery.steps)
            )
        stage = event.stage if event.status is JobStatus.RUNNING else texts("gen.status_queued")
        if delivery.kind == "run":
            return str(
                texts(
                    "gen.step_progress",
                    step=(event.step_index or 0) + 1,
                    steps=delivery.steps,
                    tool=tool,
                    progress=event.progress,
                    stage=stage,
                )
            )
        return str(texts("gen.progress", tool=tool, progress=event.progress, stage=stage))

    def _progress(self, chat: _Chat, event: ProgressEvent) -> None:
        text = self._progress_text(chat, event)
        now = time.monotonic()
        if text == chat.last_text or (chat.inflight is not None and not chat.inflight.done()):
            return
        if now < chat.not_before or now - chat.last_edit < self.edit_interval:
            return
        chat.last_text, chat.last_edit = text, now
        markup = cancel_keyboard(
            chat.texts("gen.cancel_button"), chat.delivery.kind, chat.delivery.id
        )
        chat.inflight = asyncio.create_task(self._edit(chat, text, markup, final=False))

    async def _edit(
        self, chat: _Chat, text: str, markup: InlineKeyboardMarkup | None, *, final: bool
    ) -> None:
        delivery = chat.delivery
        await self._call(
            chat,
            lambda: chat.bot.edit_message_text(
                text=text,
                chat_id=delivery.chat_id,
                message_id=delivery.message_id,
                reply_markup=markup,
            ),
            final=final,
        )

    # -- the end -------------------------------------------------------------------------------

    async def _finish(self, chat: _Chat, event: ProgressEvent) -> None:
        delivery = chat.delivery
        chat.closed = True
        self._chats.pop((delivery.kind, delivery.id), None)
        await self.redis.delete(record_key(delivery.kind, delivery.id))
        if chat.inflight is not None:
            with contextlib.suppress(Exception):
                await chat.inflight
        wait = max(chat.not_before, chat.last_edit + self.edit_interval) - time.monotonic()
        if wait > 0:
            await asyncio.sleep(min(wait, MAX_RETRY_WAIT_S))
        texts = chat.texts
        tool = chat.names.get(event.tool, event.tool)
        if event.status is JobStatus.SUCCEEDED:
            await self._edit(chat, str(texts("gen.done", tool=tool)), None, final=True)
            await self._send_result(chat, event, tool)
        elif event.status is JobStatus.CANCELLED:
            await self._edit(chat, str(texts("gen.cancelled")), None, final=True)
        else:
            error = (event.error or {}).get("message") or ""
            text = str(texts("gen.failed", tool=tool, error=error[:500]))
            await self._edit(chat, text, None, final=True)

    async def _send_result(self, chat: _Chat, event: ProgressEvent, tool_name: str) -> None:
        delivery, texts = chat.delivery, chat.texts
        labels = {
            "rerun": str(texts("gen.rerun_button")),
            "drive": str(texts("gen.open_drive_button")),
        }
        files = await self._files(delivery.tenant_id, event.file_ids[:MAX_RESULT_FILES])
        if any(f.mime_type.startswith("image/") for f in files):
            labels["variations"] = str(texts("gen.variations_button"))
        markup = result_keyboard(self.settings.public_base_url, delivery, event, labels)
        if not files:
            body = (event.text or tool_name)[:4096]
            await self._call(
                chat,
                lambda: chat.bot.send_message(delivery.chat_id, body, reply_markup=markup),
                final=True,
            )
            return
        kind = await self._tool_kind(event.tool)
        for index, file in enumerate(files):
            keyboard = markup if index == len(files) - 1 else None
            await self._send_file(chat, file, kind, tool_name, keyboard)

    async def _send_file(
        self,
        chat: _Chat,
        file: File,
        tool_kind: str,
        caption: str,
        markup: InlineKeyboardMarkup | None,
    ) -> None:
        delivery = chat.delivery
        if file.size > MAX_UPLOAD_BYTES:
            await self._call(
                chat,
                lambda: chat.bot.send_message(delivery.chat_id, caption, reply_markup=markup),
                final=True,
            )
            return
        from jobs.generation.runner import storage_of  # the runner imports this module

        storage = storage_of(self.ctx)
        data = b"".join([chunk async for chunk in storage.open_stream(file.storage_key)])
        upload = BufferedInputFile(data, filename=file.name)
        method = media_method(file.mime_type, tool_kind)
        bot, chat_id = chat.bot, delivery.chat_id
        senders: dict[str, Callable[[], Awaitable[Any]]] = {
            "photo": lambda: bot.send_photo(chat_id, upload, caption=caption, reply_markup=markup),
            "video": lambda: bot.send_video(chat_id, upload, caption=caption, reply_markup=markup),
            "voice": lambda: bot.send_voice(chat_id, upload, caption=caption, reply_markup=markup),
            "audio": lambda: bot.send_audio(chat_id, upload, caption=caption, reply_markup=markup),
            "document": lambda: bot.send_document(
                chat_id, upload, caption=caption, reply_markup=markup
            ),
        }
        await self._call(chat, senders[method], final=True)

    async def _files(self, tenant_id: int, file_ids: list[int]) -> list[File]:
        if not file_ids:
            return []
        async with self.factory() as session:
            rows = await session.scalars(
                tenant_select(File, tenant_id).where(File.id.in_(file_ids))
            )
            by_id = {row.id: row for row in rows}
        return [by_id[i] for i in file_ids if i in by_id]

    async def _tool_kind(self, slug: str) -> str:
        async with self.factory() as session:
            kind = await session.scalar(select(Tool.kind).where(Tool.slug == slug))
        return str(kind or "")

    # -- the Bot API, politely -----------------------------------------------------------------

    async def _call(
        self, chat: _Chat, call: Callable[[], Awaitable[T]], *, final: bool
    ) -> T | None:
        """One Bot API call: 'not modified' is success, 429 waits (only for the final
        messages; a progress edit is simply skipped), 403 marks the fan and stops."""
        for _ in range(3):
            try:
                return await call()
            except TelegramRetryAfter as exc:
                chat.not_before = time.monotonic() + exc.retry_after
                if not final:
                    return None
                await asyncio.sleep(min(float(exc.retry_after), MAX_RETRY_WAIT_S))
            except TelegramForbiddenError:
                chat.closed = True
                await self._blocked(chat.delivery)
                return None
            except TelegramBadRequest as exc:
                if "not modified" not in exc.message:
                    logger.info("chat delivery refused: %s", exc.message)
                return None
        return None

    async def _blocked(self, delivery: Delivery) -> None:
        from tenants.users import mark_blocked

        await mark_blocked(self.factory, self.redis, delivery.tenant_id, delivery.chat_id)


_notifiers: weakref.WeakKeyDictionary[Any, Notifier] = weakref.WeakKeyDictionary()


def notifier_of(ctx: Mapping[str, Any]) -> Notifier:
    """The worker's notifier, made on first use (arq gives every job a fresh copy of the
    worker's ``ctx``, so it is kept per worker session factory); closed by
    :func:`close_notifier` at shutdown."""
    key = ctx["session_factory"]
    notifier = _notifiers.get(key)
    if notifier is None:
        notifier = Notifier(
            ctx["settings"],
            key,
            ctx["redis"],
            ctx,
            edit_interval=float(ctx.get("notify_edit_interval", 1.0)),
        )
        _notifiers[key] = notifier
    return notifier


async def close_notifier(ctx: Mapping[str, Any]) -> None:
    """Close the worker's notifier (its HTTP session), if it made one."""
    key = ctx.get("session_factory")
    notifier = _notifiers.pop(key, None) if key is not None else None
    if notifier is not None:
        await notifier.close()


class ChatProgressReporter(ProgressReporter):
    """A :class:`ProgressReporter` that also shows every event in the fan's chat."""

    def __init__(self, redis: Redis, *, notifier: Notifier, **kwargs: Any) -> None:
        super().__init__(redis, **kwargs)
        self.notifier = notifier

    async def emit(self, status: JobStatus, **extra: Any) -> None:
        event = self.event(status, **extra)
        await publish(self.redis, event)
        await self.notifier.on_event(event)
