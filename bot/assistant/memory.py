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

# Count the reply in the tenant's daily quota KEYS[3] when given (the counter lives ARGV[4]
# seconds) and refuse past ARGV[3] (-1: no limit) with {used}; else append ARGV[5..] to the list
# KEYS[1], keep both keys ARGV[1] seconds and return {used, length}, or {used, length, list,
# summary} once the list is longer than ARGV[2] (time to fold); used is 0 without a quota.
# One command instead of a five-command MULTI/EXEC (every plain-text message in a bot pays
# it): the quota, the append and a fold's read share one round trip.
_APPEND = LuaScript("""
local used = 0
if #KEYS == 3 then
    used = redis.call('INCR', KEYS[3])
    redis.call('EXPIRE', KEYS[3], ARGV[4])
    local limit = tonumber(ARGV[3])
    if limit >= 0 and used > limit then
        return {used}
    end
end
local length = redis.call('RPUSH', KEYS[1], unpack(ARGV, 5))
redis.call('EXPIRE', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[2], ARGV[1])
if length <= tonumber(ARGV[2]) then
    return {used, length}
end
return {used, length, redis.call('LRANGE', KEYS[1], 0, -1), redis.call('GET', KEYS[2])}
""")

Message = dict[str, str]
Summariser = Callable[[str, list[Message]], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class Quota:
    """The tenant's daily count of assistant replies (``key``), refused past ``limit``
    (``None``: counted, never refused)."""

    key: str
    limit: int | None
    ttl_s: int

    def allows(self, used: int) -> bool:
        return self.limit is None or used <= self.limit

    def just_ran_out(self, used: int) -> bool:
        """This reply is the first the quota refused today (the counter is atomic: one
        caller a day sees it)."""
        return self.limit is not None and used == self.limit + 1


@dataclass(frozen=True, slots=True)
class Memory:
    summary: str = ""
    messages: list[Message] = field(default_factory=list)


def _keys(tenant_id: int, user_id: int) -> tuple[str, str]:
    base = f"assistant:{tenant_id}:{user_id}"
    return f"{base}:messages", f"{base}:summary"


async def load(redis: Redis, tenant_id: int, user_id: int) -> Memory:
    return await _load(redis, *_keys(tenant_id, user_id))


async def load_counted(
    redis: Redis, tenant_id: int, user_id: int, quota: Quota
) -> tuple[Memory, int]:
    """The memory, and the quota's count with this reply (counted in the same round trip)."""
    messages_key, summary_key = _keys(tenant_id, user_id)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.lrange(messages_key, 0, -1)
        pipe.get(summary_key)
        pipe.incr(quota.key)
        pipe.expire(quota.key, quota.ttl_s)
        raw_messages, raw_summary, used, _ = await pipe.execute()
    return _memory(raw_messages, raw_summary), int(used)


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
    redis: Redis,
    tenant_id: int,
    user_id: int,
    *messages: Message,
    summarise: Summariser,
    quota: Quota | None = None,
) -> int:
    """Append messages; fold the oldest into the summary when the list is too long. With a
    ``quota``, the reply is counted first and nothing is remembered when the quota does not
    allow it. Returns the quota's count with this reply (0 without a quota)."""
    messages_key, summary_key = _keys(tenant_id, user_id)
    clipped = [
        json.dumps({"role": m["role"], "content": m["content"][:MAX_CHARS]}, ensure_ascii=False)
        for m in messages
    ]
    used, memory = await _append(redis, messages_key, summary_key, clipped, quota)
    if memory is None:
        return used
    fold = len(memory.messages) - KEEP_MESSAGES
    summary = (await summarise(memory.summary, memory.messages[:fold]))[-MAX_SUMMARY_CHARS:]
    async with redis.pipeline(transaction=True) as pipe:
        pipe.ltrim(messages_key, fold, -1)
        pipe.set(summary_key, summary, ex=TTL_S)
        await pipe.execute()
    return used


async def _append(
    redis: Redis, messages_key: str, summary_key: str, items: list[str], quota: Quota | None
) -> tuple[int, Memory | None]:
    """The quota's count, and the whole memory when the list has grown past
    :data:`MAX_MESSAGES`; nothing is appended when the quota refuses."""
    if uses_memory_backend(redis):  # the stand-in has no Lua
        used = 0
        if quota is not None:
            async with redis.pipeline(transaction=True) as pipe:
                pipe.incr(quota.key)
                pipe.expire(quota.key, quota.ttl_s)
                used = int((await pipe.execute())[0])
            if not quota.allows(used):
                return used, None
        async with redis.pipeline(transaction=True) as pipe:
            pipe.rpush(messages_key, *items)
            pipe.expire(messages_key, TTL_S)
            pipe.expire(summary_key, TTL_S)
            length, *_ = await pipe.execute()
        if int(length) <= MAX_MESSAGES:
            return used, None
        return used, await _load(redis, messages_key, summary_key)
    keys = [messages_key, summary_key]
    limit, ttl = -1, 0
    if quota is not None:
        keys.append(quota.key)
        limit = -1 if quota.limit is None else quota.limit
        ttl = quota.ttl_s
    answer = await _APPEND(redis, keys, [TTL_S, MAX_MESSAGES, limit, ttl, *items])
    used = int(answer[0])
    return used, (_memory(answer[2], answer[3]) if len(answer) > 2 else None)


async def forget(redis: Redis, tenant_id: int, user_id: int) -> None:
    await redis.delete(*_keys(tenant_id, user_id))


async def plain_summary(summary: str, messages: list[Message]) -> str:
    """The offline summariser: the transcript itself, newest part kept."""
    lines = [f"{m['role']}: {m['content'][:300]}" for m in messages]
    return "\n".join([summary, *lines]).strip()[-MAX_SUMMARY_CHARS:]
