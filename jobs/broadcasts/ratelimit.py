"""Telegram's limits for one bot, shared by every worker process through Redis.

- **Token bucket per bot** (``bc:bucket:{bot}``): ``rate`` messages per second with a small
  burst, refilled by Redis' own clock (``TIME``), so two workers sending for one bot share one
  budget and a third tenant's bot is not touched at all.
- **Pause per bot** (``bc:pause:{bot}``): a 429 sets it for ``retry_after`` seconds and every
  sender of that bot waits it out — the whole sender, not just the one message.
- **Spacing per private chat** (``bc:chat:{bot}:{chat}``): Telegram allows about one message a
  second in a chat; a chat that just got one waits.
- **Daily quota per tenant** (``bc:quota:{tenant}:{YYYYMMDD}``, UTC): a message is reserved
  before it is sent and given back when Telegram refused it with a 429.

On a real server each check is one Lua script (atomic, one round trip). The in-process
stand-in of ``atelier dev`` has no Lua; there a lock in this process does the same, which is
enough because that mode is one process by definition.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from redis.asyncio import Redis

from core.redis import uses_memory_backend

BUCKET_TTL_MS = 60_000
QUOTA_TTL_S = 2 * 24 * 3600

_ACQUIRE = """
local pause = redis.call('PTTL', KEYS[2])
if pause > 0 then return pause end
local chat = redis.call('PTTL', KEYS[3])
if chat > 0 then return chat end
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + tonumber(clock[2]) / 1000
local rate = tonumber(ARGV[1]) / 1000
local burst = tonumber(ARGV[2])
local state = redis.call('HMGET', KEYS[1], 't', 's')
local tokens = tonumber(state[1]) or burst
local stamp = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
if tokens < 1 then
  return math.max(1, math.ceil((1 - tokens) / rate))
end
redis.call('HSET', KEYS[1], 't', tostring(tokens - 1), 's', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if tonumber(ARGV[3]) > 0 then redis.call('SET', KEYS[3], '1', 'PX', ARGV[3]) end
return 0
"""

_PAUSE = """
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 1
"""

_RESERVE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used + 1 > tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""


def bucket_key(bot_id: int) -> str:
    return f"bc:bucket:{bot_id}"


def pause_key(bot_id: int) -> str:
    return f"bc:pause:{bot_id}"


def chat_key(bot_id: int, chat_id: int) -> str:
    return f"bc:chat:{bot_id}:{chat_id}"


def quota_key(tenant_id: int, day: str) -> str:
    return f"bc:quota:{tenant_id}:{day}"


def today() -> str:
    return datetime.now(UTC).strftime("%Y%m%d")


@dataclass(frozen=True, slots=True)
class Limits:
    """``rate`` messages/s per bot (Telegram: about 30), ``burst`` how many may go at once,
    ``chat_interval`` seconds between two messages to one private chat."""

    rate: float = 30.0
    burst: float = 5.0
    chat_interval: float = 1.0


class Limiter:
    """One per process; every method is one Redis round trip on a real server."""

    def __init__(self, redis: Redis, limits: Limits) -> None:
        self.redis = redis
        self.limits = limits
        self._local = uses_memory_backend(redis)
        self._lock = asyncio.Lock()
        self._acquire = redis.register_script(_ACQUIRE)
        self._pause = redis.register_script(_PAUSE)
        self._reserve = redis.register_script(_RESERVE)

    async def try_acquire(self, bot_id: int, chat_id: int) -> float:
        """Take one message for ``chat_id`` from the bot's budget: 0 when granted, else the
        seconds to wait before asking again (a pause, the chat's spacing or the bucket)."""
        keys = [bucket_key(bot_id), pause_key(bot_id), chat_key(bot_id, chat_id)]
        args = [
            self.limits.rate,
            self.limits.burst,
            int(self.limits.chat_interval * 1000),
            BUCKET_TTL_MS,
        ]
        if self._local:
            wait_ms = await self._acquire_locally(keys, args)
        else:
            wait_ms = int(await self._acquire(keys=keys, args=args))
        return wait_ms / 1000

    async def acquire(self, bot_id: int, chat_id: int) -> None:
        """Wait until one message to ``chat_id`` may go."""
        while True:
            wait = await self.try_acquire(bot_id, chat_id)
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def pause(self, bot_id: int, seconds: float) -> None:
        """Telegram said 429: nobody sends for this bot for ``seconds``."""
        ms = max(1, math.ceil(seconds * 1000))
        if self._local:
            async with self._lock:
                if await self.redis.pttl(pause_key(bot_id)) < ms:
                    await self.redis.set(pause_key(bot_id), b"1", px=ms)
            return
        await self._pause(keys=[pause_key(bot_id)], args=[ms])

    async def paused_for(self, bot_id: int) -> float:
        return max(0, int(await self.redis.pttl(pause_key(bot_id)))) / 1000

    async def reserve(self, tenant_id: int, limit: int | None, day: str) -> bool:
        """One message of the tenant's daily quota; False when the day's quota is used up."""
        if limit is None:
            return True
        key = quota_key(tenant_id, day)
        if self._local:
            async with self._lock:
                used = int(await self.redis.get(key) or 0)
                if used + 1 > limit:
                    return False
                await self.redis.set(key, used + 1, ex=QUOTA_TTL_S)
                return True
        return bool(await self._reserve(keys=[key], args=[limit, QUOTA_TTL_S]))

    async def refund(self, tenant_id: int, day: str, count: int = 1) -> None:
        if count:
            await self.redis.decrby(quota_key(tenant_id, day), count)

    async def used(self, tenant_id: int, day: str | None = None) -> int:
        return int(await self.redis.get(quota_key(tenant_id, day or today())) or 0)

    async def _acquire_locally(self, keys: list[str], args: list[float | int]) -> int:
        bucket, pause, chat = keys
        rate, burst, chat_ms, ttl = float(args[0]) / 1000, float(args[1]), int(args[2]), args[3]
        async with self._lock:
            for key in (pause, chat):
                left = int(await self.redis.pttl(key))
                if left > 0:
                    return left
            now = time.time() * 1000
            state = await self.redis.hmget(bucket, ["t", "s"])  # type: ignore[misc]
            tokens = float(state[0]) if state[0] is not None else burst
            stamp = float(state[1]) if state[1] is not None else now
            tokens = min(burst, tokens + max(0.0, now - stamp) * rate)
            if tokens < 1:
                return max(1, math.ceil((1 - tokens) / rate))
            await self.redis.hset(bucket, mapping={"t": str(tokens - 1), "s": str(now)})  # type: ignore[misc]
            await self.redis.pexpire(bucket, int(ttl))
            if chat_ms > 0:
                await self.redis.set(chat, b"1", px=chat_ms)
            return 0
