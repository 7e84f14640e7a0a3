"""One Redis round trip per update for everything the middlewares need to know up front.

The webhook (and the polling loop) asks, in one command: was this ``update_id`` seen already
(``SET NX EX``); the bot's routing version, the fan's cached snapshot and the chat's FSM state
(``MGET``); the fan's throttling counter (``INCR``, and its ``EXPIRE`` when a window starts);
and it writes to the chat history stream (``XADD``, :mod:`tenants.chatlog.record`) the fan's
message when the update is fresh, with the replies this process returned since its previous
script. Asking separately would cost six round trips per update. On a Redis server the
command is one Lua script (``EVALSHA``): redis-py spends about half as much CPU on one command
as on a pipeline of three, and the window's ``EXPIRE`` rides along instead of costing a second
round trip. The in-process stand-in of ``atelier dev`` has no Lua, so there the same commands
go as one pipeline (and the ``EXPIRE`` and the ``XADD`` commands after it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from arq.connections import ArqRedis

from bot.lua import LuaScript
from core.redis import uses_memory_backend
from tenants.chatlog import record as chatlog
from tenants.users import snapshot_key
from tenants.webhooks import route_version_key

DEDUPE_TTL = 3600
"""How long an ``update_id`` is remembered. Telegram re-sends an update it got no 2xx for,
with growing delays, but we answer at once (slow work goes on in the background), so a
duplicate comes within seconds or minutes; an hour bounds the memory (a key per update)."""

#: Update types that count against a fan's rate limit (service updates like ``my_chat_member``
#: or payments must never be dropped).
THROTTLED_TYPES = frozenset({"message", "edited_message", "callback_query", "inline_query"})
#: A message that reports a payment or a refund is described as this type, so it is never
#: counted or throttled.
PAYMENT_UPDATE = "payment_message"
_PAYMENT_FIELDS = frozenset({"successful_payment", "refunded_payment"})

DEFAULT_THROTTLE_LIMIT = 20
DEFAULT_THROTTLE_WINDOW = 10


@dataclass(frozen=True, slots=True)
class Throttle:
    """At most ``limit`` updates per ``window`` seconds per (bot, fan). The window starts at
    the fan's first update (the counter's expiry is set then), so its edges never fall at a
    fixed clock time."""

    limit: int = DEFAULT_THROTTLE_LIMIT
    window: int = DEFAULT_THROTTLE_WINDOW

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Throttle:
        raw = config.get("throttle") or {}
        try:
            limit = int(raw.get("limit", DEFAULT_THROTTLE_LIMIT))
            window = int(raw.get("window", DEFAULT_THROTTLE_WINDOW))
        except (TypeError, ValueError, AttributeError):
            return cls()
        return cls(max(limit, 1), max(window, 1))


@dataclass(frozen=True, slots=True)
class Prefetch:
    fresh: bool  # False: a duplicate update_id, drop it
    route_version: bytes | None
    user_snapshot: bytes | None
    hits: int  # updates of this fan in the current throttling window (0: not counted)
    fsm_key: str | None = None
    fsm_state: bytes | None = None


def dedupe_key(telegram_bot_id: int, update_id: int) -> str:
    return f"bot:seen:{telegram_bot_id}:{update_id}"


def throttle_key(telegram_bot_id: int, telegram_user_id: int) -> str:
    return f"bot:rl:{telegram_bot_id}:{telegram_user_id}"


# KEYS: the dedupe key, the rate counter and the chat history stream ("" when not wanted),
# then the keys to MGET. ARGV: the dedupe TTL, the throttling window and limit, the stream's
# MAXLEN, '1' when the last history entry is the update's own message (written only when the
# update is fresh), then the entries (14 items each). Returns {fresh, hits, values}.
_PREFETCH = LuaScript("""
local fresh = 1
if KEYS[1] ~= '' then
    fresh = redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) and 1 or 0
end
if KEYS[3] ~= '' then
    local last = #ARGV
    if ARGV[5] == '1' and fresh == 0 then
        last = last - 14
    end
    for i = 6, last, 14 do
        redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[4], '*', unpack(ARGV, i, i + 13))
    end
end
local values = redis.call('MGET', unpack(KEYS, 4))
local hits = 0
if KEYS[2] ~= '' then
    hits = redis.call('INCR', KEYS[2])
    if hits == 1 then
        redis.call('EXPIRE', KEYS[2], ARGV[2])
    elseif hits == tonumber(ARGV[3]) + 1 then
        redis.call('EXPIRE', KEYS[2], ARGV[2], 'NX')
    end
end
return {fresh, hits, values}
""")


async def prefetch(
    redis: ArqRedis,
    *,
    telegram_bot_id: int,
    tenant_id: int,
    update_id: int | None,
    sender_id: int | None,
    update_type: str | None,
    throttle: Throttle,
    fsm_key: str | None = None,
    message: chatlog.Fields | None = None,
    replies: Sequence[chatlog.Fields] = (),
) -> Prefetch:
    """``message``: the fan's message to record in the chat history (once, when fresh);
    ``replies``: earlier replies of this process to record (:class:`chatlog.PendingReplies`)."""
    keys = [route_version_key(telegram_bot_id)]
    if sender_id is not None:
        keys.append(snapshot_key(tenant_id, sender_id))
    if fsm_key is not None:
        keys.append(fsm_key)
    counted = sender_id is not None and update_type in THROTTLED_TYPES
    rate_key = throttle_key(telegram_bot_id, sender_id) if counted else ""  # type: ignore[arg-type]
    seen_key = dedupe_key(telegram_bot_id, update_id) if update_id is not None else ""
    if uses_memory_backend(redis):
        fresh, hits, values = await _pipelined(redis, seen_key, rate_key, keys, throttle)
        for entry in [*replies, message] if fresh else replies:
            if entry is not None:
                await chatlog.append(redis, entry)
    else:
        stream = chatlog.STREAM if message is not None or replies else ""
        args: list[str | int] = [DEDUPE_TTL, throttle.window, throttle.limit]
        args += [chatlog.STREAM_MAXLEN, "1" if message is not None else "0"]
        for entry in replies:
            args += entry
        if message is not None:
            args += message
        fresh, hits, values = await _PREFETCH(redis, [seen_key, rate_key, stream, *keys], args)
    return Prefetch(
        fresh=bool(fresh),
        route_version=values[0],
        user_snapshot=values[1] if sender_id is not None else None,
        hits=int(hits),
        fsm_key=fsm_key,
        fsm_state=values[-1] if fsm_key is not None else None,
    )


async def _pipelined(
    redis: ArqRedis, seen_key: str, rate_key: str, keys: list[str], throttle: Throttle
) -> tuple[bool, int, list[bytes | None]]:
    """The script's work as a pipeline, for a Redis without Lua (the in-process stand-in)."""
    pipe = redis.pipeline(transaction=False)
    if seen_key:
        pipe.set(seen_key, b"1", nx=True, ex=DEDUPE_TTL)
    pipe.mget(keys)
    if rate_key:
        pipe.incr(rate_key)
    results = await pipe.execute()
    fresh = bool(results[0]) if seen_key else True
    values = results[1 if seen_key else 0]
    hits = int(results[-1]) if rate_key else 0
    if rate_key and (hits == 1 or hits == throttle.limit + 1):
        # The window starts with the first update; the second EXPIRE (NX) only repairs a
        # counter whose first EXPIRE was lost, so no fan stays throttled for ever.
        await redis.expire(rate_key, throttle.window, nx=hits != 1)
    return fresh, hits, values


@dataclass(frozen=True, slots=True)
class Envelope:
    """What the webhook reads from the raw JSON before pydantic parses it."""

    update_type: str | None
    sender_id: int | None
    chat_id: int | None  # only for private-chat-like updates whose FSM key is plain


def describe(raw: dict[str, Any]) -> Envelope:
    for key, payload in raw.items():
        if key == "update_id" or not isinstance(payload, dict):
            continue
        sender = payload.get("from") or payload.get("user")
        sender_id = sender.get("id") if isinstance(sender, dict) else None
        if not isinstance(sender_id, int):
            return Envelope(key, None, None)
        message = payload.get("message") if key == "callback_query" else payload
        chat_id = None
        if (
            isinstance(message, dict)
            and "message_thread_id" not in message
            and "business_connection_id" not in message
        ):
            chat = message.get("chat")
            if isinstance(chat, dict) and isinstance(chat.get("id"), int):
                chat_id = chat["id"]
        if key == "message" and _PAYMENT_FIELDS.intersection(payload):
            key = PAYMENT_UPDATE  # money never waits behind (or is dropped by) a rate limit
        return Envelope(key, sender_id, chat_id)
    return Envelope(None, None, None)
