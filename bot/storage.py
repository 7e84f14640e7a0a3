"""aiogram's Redis FSM storage, able to use a state read ahead in the update's prefetch.

aiogram's FSM middleware reads the chat's state (a Redis GET) on every update, before any
handler runs. The webhook already makes one Redis round trip per update (:mod:`bot.prefetch`),
so it reads the state key there too and leaves the value in a context variable for this
update's task; ``get_state`` uses it when the key matches, and any write to the state drops it.
Keys come from ``DefaultKeyBuilder(with_bot_id=True)``: one bot's states never mix with
another's, even for the same fan.
"""

from __future__ import annotations

from contextvars import ContextVar

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.redis import RedisStorage
from redis.asyncio import Redis

_prefetched_state: ContextVar[tuple[str, bytes | None] | None] = ContextVar(
    "atelier_prefetched_fsm_state", default=None
)


def use_prefetched_state(redis_key: str, value: bytes | None) -> object:
    """Offer a state read ahead for ``redis_key``; returns a token for :func:`reset`."""
    return _prefetched_state.set((redis_key, value))


def reset(token: object) -> None:
    _prefetched_state.reset(token)  # type: ignore[arg-type]


class PrefetchingRedisStorage(RedisStorage):
    def __init__(self, redis: Redis) -> None:
        super().__init__(redis=redis, key_builder=DefaultKeyBuilder(with_bot_id=True))

    def state_key(self, bot_id: int, chat_id: int, user_id: int) -> str:
        return self.key_builder.build(
            StorageKey(bot_id=bot_id, chat_id=chat_id, user_id=user_id), "state"
        )

    async def get_state(self, key: StorageKey) -> str | None:
        prefetched = _prefetched_state.get()
        if prefetched is not None:
            redis_key, value = prefetched
            if redis_key == self.key_builder.build(key, "state"):
                return value.decode() if isinstance(value, bytes) else value
        return await super().get_state(key)

    async def set_state(self, key: StorageKey, state: str | State | None = None) -> None:
        _prefetched_state.set(None)  # what was read ahead is stale from now on
        await super().set_state(key, state)

    async def close(self) -> None:
        """The Redis client belongs to the app, not to the storage: leave it open."""
