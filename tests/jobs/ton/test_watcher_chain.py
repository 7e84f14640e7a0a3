"""The payment watcher against the TON stand-in: real wallets sign real transfers to the
merchant wallet, the watcher reads them over toncenter's v3 API and pays invoices — exactly
once, whatever happens to pages, cursors, finality, rate limits and concurrent runs."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select, update

from core.models import TonTransaction, TonWatchCursor
from core.queue import unit_of_work
from core.settings import Settings
from core.ton.address import parse_address
from core.ton.toncenter import ToncenterClient
from devtools.ton import WalletInfo
from jobs.ton.tasks import watch_ton_payments
from tenants.ton import invoices, watcher
from tests.jobs.ton.conftest import (
    FAST_CLIENT,
    NANO,
    PRICE,
    Chain,
    Factory,
    Shop,
    balance,
    invoice_state,
    new_invoice,
    paid_invoices,
)


async def fan_wallet(chain: Chain, amount: int = 100 * NANO) -> WalletInfo:
    return await chain.ton.create_wallet("v4r2", balance=amount)


async def pay_as_ton_connect(
    chain: Chain, wallet: WalletInfo, settings: Settings, invoice_id: int, factory: Factory
) -> None:
    """Do what the wallet does with the Mini App's sendTransaction request: send exactly the
    message it describes (address form, amount, payload cell)."""
    invoice = await invoice_state(factory, invoice_id)
    request = invoices.payment_request(invoice, settings)
    assert request is not None
    [message] = request.ton_connect["messages"]
    await chain.ton.transfer(
        wallet, message["address"], int(message["amount"]), payload=message["payload"]
    )


async def transfers_recorded(factory: Factory) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count(TonTransaction.id))) or 0)


async def test_a_ton_connect_payment_is_credited_once(
    chain: Chain, ctx: dict[str, Any], ton_settings: Settings, session_factory: Factory, shop: Shop
) -> None:
    invoice = await new_invoice(session_factory, ton_settings, shop)
    await pay_as_ton_connect(
        chain, await fan_wallet(chain), ton_settings, invoice.id, session_factory
    )

    summary = await watch_ton_payments(ctx)
    assert summary["outcomes"] == {"paid": 1}
    paid = await invoice_state(session_factory, invoice.id)
    assert paid.status == "paid" and paid.amount_received == PRICE
    assert await balance(session_factory, shop) == 120
    jobs = await ctx["redis"].queued_jobs()
    assert [(job.function, job.args[:2]) for job in jobs] == [
        ("notify_ton_invoice", (invoice.id, "paid"))
    ]

    again = await watch_ton_payments(ctx)
    assert again["scanned"] == 0 and again["outcomes"] == {}
    assert await balance(session_factory, shop) == 120


async def test_under_and_over_payments_on_chain(
    chain: Chain, ctx: dict[str, Any], ton_settings: Settings, session_factory: Factory, shop: Shop
) -> None:
    under = await new_invoice(session_factory, ton_settings, shop)
    over = await new_invoice(session_factory, ton_settings, shop)
    fan = await fan_wallet(chain)
    merchant = chain.merchant.non_bounceable
    await chain.ton.transfer(fan, merchant, PRICE - NANO // 2, comment=under.comment)
    await chain.ton.transfer(fan, merchant, PRICE + NANO, comment=over.comment)

    summary = await watch_ton_payments(ctx)
    assert summary["outcomes"] == {"underpaid": 1, "paid": 1}
    assert (await invoice_state(session_factory, under.id)).status == "underpaid"
    over_paid = await invoice_state(session_factory, over.id)
    assert over_paid.status == "paid" and over_paid.overpaid == NANO
    assert await balance(session_factory, shop) == 120  # the under-paid one gave nothing


async def test_bounced_payments_are_not_credited_and_kept_ones_are(
    chain: Chain, ctx: dict[str, Any], ton_settings: Settings, session_factory: Factory, shop: Shop
) -> None:
    """A merchant address with no code yet: a bounceable transfer comes back to the fan (not
    credited), a non-bounceable one stays on the address (credited)."""
    fresh = await chain.ton.create_wallet("v4r2", deployed=False)
    settings = ton_settings.model_copy(update={"ton_merchant_address": fresh.non_bounceable})
    ctx = ctx | {"settings": settings}
    bounced = await new_invoice(session_factory, settings, shop)
    kept = await new_invoice(session_factory, settings, shop)
    fan = await fan_wallet(chain)
    await chain.ton.transfer(fan, fresh.bounceable, PRICE, comment=bounced.comment)
    await chain.ton.transfer(fan, fresh.non_bounceable, PRICE, comment=kept.comment)

    summary = await watch_ton_payments(ctx)
    assert summary["outcomes"] == {"rejected": 1, "paid": 1}
    assert (await invoice_state(session_factory, bounced.id)).status == "pending"
    assert (await invoice_state(session_factory, kept.id)).status == "paid"
    assert await balance(session_factory, shop) == 120


async def test_nothing_is_credited_before_the_block_is_final(
    chain: Chain, ctx: dict[str, Any], ton_settings: Settings, session_factory: Factory, shop: Shop
) -> None:
    await chain.ton.configure(finality_delay=3600, list_unfinalized=True)
    invoice = await new_invoice(session_factory, ton_settings, shop)
    await chain.ton.transfer(
        await fan_wallet(chain), chain.merchant.non_bounceable, PRICE, comment=invoice.comment
    )
    early = await watch_ton_payments(ctx)
    assert early["scanned"] == 0 and early["outcomes"] == {}
    assert (await invoice_state(session_factory, invoice.id)).status == "pending"
    assert await transfers_recorded(session_factory) == 0

    await chain.ton.produce_blocks(1, finalize=True)
    final = await watch_ton_payments(ctx)
    assert final["outcomes"] == {"paid": 1}
    assert await balance(session_factory, shop) == 120


async def test_a_lost_cursor_reads_everything_again_and_credits_nothing_twice(
    chain: Chain, ctx: dict[str, Any], ton_settings: Settings, session_factory: Factory, shop: Shop
) -> None:
    fan = await fan_wallet(chain)
    for _ in range(3):
        invoice = await new_invoice(session_factory, ton_settings, shop)
        await chain.ton.transfer(fan, chain.merchant.non_bounceable, PRICE, comment=invoice.comment)
    assert (await watch_ton_payments(ctx))["outcomes"] == {"paid": 3}
    async with session_factory() as session:
        await session.execute(update(TonWatchCursor).values(last_lt=0))
        await session.commit()

    again = await watch_ton_payments(ctx)
    assert again["scanned"] >= 3 and again["recorded"] == 0 and again["outcomes"] == {}
    assert await balance(session_factory, shop) == 360


async def test_a_watcher_that_dies_mid_page_loses_and_repeats_nothing(
    chain: Chain, ctx: dict[str, Any], ton_settings: Settings, session_factory: Factory, shop: Shop
) -> None:
    fan = await fan_wallet(chain)
    invoice_ids = []
    for _ in range(7):
        invoice = await new_invoice(session_factory, ton_settings, shop)
        invoice_ids.append(invoice.id)
        await chain.ton.transfer(fan, chain.merchant.non_bounceable, PRICE, comment=invoice.comment)
    merchant = parse_address(chain.merchant.address)
    async with ToncenterClient(chain.base_url, **FAST_CLIENT) as client:
        # The first page (3 transactions) is committed.
        first = await watcher.watch(
            session_factory, ctx["redis"], client, merchant, page_size=3, fee_bps=500, max_pages=1
        )
        assert first.outcomes == {"paid": 3}
        # The second page is read and applied, then the worker dies before the commit.
        async with session_factory() as session:
            page = await watcher.scan_page(session, client, merchant, page_size=3, fee_bps=500)
            assert page.outcomes == {"paid": 3}
            await session.rollback()
        assert await paid_invoices(session_factory) == 3
        # A new worker, with another page size, takes over from the committed cursor.
        rest = await watcher.watch(
            session_factory, ctx["redis"], client, merchant, page_size=5, fee_bps=500
        )
    assert rest.outcomes == {"paid": 4}
    assert await paid_invoices(session_factory) == 7
    assert await balance(session_factory, shop) == 7 * 120
    assert await transfers_recorded(session_factory) == 7


async def test_two_watchers_at_once_credit_each_payment_once(
    chain: Chain, ctx: dict[str, Any], ton_settings: Settings, session_factory: Factory, shop: Shop
) -> None:
    fan = await fan_wallet(chain)
    for _ in range(12):
        invoice = await new_invoice(session_factory, ton_settings, shop)
        await chain.ton.transfer(fan, chain.merchant.non_bounceable, PRICE, comment=invoice.comment)
    small_pages = ctx | {"settings": ton_settings.model_copy(update={"ton_watcher_page_size": 2})}
    first, second = await asyncio.gather(
        watch_ton_payments(small_pages), watch_ton_payments(small_pages)
    )
    assert first["outcomes"].get("paid", 0) + second["outcomes"].get("paid", 0) == 12
    assert await paid_invoices(session_factory) == 12
    assert await balance(session_factory, shop) == 12 * 120
    assert await transfers_recorded(session_factory) == 12


async def test_the_watcher_backs_off_when_rate_limited(
    chain: Chain, ctx: dict[str, Any], ton_settings: Settings, session_factory: Factory, shop: Shop
) -> None:
    fan = await fan_wallet(chain)
    for _ in range(6):
        invoice = await new_invoice(session_factory, ton_settings, shop)
        await chain.ton.transfer(fan, chain.merchant.non_bounceable, PRICE, comment=invoice.comment)
    await chain.ton.configure(rate_limit_rps=20, rate_limit_burst=1)
    small_pages = ctx | {"settings": ton_settings.model_copy(update={"ton_watcher_page_size": 1})}
    summary = await watch_ton_payments(small_pages)
    assert summary["outcomes"] == {"paid": 6}
    assert await balance(session_factory, shop) == 6 * 120


async def test_payments_from_strangers_are_recorded_unmatched(
    chain: Chain, ctx: dict[str, Any], session_factory: Factory
) -> None:
    await chain.ton.fund(chain.merchant.address, NANO, comment="hello")
    await chain.ton.fund(chain.merchant.address, NANO)
    summary = await watch_ton_payments(ctx)
    assert summary["outcomes"] == {"unmatched": 2}
    async with session_factory() as session:
        rows = (await session.execute(select(TonTransaction))).scalars().all()
    assert {row.amount for row in rows} == {NANO} and {row.tenant_id for row in rows} == {None}


async def test_without_a_merchant_address_the_watcher_does_nothing(
    ctx: dict[str, Any], ton_settings: Settings
) -> None:
    off = ctx | {"settings": ton_settings.model_copy(update={"ton_merchant_address": None})}
    assert await watch_ton_payments(off) == {"skipped": "no merchant address"}


async def test_expiry_sweep_runs_with_the_watcher(
    ctx: dict[str, Any], ton_settings: Settings, session_factory: Factory, shop: Shop
) -> None:
    from datetime import timedelta

    from core.db import utcnow

    async with unit_of_work(session_factory, ctx["redis"]) as session:
        await invoices.create_invoice(
            session,
            ton_settings,
            tenant_id=shop.tenant_id,
            user_id=shop.user_id,
            kind="credits",
            item_id=shop.pack_id,
            now=utcnow() - timedelta(days=1),
        )
    assert (await watch_ton_payments(ctx))["expired"] == 1
