"""PPV posts and VIP periods paid in TON from the chat: the TON button under a locked post and
in ``/vip``, the invoice, the fan's transfer on the stand-in's chain, and the watcher granting
the post or the 30 days — never before the chain says so."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from core.models import TonInvoice, VipSubscription
from devtools.telegram.client import BotInfo, TranscriptEntry, UserInfo
from devtools.ton import WalletInfo
from tenants.ton import invoices
from tests.bot.conftest import Platform, wait_until
from tests.bot.content.helpers import api, creator, run_worker
from tests.bot.wallet_ton.conftest import Ton, TonPlatformFactory, press
from tests.bot.wallet_ton.test_pay import NANO, _run_watcher

PRICE = 2 * NANO


@pytest.fixture
async def merchant(ton: Ton) -> WalletInfo:
    return await ton.client.create_wallet("v4r2", balance=NANO, label="merchant")


@pytest.fixture
async def shop(
    start_ton_platform: TonPlatformFactory, merchant: WalletInfo
) -> AsyncIterator[Platform]:
    async with start_ton_platform(ton_merchant_address=merchant.non_bounceable) as platform:
        yield platform


async def _price(platform: Platform, tenant_id: int, kind: str, item_id: int) -> None:
    async with platform.session_factory() as session:
        await invoices.set_price(session, tenant_id, kind=kind, item_id=item_id, amount=PRICE)
        await session.commit()


async def _pay_invoice_by_hand(
    platform: Platform, ton: Ton, merchant: WalletInfo, bot: BotInfo, fan: UserInfo
) -> TranscriptEntry:
    photo = await wait_until(
        lambda: platform.emulator.transcript(bot, fan, from_bot_only=True),
        lambda items: bool(items[-1].message.get("photo")) and "TON" in (items[-1].caption or ""),
    )
    async with platform.session_factory() as session:
        invoice = (await session.scalars(select(TonInvoice))).one()
    payer = await ton.client.create_wallet("v4r2", balance=5 * NANO)
    await ton.client.transfer(payer, merchant.non_bounceable, PRICE, comment=invoice.comment)
    await ton.client.produce_blocks(finalize=True)
    entry: TranscriptEntry = photo[-1]
    return entry


async def test_unlock_a_ppv_post_with_ton(shop: Platform, ton: Ton, merchant: WalletInfo) -> None:
    platform = shop
    studio = await creator(platform)
    post = await api(
        platform,
        "POST",
        "/api/v1/creator/content/posts",
        studio.token,
        expect=201,
        json={
            "text": "The full set",
            "teaser": "Studio session",
            "access": "ppv",
            "price_stars": 50,
            "publish": True,
        },
    )
    await _price(platform, studio.tenant_id, "ppv", int(post["id"]))
    alice = await platform.user("Alice")
    await platform.emulator.send_command(studio.bot, alice, "feed")
    await platform.settled(studio.bot, alice)
    await run_worker(platform)
    locked = (await platform.settled(studio.bot, alice))[-1]
    assert [b["text"] for b in locked.buttons] == ["Unlock for 50 ⭐", "💎 Unlock for 2 TON"]
    await press(platform, studio.bot, alice, locked, locked.buttons[1]["callback_data"])
    invoice = await _pay_invoice_by_hand(platform, ton, merchant, studio.bot, alice)
    assert (invoice.caption or "").startswith("Send exactly 2 TON to unlock this post.\n")
    await _run_watcher(platform.settings)
    await platform.emulator.send_command(studio.bot, alice, "feed")
    await platform.settled(studio.bot, alice)
    await run_worker(platform)
    entries = await platform.settled(studio.bot, alice)
    assert entries[-1].text == "The full set"  # open now


async def test_thirty_days_of_vip_with_ton(shop: Platform, ton: Ton, merchant: WalletInfo) -> None:
    platform = shop
    studio = await creator(platform)
    gold = await api(
        platform,
        "POST",
        "/api/v1/creator/vip/packages",
        studio.token,
        expect=201,
        json={"name": "Gold", "price_stars": 300, "perks": ["Weekly live"]},
    )
    await _price(platform, studio.tenant_id, "vip", int(gold["id"]))
    bob = await platform.user("Bob")
    await platform.emulator.send_command(studio.bot, bob, "vip")
    menu = (await platform.settled(studio.bot, bob))[-1]
    assert menu.buttons[-1]["text"] == "💎 Gold: 30 days for 2 TON"
    await press(platform, studio.bot, bob, menu, menu.buttons[-1]["callback_data"])
    invoice = await _pay_invoice_by_hand(platform, ton, merchant, studio.bot, bob)
    assert (invoice.caption or "").startswith("Send exactly 2 TON for 30 days of Gold.\n")
    async with platform.session_factory() as session:
        assert (await session.scalars(select(VipSubscription))).all() == []  # not before the chain
    await _run_watcher(platform.settings)
    async with platform.session_factory() as session:
        subscription = (await session.scalars(select(VipSubscription))).one()
    assert subscription.package_id == int(gold["id"])
    receipt = (await platform.settled(studio.bot, bob))[-1]
    assert receipt.text == "Payment received: 2 TON. Thank you, your purchase is unlocked!"
