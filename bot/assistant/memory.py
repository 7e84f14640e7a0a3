"""The assistant's per-user memory: bounded, persistent (Redis), summarised when long.

Per fan of a tenant: a list of the latest messages (``{"role", "content"}``, each clipped to
:data:`MAX_CHARS`) and a rolling summary of everything older. When the list grows past
:data:`MAX_MESSAGES`, its oldest part is folded into the summary (by the LLM, or by keeping the
tail of a plain transcript offline) and only :data:`KEEP_MESSAGES` stay. So memory never holds
more than ``MAX_MESSAGES × MAX_CHARS + MAX_SUMMARY_CHARS`` characters per fan, and it expires
after :data:`TTL_S` of silence. ``/reset`` deletes both keys.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from redis.asyncio import Redis

from bot.lua import LuaScript
from core.redis import uses_memory_backend

MAX_MESSAGES = 20
KEEP_MESSAGES = 10
MAX_CHARS = 2000
MAX_SUMMARY_CHARS = 1500
TTL_S = 30 * 24 * 3600

# Append ARGV[3..] to the list KEYS[1], keep both keys ARGV[1] seconds; returns {length},
# or {length, list, summary} once the list is longer than ARGV[2] (time to fold). One command
# instead of a five-command MULTI/EXEC (every plain-text message in a bot pays it), and a fold
# needs no second round trip to read what it folds.
_APPEND = LuaScript("""
local length = redis.call('RPUSH', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
if length <= tonumber(ARGV[2]) then
    return {length}
end
return {length, redis.call('LRANGE', KEYS[1], 0, -1), redis.call('GET', KEYS[2])}
""")

Message = dict[str, str]
Summariser = Callable[[str, list[Message]], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Memory:
    summary: str = ""
    messages: list[Message] = field(default_factory=list)


def _keys(tenant_id: int, user_id: int) -> tuple[str, str]:
    base = f"assistant:{tenant_id}:{user_id}"
    return f"{base}:messages", f"{base}:summary"


async def load(redis: Redis, tenant_id: int, user_id: int) -> Memory:
    return await _load(redis, *_keys(tenant_id, user_id))


async def _load(redis: Redis, messages_key: str, summary_key: str) -> Memory:
    async with redis.pipeline(transaction=False) as pipe:
        pipe.lrange(messages_key, 0, -1)
        pipe.get(summary_key)
        raw_messages, raw_summary = await pipe.execute()
    return _memory(raw_messages, raw_summary)


def _memory(raw_messages: list[bytes], raw_summary: bytes | str | None) -> Memory:
    summary = raw_summary.decode() if isinstance(raw_summary, bytes) else (raw_summary or "")
    return Memory(summary, [json.loads(item) for item in raw_messages])


async def remember(
    redis: Redis, tenant_id: int, user_id: int, *messages: Message, summarise: Summariser
) -> None:
    """Append messages; fold the oldest into the summary when the list is too long."""
    messages_key, summary_key = _keys(tenant_id, user_id)
    clipped = [
        json.dumps({"role": m["role"], "content": m["content"][:MAX_CHARS]}, ensure_ascii=False)
        for m in messages
    ]
    memory = await _append(redis, messages_key, summary_key, clipped)
    if memory is None:
        return
    fold = len(memory.messages) - KEEP_MESSAGES
    summary = (await summarise(memory.summary, memory.messages[:fold]))[-MAX_SUMMARY_CHARS:]
    async with redis.pipeline(transaction=True) as pipe:
        pipe.ltrim(messages_key, fold, -1)
        pipe.set(summary_key, summary, ex=TTL_S)
        await pipe.execute()


async def _append(
    redis: Redis, messages_key: str, summary_key: str, items: list[str]
) -> Memory | None:
    """Append; the whole memory when the list has grown past :data:`MAX_MESSAGES`."""
    if uses_memory_backend(redis):  # the stand-in has no Lua
        async with redis.pipeline(transaction=True) as pipe:
            pipe.rpush(messages_key, *items)
            pipe.expire(messages_key, TTL_S)
            pipe.expire(summary_key, TTL_S)
            length, *_ = await pipe.execute()
        if int(length) <= MAX_MESSAGES:
            return None
        return await _load(redis, messages_key, summary_key)
    answer = await _APPEND(redis, [messages_key, summary_key], [TTL_S, MAX_MESSAGES, *items])
    return None if len(answer) == 1 else _memory(answer[1], answer[2])


async def forget(redis: Redis, tenant_id: int, user_id: int) -> None:
    await redis.delete(*_keys(tenant_id, user_id))


async def plain_summary(summary: str, messages: list[Message]) -> str:
    """The offline summariser: the transcript itself, newest part kept."""
    lines = [f"{m['role']}: {m['content'][:300]}" for m in messages]
    return "\n".join([summary, *lines]).strip()[-MAX_SUMMARY_CHARS:]
