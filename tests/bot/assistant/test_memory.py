"""The assistant's memory on Redis (one Lua script per append) and on the in-process stand-in
of ``atelier dev`` (a MULTI pipeline): the same bounded, expiring history."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from arq.connections import ArqRedis
from fakeredis import FakeServer

from bot.assistant import memory
from core.redis import close_redis, create_memory_redis, create_redis


@pytest.fixture(params=["redis", "memory"])
async def redis(request: pytest.FixtureRequest, redis_url: str) -> AsyncIterator[ArqRedis]:
    client = (
        create_redis(url=redis_url)
        if request.param == "redis"
        else create_memory_redis(FakeServer())
    )
    try:
        yield client
    finally:
        await client.flushdb()
        await close_redis(client)


async def test_a_long_talk_is_folded_into_the_summary(redis: ArqRedis) -> None:
    for n in range(12):
        await memory.remember(
            redis,
            1,
            2,
            {"role": "user", "content": f"question {n}"},
            {"role": "assistant", "content": f"answer {n}"},
            summarise=memory.plain_summary,
        )
    kept = await memory.load(redis, 1, 2)
    assert len(kept.messages) == memory.KEEP_MESSAGES + 2  # folded at 22, then one more pair
    assert kept.messages[-1] == {"role": "assistant", "content": "answer 11"}
    assert "user: question 0" in kept.summary
    messages_key, summary_key = memory._keys(1, 2)
    for key in (messages_key, summary_key):
        assert memory.TTL_S - 5 < await redis.ttl(key) <= memory.TTL_S
