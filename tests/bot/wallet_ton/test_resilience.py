"""TON Connect waits under stress: an unreachable bridge is retried a bounded number of times
(pytonconnect alone retries ~35 times a second, forever), and a wait whose process stopped is
taken over by the worker from Redis — the same session, the link the fan already holds."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from bot.wallet_ton.connect import lease_key, slot_of
from core.redis import close_redis, create_redis
from core.settings import Settings
from tests.bot.conftest import wait_until
from tests.bot.wallet_ton.conftest import (
    FAST_POLICY,
    Ton,
    TonPlatformFactory,
    caption_of,
    linked_wallets,
    open_connect_link,
)
from tests.jobs.conftest import run_burst_worker


def _bridge_listeners() -> int:
    return sum(
        1
        for task in asyncio.all_tasks()
        if not task.done()
        and getattr(task.get_coro(), "__qualname__", "").startswith("BridgeGateway.")
    )


async def _count(value: int) -> int:
    return value


class DeadBridge:
    """A wallets list whose only wallet's bridge answers every subscription with a 503."""

    def __init__(self) -> None:
        self.subscriptions = 0
        self.port = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            path = head.split(b" ", 2)[1].decode()
            if path.startswith("/wallets.json"):
                status, body = "200 OK", json.dumps([self.entry()]).encode()
            else:
                self.subscriptions += path.startswith("/bridge/events")
                status, body = "503 Service Unavailable", b"bridge down"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n"
                "Content-Type: application/json\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        finally:
            writer.close()

    def entry(self) -> dict[str, object]:
        return {
            "app_name": "dead-wallet",
            "name": "Dead Wallet",
            "image": "https://wallet.example/icon.png",
            "about_url": "https://wallet.example",
            "universal_url": "https://wallet.example/ton-connect",
            "bridge": [{"type": "sse", "url": f"http://127.0.0.1:{self.port}/bridge"}],
        }

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self.handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{self.port}/wallets.json"
        finally:
            server.close()
            await server.wait_closed()


async def test_an_unreachable_bridge_is_retried_a_bounded_number_of_times(
    start_ton_platform: TonPlatformFactory, caplog: pytest.LogCaptureFixture
) -> None:
    bridge = DeadBridge()
    async with (
        bridge.running() as wallets_url,
        start_ton_platform(ton_connect_wallets_url=wallets_url) as platform,
    ):
        bot, _ = await platform.add_tenant()
        alice = await platform.user("Alice")
        caplog.set_level(logging.ERROR, logger="pytonconnect")
        photo, link = await open_connect_link(platform, bot, alice)
        assert link.startswith("https://wallet.example/ton-connect?v=2&id=")
        caption = await caption_of(platform, bot, alice, photo.message_id)
        assert caption == (
            "Your wallet's connection service cannot be reached right now. Please try again later."
        )
        assert 1 <= bridge.subscriptions <= FAST_POLICY.max_failures
        tried = bridge.subscriptions
        await asyncio.sleep(0.5)  # many back-off periods: nothing may try again
        assert bridge.subscriptions == tried
        await wait_until(lambda: _count(_bridge_listeners()), lambda n: n == 0)
        await wait_until(lambda: _count(len(platform.runtime.ton_waits.tasks)), lambda n: n == 0)
        tracebacks = [r for r in caplog.records if r.name == "pytonconnect"]
        assert len(tracebacks) <= FAST_POLICY.max_failures


async def _sweep(settings: Settings) -> None:
    redis = create_redis(url=settings.redis_url)
    try:
        await redis.enqueue_job("sweep_ton_connects")
    finally:
        await close_redis(redis)
    await run_burst_worker(
        settings, ctx={"settings": settings, "ton_reconnect_policy": FAST_POLICY}
    )


async def test_a_wait_whose_process_died_is_finished_by_the_worker(
    start_ton_platform: TonPlatformFactory, ton: Ton, redis_url: str
) -> None:
    async with start_ton_platform() as first:
        bot, tenant_id = await first.add_tenant()
        alice = await first.user("Alice")
        photo, link = await open_connect_link(first, bot, alice)
        await wait_until(lambda: _count(_bridge_listeners()), lambda n: n == 1)
        settings = first.settings
    assert _bridge_listeners() == 0  # the process is gone, and with it its wait

    # A process that crashed leaves its lease to lapse: the sweep waits for that.
    redis = create_redis(url=redis_url)
    try:
        await redis.set(lease_key(slot_of(bot.id, alice.id)), "crashed", px=400)
        wallet = await ton.client.create_wallet("v3r2")
        # The fan's wallet answers meanwhile (our manifest went down with that API process,
        # so the wallet is told our domain instead of reading it).
        await ton.client.connect(wallet, link, domain=settings.ton_proof_domain_value)
        await _sweep(settings)
        assert (await linked_wallets(first)) == []  # the lease still stood
        await asyncio.sleep(0.5)
        await _sweep(settings)
    finally:
        await close_redis(redis)
    assert await caption_of(first, bot, alice, photo.message_id) == (
        f"Connected: {wallet.non_bounceable}"
    )
    assert [(t, raw) for t, _, raw in await linked_wallets(first)] == [(tenant_id, wallet.address)]
    await wait_until(lambda: _count(_bridge_listeners()), lambda n: n == 0)


async def test_the_worker_reports_a_link_that_expired_while_nobody_waited(
    start_ton_platform: TonPlatformFactory,
) -> None:
    async with start_ton_platform(ton_connect_timeout=1.0) as first:
        bot, _ = await first.add_tenant()
        alice = await first.user("Alice", "ar")
        photo, _ = await open_connect_link(first, bot, alice)
        settings = first.settings
    await asyncio.sleep(1.1)
    await _sweep(settings)
    assert await caption_of(first, bot, alice, photo.message_id) == (
        "انتهت صلاحية هذا الرابط. أرسل /wallet للحصول على رابط جديد."
    )
