"""The watcher's rules on a page of final transactions (toncenter v3 JSON, parsed by the real
parser) against the real database: exact, under, over, bounced, failed, unmatched, paid twice,
late — what each does to the invoice, the fan's credits and the record of the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import ledger
from core.db import utcnow
from core.models import CreditPack, TonInvoice, TonTransaction, User
from core.queue import pending_jobs
from core.settings import Settings
from core.ton.address import parse_address
from core.ton.transactions import parse_transaction
from tenants.ton import invoices, watcher
from tests.core.ton import v3_samples as v3
from tests.miniapp_api.auth.helpers import add_bot

Factory = async_sessionmaker[AsyncSession]
MERCHANT = parse_address(v3.MERCHANT)
PRICE = 2_000_000_000
FEE_BPS = 500


@dataclass
class Shop:
    tenant_id: int
    user_id: int
    pack_id: int
    settings: Settings


@pytest.fixture
async def shop(session_factory: Factory, settings: Settings) -> Shop:
    bot = await add_bot(session_factory)
    async with session_factory() as session:
        user = User(tenant_id=bot.tenant_id, telegram_id=424242, first_name="Fan")
        pack = CreditPack(tenant_id=bot.tenant_id, stars=50, credits=100, bonus=20)
        session.add_all([user, pack])
        await session.flush()
        await invoices.set_price(
            session, bot.tenant_id, kind="credits", item_id=pack.id, amount=PRICE
        )
        await session.commit()
        return Shop(
            bot.tenant_id,
            user.id,
            pack.id,
            settings.model_copy(update={"ton_merchant_address": v3.MERCHANT}),
        )


async def new_invoice(factory: Factory, shop: Shop, **kwargs: Any) -> TonInvoice:
    async with factory() as session:
        invoice = await invoices.create_invoice(
            session,
            shop.settings,
            tenant_id=shop.tenant_id,
            user_id=shop.user_id,
            kind="credits",
            item_id=shop.pack_id,
            **kwargs,
        )
        await session.commit()
        return invoice


_lt = iter(range(47_000_000_001_000, 47_000_000_100_000, 7))


async def watch(factory: Factory, *txs: dict[str, Any]) -> tuple[watcher.PageResult, list[str]]:
    """Record a page in one unit of work, as the watcher does; also the jobs it deferred."""
    result = watcher.PageResult()
    async with factory() as session:
        parsed = [parse_transaction(tx) for tx in txs]
        await watcher.record(session, MERCHANT, parsed, fee_bps=FEE_BPS, now=None, result=result)
        jobs = [f"{job.function}:{job.args[1]}" for job in pending_jobs(session)]
        await session.commit()
    return result, jobs


def pay(comment: str, amount: int = PRICE, **kwargs: Any) -> dict[str, Any]:
    return v3.transaction(next(_lt), amount=amount, comment=comment, **kwargs)


async def state(factory: Factory, shop: Shop, invoice_id: int) -> tuple[TonInvoice, int]:
    async with factory() as session:
        invoice = await session.get(TonInvoice, invoice_id)
        assert invoice is not None
        balance = await ledger.user_balance(session, shop.tenant_id, shop.user_id)
        return invoice, balance.available


async def test_exact_payment_pays_once_and_credits_the_pack(
    session_factory: Factory, shop: Shop
) -> None:
    invoice = await new_invoice(session_factory, shop)
    tx = pay(invoice.comment)
    result, jobs = await watch(session_factory, tx)
    assert result.outcomes == {"paid": 1} and jobs == ["notify_ton_invoice:paid"]
    paid, balance = await state(session_factory, shop, invoice.id)
    assert paid.status == "paid" and balance == 120
    assert paid.amount_received == PRICE and paid.overpaid == 0 and not paid.paid_late
    assert paid.paid_tx_hash == parse_transaction(tx).hash_hex
    assert paid.creator_amount == PRICE * 95 // 100

    # The same transaction again (a re-read page, a second watcher): nothing happens.
    again, jobs = await watch(session_factory, tx)
    assert again.recorded == 0 and not again.outcomes and jobs == []
    assert (await state(session_factory, shop, invoice.id))[1] == 120


async def test_comment_matching_ignores_case_and_spaces(
    session_factory: Factory, shop: Shop
) -> None:
    invoice = await new_invoice(session_factory, shop)
    result, _ = await watch(session_factory, pay(f"  {invoice.comment.upper()} "))
    assert result.outcomes == {"paid": 1}


async def test_under_payment_is_recorded_told_and_can_be_completed(
    session_factory: Factory, shop: Shop
) -> None:
    invoice = await new_invoice(session_factory, shop)
    result, jobs = await watch(session_factory, pay(invoice.comment, PRICE - 500_000_000))
    assert result.outcomes == {"underpaid": 1} and jobs == ["notify_ton_invoice:underpaid"]
    under, balance = await state(session_factory, shop, invoice.id)
    assert under.status == "underpaid" and under.amount_received == PRICE - 500_000_000
    assert balance == 0 and under.paid_tx_hash is None
    request = invoices.payment_request(under, shop.settings)
    assert request is not None and request.ton_connect["messages"][0]["amount"] == "500000000"

    # The rest, with the same comment, completes it (and only then credits).
    result, jobs = await watch(session_factory, pay(invoice.comment, 600_000_000))
    assert result.outcomes == {"paid": 1} and jobs == ["notify_ton_invoice:paid"]
    paid, balance = await state(session_factory, shop, invoice.id)
    assert paid.status == "paid" and balance == 120 and paid.overpaid == 100_000_000


async def test_over_payment_pays_and_records_the_difference(
    session_factory: Factory, shop: Shop
) -> None:
    invoice = await new_invoice(session_factory, shop)
    result, _ = await watch(session_factory, pay(invoice.comment, PRICE + 750_000_000))
    assert result.outcomes == {"paid": 1}
    paid, balance = await state(session_factory, shop, invoice.id)
    assert paid.status == "paid" and paid.overpaid == 750_000_000 and balance == 120
    assert paid.creator_amount == PRICE * 95 // 100  # the creator earns the price, not the tip
    assert invoices.payment_request(paid, shop.settings) is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"in_bounced": True},
        {"bounce_phase": True},
        {"aborted": True},
        {"compute": {"skipped": False, "success": False, "exit_code": 33}},
    ],
)
async def test_nothing_is_credited_when_the_value_did_not_stay(
    session_factory: Factory, shop: Shop, kwargs: dict[str, Any]
) -> None:
    invoice = await new_invoice(session_factory, shop)
    result, jobs = await watch(session_factory, pay(invoice.comment, **kwargs))
    assert result.outcomes == {"rejected": 1} and jobs == []
    pending, balance = await state(session_factory, shop, invoice.id)
    assert pending.status == "pending" and pending.amount_received == 0 and balance == 0


async def test_a_second_payment_of_a_paid_invoice_is_kept_for_a_refund(
    session_factory: Factory, shop: Shop
) -> None:
    invoice = await new_invoice(session_factory, shop)
    await watch(session_factory, pay(invoice.comment))
    result, jobs = await watch(session_factory, pay(invoice.comment))
    assert result.outcomes == {"already_paid": 1} and jobs == []
    paid, balance = await state(session_factory, shop, invoice.id)
    assert paid.overpaid == PRICE and balance == 120


async def test_unmatched_transfers_are_recorded_for_a_human(session_factory: Factory) -> None:
    result, _ = await watch(
        session_factory,
        pay("atl-nobodyhasthis"),
        pay("thanks!"),
        v3.transaction(next(_lt), comment=None),
    )
    assert result.outcomes == {"unmatched": 3}
    async with session_factory() as session:
        rows = (await session.execute(select(TonTransaction))).scalars().all()
    assert {(row.outcome, row.tenant_id) for row in rows} == {("unmatched", None)}
    assert sorted(row.comment or "" for row in rows) == ["", "atl-nobodyhasthis", "thanks!"]


async def test_outgoing_transactions_of_the_merchant_are_not_payments(
    session_factory: Factory,
) -> None:
    result, _ = await watch(session_factory, v3.transaction(next(_lt), external=True))
    assert result.recorded == 0 and not result.outcomes


async def test_an_expired_invoice_paid_late_is_paid_and_flagged(
    session_factory: Factory, shop: Shop
) -> None:
    invoice = await new_invoice(session_factory, shop, now=utcnow() - timedelta(hours=2))
    async with session_factory() as session:
        assert await watcher.expire(session) == 1
        await session.commit()
    expired, _ = await state(session_factory, shop, invoice.id)
    assert expired.status == "expired"
    assert invoices.payment_request(expired, shop.settings) is None  # not offered any more

    result, _ = await watch(session_factory, pay(invoice.comment))
    assert result.outcomes == {"paid": 1}
    paid, balance = await state(session_factory, shop, invoice.id)
    assert paid.status == "paid" and paid.paid_late and balance == 120


async def test_two_transfers_in_one_page_complete_an_invoice_in_order(
    session_factory: Factory, shop: Shop
) -> None:
    invoice = await new_invoice(session_factory, shop)
    result, jobs = await watch(
        session_factory, pay(invoice.comment, PRICE // 2), pay(invoice.comment, PRICE // 2)
    )
    assert result.outcomes == {"underpaid": 1, "paid": 1}
    assert jobs == ["notify_ton_invoice:underpaid", "notify_ton_invoice:paid"]
    assert (await state(session_factory, shop, invoice.id))[1] == 120
