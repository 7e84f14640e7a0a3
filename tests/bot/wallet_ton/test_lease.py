"""The lease that keeps one process on one wait: on Redis and on the in-process stand-in of
``atelier dev`` (which has no Lua)."""

from __future__ import annotations

import pytest

from bot.wallet_ton.connect import Lease
from core.redis import close_redis, create_redis


@pytest.mark.parametrize("backend", ["redis", "memory"])
async def test_a_lease_is_held_renewed_and_released_by_its_owner_only(
    backend: str, redis_url: str
) -> None:
    redis = create_redis(url=redis_url if backend == "redis" else "memory://lease-test")
    try:
        mine, theirs = Lease(redis, "t:lease"), Lease(redis, "t:lease")
        assert await mine.acquire()
        assert not await theirs.acquire()
        assert await mine.renew() and not await theirs.renew()
        await theirs.release()  # not theirs to release
        assert await redis.get("t:lease") == mine.token.encode()
        await mine.release()
        assert await redis.get("t:lease") is None
        assert not await mine.renew()  # lost: the wait stops
        assert await theirs.acquire()
    finally:
        await redis.delete("t:lease")
        await close_redis(redis)
