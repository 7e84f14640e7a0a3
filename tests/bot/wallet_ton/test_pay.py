"""Paying for credits with TON from the chat, end to end: ``/buy`` → "Pay with TON" → a pack
→ an invoice (``ton://`` link and QR code) → the connected wallet is asked and pays on the
stand-in's chain → the watcher (the worker's job) credits the pack once and tells the fan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import quote

import pytest
from sqlalchemy import select

from core import ledger
from core.models import TonInvoice, User
from core.redis import close_redis, create_redis
from core.settings import Settings
from devtools.telegram.client import BotInfo, TranscriptEntry, UserInfo
from devtools.ton import WalletInfo
from tenants import payments
from tenants.ton import invoices
from tests.bot.conftest import Platform, wait_until
from tests.bot.wallet_ton.conftest import (
    Ton,
    TonPlatformFactory,
    caption_of,
    open_connect_link,
    press,
    read_qr,
)
from tests.jobs.conftest import run_burst_worker

NANO = 10**9
PRICE = 3 * NANO // 2  # 1.5 TON for the first pack (100 credits)
WAITING = (
    "Your wallet sent the payment. Waiting for the network to confirm it — I will let you know."
)


@pytest.fixture
async def merchant(ton: Ton) -> WalletInfo:
    return await ton.client.create_wallet("v4r2", balance=NANO, label="merchant")


@pytest.fixture
async def shop(
    start_ton_platform: TonPlatformFactory, merchant: WalletInfo
) -> AsyncIterator[Platform]:
    async with start_ton_platform(ton_merchant_address=merchant.non_bounceable) as platform:
        yield platform


async def _price_first_pack(platform: Platform, tenant_id: int) -> None:
    async with platform.session_factory() as session:
        pack = (await payments.list_packs(session, tenant_id))[0]
        await invoices.set_price(session, tenant_id, kind="credits", item_id=pack.id, amount=PRICE)
        await session.commit()


async def _connect(platform: Platform, ton: Ton, bot: BotInfo, fan: UserInfo) -> WalletInfo:
    wallet = await ton.client.create_wallet("v4r2", balance=10 * NANO)
    photo, link = await open_connect_link(platform, bot, fan)
    await ton.client.connect(wallet, link)
    assert (await caption_of(platform, bot, fan, photo.message_id)).startswith("Connected: ")
    return wallet


async def _open_ton_invoice(platform: Platform, bot: BotInfo, fan: UserInfo) -> TranscriptEntry:
    await platform.emulator.send_command(bot, fan, "buy")
    menu = (await platform.settled(bot, fan))[-1]
    assert menu.buttons[-1]["text"] == "💎 Pay with TON"
    await press(platform, bot, fan, menu, menu.buttons[-1]["callback_data"])
    packs = (await platform.settled(bot, fan))[-1]
    assert packs.text == "Choose a credit pack to pay for with TON."
    assert [b["text"] for b in packs.buttons] == ["100 credits – 1.5 TON"]
    await press(platform, bot, fan, packs, packs.buttons[0]["callback_data"])
    entries = await wait_until(
        lambda: platform.emulator.transcript(bot, fan, from_bot_only=True),
        lambda items: any(
            e.message.get("photo") and "TON" in (e.caption or "") for e in items[-2:]
        ),
    )
    photo: TranscriptEntry = next(e for e in entries[-2:] if e.message.get("photo"))
    return photo


async def _invoice(platform: Platform) -> TonInvoice:
    async with platform.session_factory() as session:
        return (await session.scalars(select(TonInvoice))).one()


async def _balance(platform: Platform, tenant_id: int, telegram_id: int) -> int:
    async with platform.session_factory() as session:
        user = (
            await session.scalars(
                select(User).where(User.tenant_id == tenant_id, User.telegram_id == telegram_id)
            )
        ).one()
        return (await ledger.user_balance(session, tenant_id, user.id)).available


async def _run_watcher(settings: Settings) -> None:
    """One cron tick of the payment watcher in the real worker (its notices run too)."""
    redis = create_redis(url=settings.redis_url)
    try:
        await redis.enqueue_job("watch_ton_payments")
    finally:
        await close_redis(redis)
    await run_burst_worker(settings, ctx={"settings": settings})


async def test_pay_a_pack_from_the_connected_wallet(
    shop: Platform, ton: Ton, merchant: WalletInfo
) -> None:
    platform = shop
    bot, tenant_id = await platform.add_tenant()
    await _price_first_pack(platform, tenant_id)
    alice = await platform.user("Alice")
    wallet = await _connect(platform, ton, bot, alice)
    await ton.client.set_policy(wallet, "approve")

    photo = await _open_ton_invoice(platform, bot, alice)
    invoice = await _invoice(platform)
    link = (
        f"ton://transfer/{merchant.non_bounceable}?amount={PRICE}"
        f"&text={quote(invoice.comment, safe='')}"
    )
    assert await read_qr(platform, photo) == [link]
    assert photo.caption is not None
    assert photo.caption.startswith(
        f"Send exactly 1.5 TON for 100 credits.\nTo: {merchant.non_bounceable}\n"
        f"Comment: {invoice.comment}\n"
    )
    assert link in photo.caption

    # The wallet was asked, said yes: the chat waits for the chain, nothing is credited yet.
    notes = await wait_until(
        lambda: platform.emulator.transcript(bot, alice, from_bot_only=True),
        lambda items: items[-1].text == WAITING,
    )
    assert notes[-1].edit_date is not None
    assert await _balance(platform, tenant_id, alice.id) == 0

    await ton.client.produce_blocks(finalize=True)
    await _run_watcher(platform.settings)
    receipt = await wait_until(
        lambda: platform.emulator.transcript(bot, alice, from_bot_only=True),
        lambda items: (items[-1].text or "").startswith("Payment received"),
    )
    assert receipt[-1].text == (
        "Payment received: 1.5 TON. 100 credits were added.\nYour balance: 100 credits."
    )
    assert await _balance(platform, tenant_id, alice.id) == 100
    merchant_after = await ton.client.account(merchant)
    assert merchant_after.balance > NANO + PRICE - NANO // 10  # the money is on the chain

    # Another watcher run, and pressing the pack again: never a second credit for one payment.
    await _run_watcher(platform.settings)
    assert await _balance(platform, tenant_id, alice.id) == 100
    assert (await _invoice(platform)).status == "paid"


async def test_pay_by_link_without_a_connected_wallet(
    shop: Platform, ton: Ton, merchant: WalletInfo
) -> None:
    platform = shop
    bot, tenant_id = await platform.add_tenant()
    await _price_first_pack(platform, tenant_id)
    bob = await platform.user("Bob", "tr")
    await platform.emulator.send_command(bot, bob, "buy")
    menu = (await platform.settled(bot, bob))[-1]
    assert menu.buttons[-1]["text"] == "💎 TON ile öde"
    await press(platform, bot, bob, menu, menu.buttons[-1]["callback_data"])
    packs = (await platform.settled(bot, bob))[-1]
    await press(platform, bot, bob, packs, packs.buttons[0]["callback_data"])
    entries = await platform.settled(bot, bob)
    assert entries[-1].message.get("photo"), "the invoice, and no wallet request after it"
    invoice = await _invoice(platform)

    payer = await ton.client.create_wallet("v4r2", balance=5 * NANO)  # any wallet, by hand
    await ton.client.transfer(payer, merchant.non_bounceable, PRICE, comment=invoice.comment)
    await ton.client.produce_blocks(finalize=True)
    await _run_watcher(platform.settings)
    assert await _balance(platform, tenant_id, bob.id) == 100


async def test_a_payment_declined_in_the_wallet_credits_nothing(shop: Platform, ton: Ton) -> None:
    platform = shop
    bot, tenant_id = await platform.add_tenant()
    await _price_first_pack(platform, tenant_id)
    alice = await platform.user("Alice")
    wallet = await _connect(platform, ton, bot, alice)
    await ton.client.set_policy(wallet, "reject")
    await _open_ton_invoice(platform, bot, alice)
    await wait_until(
        lambda: platform.emulator.transcript(bot, alice, from_bot_only=True),
        lambda items: (
            items[-1].text
            == "The payment was declined in your wallet. You can still pay with the link above."
        ),
    )
    await ton.client.produce_blocks(finalize=True)
    await _run_watcher(platform.settings)
    assert await _balance(platform, tenant_id, alice.id) == 0
    assert (await _invoice(platform)).status == "pending"


async def test_no_ton_button_without_a_price(shop: Platform) -> None:
    platform = shop
    bot, _ = await platform.add_tenant()
    alice = await platform.user("Alice")
    await platform.emulator.send_command(bot, alice, "buy")
    menu = (await platform.settled(bot, alice))[-1]
    assert all("TON" not in b["text"] for b in menu.buttons)
