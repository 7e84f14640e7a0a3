"""The Redis connection of ``create_redis``: hiredis packing and the pool's cheap idle check
must send the same bytes and catch the same broken connections as redis-py's own."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis_asyncio
from arq.connections import ArqRedis
from redis.exceptions import DataError

from bot.lua import LuaScript
from core.redis import PackedConnection, close_redis, create_redis

ECHO = LuaScript("return {KEYS[1], ARGV[1], ARGV[2]}")


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[ArqRedis]:
    client = create_redis(url=redis_url)
    try:
        yield client
    finally:
        await client.flushdb()
        await close_redis(client)


@pytest.mark.parametrize(
    "args",
    [
        ("EVALSHA", "a" * 40, 2, "bot:seen:1:2", "ключ", "3600", 60, 1.5, -(10**20)),
        ("SET", "k", b"\x00\xffbytes", "EX", 30),
        ("SET", "big", "x" * 10_000),
        ("SCRIPT LOAD", "return 1"),
        ("SET", "view", memoryview(b"abc")),
    ],
)
def test_packs_the_bytes_redis_py_packs(args: tuple[Any, ...]) -> None:
    ours = PackedConnection().pack_command(*args)
    theirs = redis_asyncio.Connection().pack_command(*args)
    assert b"".join(map(bytes, ours)) == b"".join(map(bytes, theirs))


@pytest.mark.parametrize("value", [True, None])
def test_refuses_what_redis_py_refuses(value: object) -> None:
    with pytest.raises(DataError):
        PackedConnection().pack_command("SET", "k", value)


async def test_real_server_connections_use_it(redis: ArqRedis) -> None:
    assert redis.connection_pool.connection_class is PackedConnection
    assert await redis.set("ключ", "значение ✓", ex=30)
    assert (await redis.get("ключ")).decode() == "значение ✓"
    assert await ECHO(redis, ["k"], ["é", 7]) == [b"k", "é".encode(), b"7"]


async def test_a_connection_the_server_closed_is_replaced(redis: ArqRedis, redis_url: str) -> None:
    await redis.set("k", "1")
    client_id = await redis.client_id()
    other = create_redis(url=redis_url)
    try:
        await other.client_kill_filter(_id=client_id)
    finally:
        await close_redis(other)
    await asyncio.sleep(0.05)  # the close reaches the idle pooled connection
    assert await redis.get("k") == b"1"
    assert await redis.client_id() != client_id


async def test_a_connection_returned_with_an_unread_reply_is_replaced(redis: ArqRedis) -> None:
    await redis.set("k", "right")
    pool = redis.connection_pool
    connection = await pool.get_connection()
    await connection.send_command("ECHO", "stale reply")  # its answer is never read
    await pool.release(connection)
    await asyncio.sleep(0.05)  # the stale reply reaches the connection's buffer
    assert await redis.get("k") == b"right"
