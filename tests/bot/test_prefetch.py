"""The update's one Redis round trip: a Lua script on Redis, a pipeline on the in-process
stand-in of ``atelier dev`` — the same answers either way."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis
from fakeredis import FakeServer

from bot.prefetch import Prefetch, Throttle, dedupe_key, prefetch, throttle_key
from core.redis import close_redis, create_memory_redis, create_redis, uses_memory_backend
from tenants.chatlog import record as chatlog
from tenants.users import snapshot_key
from tenants.webhooks import route_version_key

BOT, TENANT, FAN = 7_000_000_001, 3, 42


@pytest.fixture(params=["redis", "memory"])
async def redis(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[ArqRedis]:
    if request.param == "redis":
        client = create_redis(url=redis_url)
    else:
        client = create_memory_redis(FakeServer())
    assert uses_memory_backend(client) == (request.param == "memory")
    try:
        yield client
    finally:
        await client.flushdb()
        await close_redis(client)


async def _ask(redis: ArqRedis, update_id: int, **kwargs: object) -> Prefetch:
    options: dict[str, object] = {
        "sender_id": FAN,
        "update_type": "message",
        "throttle": Throttle(limit=2, window=30),
        "fsm_key": "fsm:state",
    }
    options.update(kwargs)
    return await prefetch(
        redis,
        telegram_bot_id=BOT,
        tenant_id=TENANT,
        update_id=update_id,
        **options,  # type: ignore[arg-type]
    )


async def test_values_dedupe_and_counter(redis: ArqRedis) -> None:
    await redis.set(route_version_key(BOT), b"v7")
    await redis.set(snapshot_key(TENANT, FAN), b"[1]")
    await redis.set("fsm:state", b"Form:name")

    first = await _ask(redis, 1)
    assert first == Prefetch(True, b"v7", b"[1]", 1, "fsm:state", b"Form:name")
    assert 0 < await redis.ttl(dedupe_key(BOT, 1)) <= 3600
    assert 0 < await redis.ttl(throttle_key(BOT, FAN)) <= 30  # the window started

    again = await _ask(redis, 1)  # Telegram re-sends it
    assert not again.fresh
    assert again.hits == 2


async def test_a_lost_window_is_repaired_when_the_limit_is_passed(redis: ArqRedis) -> None:
    await redis.set(throttle_key(BOT, FAN), 1)  # a counter whose EXPIRE never happened
    assert (await _ask(redis, 1)).hits == 2
    assert await redis.ttl(throttle_key(BOT, FAN)) == -1
    assert (await _ask(redis, 2)).hits == 3  # limit + 1: the notice, and the window is set
    assert 0 < await redis.ttl(throttle_key(BOT, FAN)) <= 30


async def test_service_updates_are_not_counted_and_absent_values_are_none(
    redis: ArqRedis,
) -> None:
    found = await _ask(redis, 5, update_type="my_chat_member", fsm_key=None)
    assert found == Prefetch(True, None, None, 0, None, None)
    assert await redis.exists(throttle_key(BOT, FAN)) == 0
    anonymous = await _ask(redis, 6, sender_id=None, update_type=None, fsm_key=None)
    assert anonymous == Prefetch(True, None, None, 0, None, None)


async def test_a_flushed_script_cache_is_reloaded(redis: ArqRedis) -> None:
    if uses_memory_backend(redis):
        pytest.skip("the stand-in runs no scripts")
    await redis.script_flush()
    assert (await _ask(redis, 9)).fresh


def _entry(direction: str, text: str) -> list[str]:
    return [
        *("b", str(BOT), "u", str(FAN), "d", direction, "k", "text", "m", "", "x", text, "t", "")
    ]


async def test_the_fans_message_once_and_the_replies_held_before(redis: ArqRedis) -> None:
    hi, welcome, more = _entry("in", "hi"), _entry("out", "welcome"), _entry("out", "more")
    assert (await _ask(redis, 21, message=hi)).fresh
    assert not (await _ask(redis, 21, message=hi, replies=[welcome])).fresh  # hi: not again
    await _ask(redis, 22, replies=[more])  # nothing of its own to record
    await _ask(redis, 23)
    entries = await redis.xrange(chatlog.STREAM)
    texts = [(fields[b"d"], fields[b"x"]) for _, fields in entries]
    assert texts == [(b"in", b"hi"), (b"out", b"welcome"), (b"out", b"more")]
