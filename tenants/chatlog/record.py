"""Recording messages into one capped Redis stream, cheaply.

Every entry is a flat list of :data:`WIDTH` items, seven fields and their values: ``b`` the
Telegram bot id, ``u`` the fan's Telegram id (a private chat's id), ``d`` ``in`` or ``out``,
``k`` the kind, ``m`` the Telegram message id (empty when unknown), ``x`` the text or caption,
``t`` the time in ms when the entry was written later than it happened (else empty: the entry
id, Redis server time, is its time). The tenant and the fan's row are looked up when the worker
drains the stream (:mod:`tenants.chatlog.service`), in one query per batch, not per message.

- incoming: :func:`incoming` turns a raw update into fields; the webhook's one Redis command
  (:mod:`bot.prefetch`) appends them when the update is fresh, so a re-sent update is recorded
  once and no round trip is added;
- outgoing in the webhook response: :class:`PendingReplies` holds the reply until the
  process's next Redis script (the next update) carries it, or writes it itself after
  :data:`FLUSH_AFTER` seconds when no update comes — an ``XADD`` of its own would cost ~7 % of
  an update (see bench/README.md);
- outgoing through the Bot API: :class:`RecordSends`, a client-session middleware, after
  Telegram accepted the message (so its message id is known).

Only private chats are recorded; a payment report is recorded as the kind ``payment`` alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from redis.asyncio import Redis

from core.models.chatlog import MAX_TEXT

if TYPE_CHECKING:
    from aiogram import Bot

logger = logging.getLogger(__name__)

STREAM = "chatlog:stream"
STREAM_MAXLEN = 200_000
"""A cap on the backlog (``MAXLEN ~``): what the worker did not drain beyond it is dropped
rather than grow Redis without bound while the worker is down (~40 MB at this size)."""

CONFIG_KEY = "chat_history"  # tenant.config: False turns recording off

Fields = list[str]
WIDTH = 14  # items of an entry: seven fields and their values

FLUSH_AFTER = 0.25
"""Longest a reply waits in the process for the next update's script to carry it; a process
that dies loses at most the replies of this last moment."""

_MEDIA = (
    "photo",
    "video",
    "voice",
    "video_note",
    "audio",
    "document",
    "animation",
    "sticker",
    "location",
    "contact",
    "poll",
    "dice",
)
_PAYMENTS = ("successful_payment", "refunded_payment")

_SENT_KINDS = {
    "sendMessage": "text",
    "sendPhoto": "photo",
    "sendVideo": "video",
    "sendAudio": "audio",
    "sendVoice": "voice",
    "sendVideoNote": "video_note",
    "sendDocument": "document",
    "sendAnimation": "animation",
    "sendSticker": "sticker",
    "sendMediaGroup": "album",
    "sendPaidMedia": "paid_media",
    "sendInvoice": "invoice",
    "sendLocation": "location",
    "sendContact": "contact",
    "sendPoll": "poll",
    "sendDice": "dice",
    "copyMessage": "copy",
    "forwardMessage": "forward",
}


def recording(config: Mapping[str, Any]) -> bool:
    """The tenant's switch (on unless the creator turned it off)."""
    return config.get(CONFIG_KEY) is not False


def _fields(
    bot_id: int,
    user_id: int,
    direction: str,
    kind: str,
    message_id: Any,
    text: Any,
    at_ms: int | None = None,
) -> Fields:
    clipped = text[:MAX_TEXT] if isinstance(text, str) else ""
    mid = str(message_id) if isinstance(message_id, int) else ""
    at = "" if at_ms is None else str(at_ms)
    return [
        *("b", str(bot_id), "u", str(user_id), "d", direction, "k", kind),
        *("m", mid, "x", clipped, "t", at),
    ]


def _is_private(message: Any) -> bool:
    chat = message.get("chat") if isinstance(message, dict) else None
    return isinstance(chat, dict) and chat.get("type") == "private"


def incoming(bot_id: int, update_type: str | None, raw: Mapping[str, Any]) -> Fields | None:
    """The fields of a fan's message or button press (a raw update), or None when it is not
    recorded: other update types, groups and channels, other bots."""
    if update_type == "callback_query":
        query = raw["callback_query"]
        sender = query.get("from") or {}
        if not _is_private(query.get("message")) or not isinstance(sender.get("id"), int):
            return None
        return _fields(bot_id, sender["id"], "in", "button", None, query.get("data") or "")
    if update_type not in ("message", "payment_message"):
        return None
    message = raw["message"]
    sender = message.get("from") or {}
    if not _is_private(message) or sender.get("is_bot") or not isinstance(sender.get("id"), int):
        return None
    message_id = message.get("message_id")
    if update_type == "payment_message":  # the payload (charge ids, amounts) stays out
        return _fields(bot_id, sender["id"], "in", "payment", message_id, "")
    text = message.get("text")
    if isinstance(text, str):
        kind = "command" if text.startswith("/") else "text"
        return _fields(bot_id, sender["id"], "in", kind, message_id, text)
    kind = next((name for name in _MEDIA if name in message), "other")
    caption = message.get("caption")
    if kind == "sticker" and caption is None:
        caption = (message.get("sticker") or {}).get("emoji")
    return _fields(bot_id, sender["id"], "in", kind, message_id, caption)


def outgoing(
    bot_id: int,
    method: TelegramMethod[Any],
    message_id: int | None = None,
    at_ms: int | None = None,
) -> Fields | None:
    """The fields of a message the bot sends to a fan, or None for anything else (edits,
    answers, sends to groups and channels)."""
    kind = _SENT_KINDS.get(method.__api_method__)
    chat_id = getattr(method, "chat_id", None)
    if kind is None or not isinstance(chat_id, int) or chat_id <= 0:
        return None
    text = getattr(method, "text", None) or getattr(method, "caption", None)
    if kind == "invoice":
        text = getattr(method, "title", None)
    elif kind == "album":
        media = getattr(method, "media", None) or []
        text = next((m.caption for m in media if getattr(m, "caption", None)), None)
    return _fields(bot_id, chat_id, "out", kind, message_id, text, at_ms)


async def append(redis: Redis, fields: Fields) -> None:
    pairs = dict(zip(fields[::2], fields[1::2], strict=True))
    await redis.xadd(STREAM, pairs, maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]


class PendingReplies:
    """The replies this process returned in webhook responses (Telegram sends them; their
    message ids never come back to us), until a Redis command carries them to the stream:
    :meth:`take` hands them to the next update's script; a timer flushes them otherwise."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self._entries: list[Fields] = []
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()

    def add(self, bot_id: int, method: TelegramMethod[Any]) -> None:
        fields = outgoing(bot_id, method, at_ms=time.time_ns() // 1_000_000)
        if fields is None:
            return
        self._entries.append(fields)
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_AFTER, self._flush_later)

    def take(self) -> list[Fields]:
        entries, self._entries = self._entries, []
        return entries

    def give_back(self, entries: list[Fields]) -> None:
        """Entries whose command failed: the next one tries again."""
        self._entries[:0] = entries

    def _flush_later(self) -> None:
        self._timer = None
        task = asyncio.ensure_future(self.flush())
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def flush(self) -> None:
        """Write what is held now (the timer, shutdown)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        entries = self.take()
        if not entries:
            return
        try:
            pipe = self.redis.pipeline(transaction=False)
            for fields in entries:
                pairs = dict(zip(fields[::2], fields[1::2], strict=True))
                pipe.xadd(STREAM, pairs, maxlen=STREAM_MAXLEN, approximate=True)  # type: ignore[arg-type]
            await pipe.execute()
        except Exception:
            logger.warning("could not record %d replies; trying again", len(entries), exc_info=True)
            self.give_back(entries)

    async def close(self) -> None:
        await self.flush()
        if self._flushing:
            await asyncio.wait(list(self._flushing), timeout=5)


class RecordSends(BaseRequestMiddleware):
    """A client-session middleware: every message a bot sends to a fan through the Bot API is
    appended to the stream once Telegram accepted it. ``enabled(bot_id)`` may refuse early
    (the bot runtime knows its tenants' switches); the worker drains by the switch anyway.
    A failure to record never fails the send."""

    def __init__(self, redis: Redis, enabled: Callable[[int], bool] | None = None) -> None:
        self.redis = redis
        self.enabled = enabled

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        response = await make_request(bot, method)
        if method.__api_method__ not in _SENT_KINDS:
            return response
        try:
            if self.enabled is None or self.enabled(bot.id):
                # aiogram's type says Response; its sessions hand back the result itself
                result: Any = response.result if isinstance(response, Response) else response
                if isinstance(result, list):
                    result = result[0] if result else None
                message_id = getattr(result, "message_id", None)  # Message or MessageId
                fields = outgoing(bot.id, method, message_id)
                if fields is not None:
                    await append(self.redis, fields)
        except Exception:
            logger.warning("could not record a sent message", exc_info=True)
        return response
