"""``/wallet`` end to end: the emulator's chat, our API, the TON stand-in's bridge and test
wallet. The wallet answers the very link the fan sees (button and QR code); we verify its
``ton_proof`` ourselves and link it, or refuse it politely."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as redis_asyncio

from bot.wallet_ton import connect
from tests.bot.conftest import Platform, wait_until
from tests.bot.wallet_ton.conftest import (
    Ton,
    TonPlatformFactory,
    caption_of,
    linked_wallets,
    open_connect_link,
    press,
    read_qr,
)

REFUSED = (
    "Your wallet could not prove that it is yours, so it was not connected. Please try again "
    "with /wallet."
)


def _listeners() -> list[asyncio.Task[object]]:
    """pytonconnect bridge listeners still alive in this loop (a retry loop would show here)."""
    return [
        task
        for task in asyncio.all_tasks()
        if not task.done()
        and getattr(task.get_coro(), "__qualname__", "").startswith("BridgeGateway.")
    ]


async def test_connect_a_wallet_with_a_verified_proof(
    ton_platform: Platform, ton: Ton, redis_url: str
) -> None:
    platform = ton_platform
    bot, tenant_id = await platform.add_tenant("Art Studio")
    alice = await platform.user("Alice")
    await platform.emulator.send_command(bot, alice, "wallet")
    menu = (await platform.settled(bot, alice))[-1]
    assert menu.text == "Connect your TON wallet to pay with TON. Which wallet app do you use?"
    assert [b["text"] for b in menu.buttons] == ["AtelierTestWallet"]

    await press(platform, bot, alice, menu, menu.buttons[0]["callback_data"])
    photo = (await platform.settled(bot, alice))[-1]
    assert photo.caption == (
        "Scan this QR code with AtelierTestWallet, or tap the button below. The link works "
        "for 5 minutes."
    )
    assert [b["text"] for b in photo.buttons] == ["Open AtelierTestWallet", "Cancel"]
    link = photo.buttons[0]["url"]
    assert link.startswith(f"{ton.base_url}/wallet?v=2&id=")
    assert await read_qr(platform, photo) == [link]

    # The session (with its secret key) rests in Redis encrypted, with a lifetime.
    client = redis_asyncio.from_url(redis_url)  # type: ignore[no-untyped-call]
    try:
        keys = [k.decode() for k in await client.keys("ton:connect:session:*")]
        assert len(keys) == 1
        stored = await client.hgetall(keys[0])
        assert stored and all(b"session_private_key" not in v for v in stored.values())
        assert 0 < await client.ttl(keys[0]) <= platform.settings.ton_connect_timeout + 120
    finally:
        await client.aclose()

    wallet = await ton.client.create_wallet("v4r2")
    answer = await ton.client.connect(wallet, link)
    assert answer.session_id is not None and answer.domain == platform.api_url.split("//")[1]
    caption = await caption_of(platform, bot, alice, photo.message_id)
    assert caption == f"Connected: {wallet.non_bounceable}"
    edited = (await platform.settled(bot, alice))[-1]
    assert [b["text"] for b in edited.buttons] == ["Disconnect"]
    rows = await linked_wallets(platform)
    assert [(t, raw) for t, _, raw in rows] == [(tenant_id, wallet.address)]

    await platform.emulator.send_command(bot, alice, "wallet")
    shown = (await platform.settled(bot, alice))[-1]
    assert shown.text == f"Your TON wallet: {wallet.non_bounceable}"
    await wait_until(lambda: _async(len(platform.runtime.ton_waits.tasks)), lambda n: n == 0)
    await wait_until(lambda: _async(len(_listeners())), lambda n: n == 0)


@pytest.mark.parametrize(
    "forgery",
    [
        {"domain": "evil.example"},  # signed for another site
        {"timestamp": int(time.time()) - 7200},  # an old proof
    ],
)
async def test_a_wallet_whose_proof_does_not_hold_is_refused(
    ton_platform: Platform, ton: Ton, forgery: dict[str, object]
) -> None:
    platform = ton_platform
    bot, _ = await platform.add_tenant()
    alice = await platform.user("Alice")
    photo, link = await open_connect_link(platform, bot, alice)
    wallet = await ton.client.create_wallet("v5r1")
    await ton.client.connect(wallet, link, **forgery)  # type: ignore[arg-type]
    assert await caption_of(platform, bot, alice, photo.message_id) == REFUSED
    assert await linked_wallets(platform) == []
    # the refused session is dropped from Redis, and the wallet told so (it leaves the bridge)
    await wait_until(ton.client.state, lambda state: state["sessions"] == [])


async def test_declined_in_the_wallet(ton_platform: Platform, ton: Ton) -> None:
    platform = ton_platform
    bot, _ = await platform.add_tenant()
    alice = await platform.user("Alice", "ru")
    photo, link = await open_connect_link(platform, bot, alice)
    await ton.client.connect(await ton.client.create_wallet(), link, reject=True)
    assert await caption_of(platform, bot, alice, photo.message_id) == (
        "Подключение отклонено в кошельке. Отправьте /wallet, чтобы попробовать снова."
    )
    assert await linked_wallets(platform) == []


async def test_the_link_expires_and_nothing_keeps_running(
    start_ton_platform: TonPlatformFactory, ton: Ton
) -> None:
    async with start_ton_platform(ton_connect_timeout=1.5) as platform:
        bot, _ = await platform.add_tenant()
        alice = await platform.user("Alice", "tr")
        photo, link = await open_connect_link(platform, bot, alice)
        await wait_until(lambda: _async(len(_listeners())), lambda n: n == 1)  # it listens
        caption = await caption_of(platform, bot, alice, photo.message_id)
        assert caption == "Bu bağlantının süresi doldu. Yenisi için /wallet gönder."
        await wait_until(lambda: _async(len(platform.runtime.ton_waits.tasks)), lambda n: n == 0)
        await wait_until(lambda: _async(len(_listeners())), lambda n: n == 0)
        # a wallet answering the dead link changes nothing
        await ton.client.connect(await ton.client.create_wallet(), link)
        await asyncio.sleep(0.3)
        assert await linked_wallets(platform) == []


async def test_cancel_and_a_newer_link_replace_the_pending_one(
    ton_platform: Platform, ton: Ton
) -> None:
    platform = ton_platform
    bot, _ = await platform.add_tenant()
    alice = await platform.user("Alice")
    first, first_link = await open_connect_link(platform, bot, alice)
    second, second_link = await open_connect_link(platform, bot, alice)
    assert await caption_of(platform, bot, alice, first.message_id) == "Connection cancelled."
    await wait_until(lambda: _async(len(platform.runtime.ton_waits.tasks)), lambda n: n == 1)
    await press(platform, bot, alice, second, "tonw:x")
    assert await caption_of(platform, bot, alice, second.message_id) == "Connection cancelled."
    await wait_until(lambda: _async(len(platform.runtime.ton_waits.tasks)), lambda n: n == 0)
    wallet = await ton.client.create_wallet()
    for link in (first_link, second_link):
        await ton.client.connect(wallet, link)
    await asyncio.sleep(0.3)
    assert await linked_wallets(platform) == []
    await wait_until(lambda: _async(len(_listeners())), lambda n: n == 0)


async def _async(value: object) -> object:
    return value


async def test_disconnect(ton_platform: Platform, ton: Ton) -> None:
    platform = ton_platform
    bot, _ = await platform.add_tenant()
    alice = await platform.user("Alice")
    photo, link = await open_connect_link(platform, bot, alice)
    wallet = await ton.client.create_wallet()
    await ton.client.connect(wallet, link)
    assert (await caption_of(platform, bot, alice, photo.message_id)).startswith("Connected: ")
    await press(platform, bot, alice, photo, "tonw:d")
    assert (await platform.settled(bot, alice))[-1].caption == "Your TON wallet was disconnected."
    assert await linked_wallets(platform) == []
    # the wallet is told (its session ends on the bridge) and the stored session is gone
    await wait_until(ton.client.state, lambda state: state["sessions"] == [])
    await wait_until(
        lambda: platform.runtime.redis.keys("ton:connect:[sc]*"), lambda keys: keys == []
    )
    await platform.emulator.send_command(bot, alice, "wallet")
    assert ((await platform.settled(bot, alice))[-1].text or "").startswith("Connect your TON")


async def test_a_wallet_another_fan_linked_is_refused(ton_platform: Platform, ton: Ton) -> None:
    platform = ton_platform
    bot, _ = await platform.add_tenant()
    alice, bob = await platform.user("Alice"), await platform.user("Bob")
    wallet = await ton.client.create_wallet()
    for fan, expected in ((alice, "Connected: "), (bob, "This wallet is already connected")):
        photo, link = await open_connect_link(platform, bot, fan)
        await ton.client.connect(wallet, link)
        assert (await caption_of(platform, bot, fan, photo.message_id)).startswith(expected)
    assert len(await linked_wallets(platform)) == 1


def test_pending_keys_are_per_bot_and_chat() -> None:
    assert connect.slot_of(7, 42) == "7:42"
    assert connect.pending_key("7:42") == "ton:connect:wait:7:42"
