"""pytonconnect made safe for a server: the encrypted Redis storage, the wallets list (never a
blocking fetch; cached; a fallback), the proof claim read from a wallet's raw answer."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis_asyncio

from core.settings import Settings
from devtools.ton import running_ton
from tenants.ton.tonconnect import (
    WALLETS_CACHE_KEY,
    WELL_KNOWN_WALLETS,
    ReconnectPolicy,
    RedisConnectStorage,
    connect_error_code,
    load_wallet_apps,
    parse_wallets_list,
    proof_claim,
)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[redis_asyncio.Redis]:
    client = redis_asyncio.from_url(redis_url)  # type: ignore[no-untyped-call]
    yield client
    await client.aclose()


async def test_storage_encrypts_every_value_and_expires(
    redis: redis_asyncio.Redis, settings: Settings
) -> None:
    storage = RedisConnectStorage(redis, "t:session", secret_key=settings.secret_key, ttl=60)
    secret = json.dumps({"session": {"session_private_key": "ab" * 32}})
    await storage.set_item("connection", secret)
    raw = await redis.hget("t:session", "connection")  # type: ignore[misc]
    assert raw is not None and b"session_private_key" not in raw and b"abab" not in raw
    assert 0 < await redis.ttl("t:session") <= 60
    assert await storage.get_item("connection") == secret
    assert (await storage.connection())["session"]["session_private_key"] == "ab" * 32
    assert await storage.get_item("missing", "x") == "x"

    other = RedisConnectStorage(redis, "t:session", secret_key="another-key" * 4, ttl=60)
    assert await other.get_item("connection") is None  # not ours: dropped, never trusted
    assert await redis.exists("t:session") == 0


async def test_the_wallets_list_is_fetched_once_and_cached(
    redis: redis_asyncio.Redis, settings: Settings
) -> None:
    async with running_ton() as (_, ton):
        configured = settings.model_copy(update={"ton_connect_wallets_url": ton.wallets_list_url})
        apps = await load_wallet_apps(redis, configured)
        assert [(a.app_name, a.bridge_url) for a in apps] == [
            ("atelier-test-wallet", ton.bridge_url)
        ]
        assert await redis.ttl(WALLETS_CACHE_KEY) > 60
    assert await load_wallet_apps(redis, configured) == apps  # from Redis: the server is gone


async def test_an_unreachable_wallets_list_falls_back_for_a_minute(
    redis: redis_asyncio.Redis, settings: Settings
) -> None:
    dead = settings.model_copy(update={"ton_connect_wallets_url": "http://127.0.0.1:9/w.json"})
    assert await load_wallet_apps(redis, dead) == list(WELL_KNOWN_WALLETS)
    assert 0 < await redis.ttl(WALLETS_CACHE_KEY) <= 60
    unset = settings.model_copy(update={"ton_connect_wallets_url": None})
    assert await load_wallet_apps(redis, unset) == list(WELL_KNOWN_WALLETS)


def test_only_wallets_a_server_can_reach_are_offered() -> None:
    entries = [
        {"app_name": "js-only", "name": "JS", "bridge": [{"type": "js", "key": "x"}]},
        {"name": "No link", "bridge": [{"type": "sse", "url": "https://b.example"}]},
        {
            "app_name": "ok",
            "name": "OK",
            "universal_url": "https://ok.example/tc",
            "bridge": [{"type": "js", "key": "ok"}, {"type": "sse", "url": "https://b.example"}],
        },
        "garbage",
    ]
    assert [(a.app_name, a.bridge_url) for a in parse_wallets_list(entries)] == [
        ("ok", "https://b.example")
    ]
    assert parse_wallets_list({"not": "a list"}) == []


def test_back_off_doubles_up_to_a_cap() -> None:
    policy = ReconnectPolicy(base_delay=0.5, max_delay=4.0)
    assert [policy.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_a_wallets_answer_is_read_as_sent() -> None:
    assert connect_error_code({"event": "connect_error", "payload": {"code": 300}}) == 300
    assert connect_error_code({"payload": {"error": {"code": 2}}}) == 2
    assert connect_error_code({"payload": {}}) is None
    assert proof_claim({"event": "connect", "payload": {"items": [{"name": "ton_addr"}]}}) is None
    event = {
        "event": "connect",
        "payload": {
            "items": [
                {
                    "name": "ton_addr",
                    "address": "0:" + "ab" * 32,
                    "network": "-239",
                    "publicKey": "cd" * 32,
                    "walletStateInit": "te6c",
                },
                {
                    "name": "ton_proof",
                    "proof": {
                        "timestamp": 1700000000,
                        "domain": {"lengthBytes": 11, "value": "example.org"},
                        "signature": "c2ln",
                        "payload": "ef" * 32,
                    },
                },
            ]
        },
    }
    claim = proof_claim(event)
    assert claim is not None
    assert (claim.address, claim.network, claim.domain, claim.domain_length) == (
        "0:" + "ab" * 32,
        "-239",
        "example.org",
        11,
    )
    assert (claim.state_init, claim.payload, claim.timestamp) == ("te6c", "ef" * 32, 1700000000)
