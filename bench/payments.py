"""Stars payments/second through the whole webhook path, and the exactly-once check.

    .venv/bin/python -m bench.payments [--database-url URL] [--redis-url URL]
                                       [--payments 2000] [--fans 200] [--concurrency 32]

One process: a tenant, ``--fans`` fans and ``--payments`` pending credit-pack orders (written
by :func:`tenants.payments.create_pack_order`, as ``/buy`` and the Mini App do); then one
``successful_payment`` update per order, POSTed ``--concurrency`` at a time into the real
FastAPI app (httpx ``ASGITransport``, no socket) → ``/tg/{bot_id}`` → secret check → Redis
de-duplication → middlewares → the payments handler → :func:`tenants.payments.record_charge`
(charge row ``ON CONFLICT DO NOTHING``, order marked paid, ledger credit keyed by the charge id)
→ the receipt as the webhook response. Several payments of one fan run at the same time, so the
fan's ledger account is a hot row, as it is when a fan buys twice in a row.

The second pass re-posts every update with a NEW ``update_id`` — what Telegram's duplicate
delivery of a charge looks like once the update id de-duplication cannot catch it — and must
credit nothing and send no receipt. Then the final check: every order paid exactly once, one
charge row per charge, the sum of ledger entries == the sum of balances == the credits of the
orders.

Without ``--database-url`` a throwaway PostgreSQL database is created on 127.0.0.1 (migrated,
dropped at the end). Redis defaults to ``redis://127.0.0.1:6379/13``, which is FLUSHED first.
Prints figures; never fails on time (it exits non-zero only when the money check fails).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, select

from bench.common import SECRET_KEY, database, webhook_settings
from core import crypto
from core.db import create_engine, create_session_factory
from core.models import LedgerAccount, LedgerEntry, Order, Payment, Tenant, TenantBot, User
from core.models.payments import OrderStatus
from core.settings import Settings
from tenants import payments
from tenants.webhooks import SECRET_HEADER, secret_hash

BOT_ID = 6_000_000_002
TOKEN = f"{BOT_ID}:AAbenchmarkbenchmarkbenchmark_54321"
SECRET = "bench-secret-token"
FIRST_FAN = 2_000_000
RECEIPT = b'{"method":"sendMessage"'
console = Console()


@dataclass(frozen=True, slots=True)
class Charge:
    telegram_id: int
    payload: str
    stars: int
    credits: int
    charge_id: str


def payment_update(update_id: int, charge: Charge) -> dict[str, Any]:
    fan = {"id": charge.telegram_id, "first_name": f"Fan {charge.telegram_id}"}
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {**fan, "type": "private"},
            "from": {**fan, "is_bot": False, "language_code": "en"},
            "successful_payment": {
                "currency": payments.CURRENCY,
                "total_amount": charge.stars,
                "invoice_payload": charge.payload,
                "telegram_payment_charge_id": charge.charge_id,
                "provider_payment_charge_id": "",
            },
        },
    }


async def seed(settings: Settings, count: int, fans: int) -> tuple[int, list[Charge]]:
    """The tenant, its bot, its fans and one pending pack order per payment to come."""
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:
            tenant = Tenant(
                name="Bench Studio",
                plan="premium",
                config={"throttle": {"limit": 10**9, "window": 60}},
            )
            session.add(tenant)
            await session.flush()
            session.add(
                TenantBot(
                    tenant_id=tenant.id,
                    telegram_bot_id=BOT_ID,
                    username="bench_pay_bot",
                    token_encrypted=crypto.encrypt(TOKEN, secret_key=SECRET_KEY),
                    webhook_secret_hash=secret_hash(SECRET, secret_key=SECRET_KEY),
                )
            )
            users = [
                User(
                    tenant_id=tenant.id,
                    telegram_id=FIRST_FAN + i,
                    first_name=f"Fan {FIRST_FAN + i}",
                    language_code="en",
                )
                for i in range(fans)
            ]
            session.add_all(users)
            await session.flush()
            packs = await payments.list_packs(session, tenant.id)
            charges = []
            for i in range(count):
                fan = users[i % fans]
                order, _ = await payments.create_pack_order(
                    session,
                    tenant.id,
                    user_id=fan.id,
                    telegram_user_id=fan.telegram_id,
                    pack_id=packs[i % len(packs)].id,
                )
                charges.append(
                    Charge(
                        telegram_id=fan.telegram_id,
                        payload=payments.payload_of(order),
                        stars=order.stars,
                        credits=order.credits,
                        charge_id=f"bench-charge-{i:07d}",
                    )
                )
            await session.commit()
            return tenant.id, charges
    finally:
        await engine.dispose()


async def post_all(
    client: httpx.AsyncClient, updates: list[dict[str, Any]], concurrency: int
) -> tuple[float, int]:
    """(seconds, receipts): every update POSTed, ``concurrency`` at a time."""
    queue = iter(updates)
    receipts = 0

    async def worker() -> None:
        nonlocal receipts
        for raw in queue:
            response = await client.post(f"/tg/{BOT_ID}", json=raw, headers={SECRET_HEADER: SECRET})
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code}: {response.text}")
            receipts += response.content.startswith(RECEIPT)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, receipts


@dataclass(frozen=True, slots=True)
class Totals:
    orders_paid: int
    payment_rows: int
    distinct_charges: int
    orders_with_two_charges: int
    entries_sum: int
    entries: int
    balances_sum: int


async def totals(settings: Settings, tenant_id: int) -> Totals:
    engine = create_engine(settings)
    try:
        async with create_session_factory(engine)() as session:

            async def scalar(statement: Any) -> int:
                return int((await session.execute(statement)).scalar() or 0)

            twice = (
                select(Payment.order_id)
                .where(Payment.tenant_id == tenant_id)
                .group_by(Payment.order_id)
                .having(func.count() > 1)
                .subquery()
            )
            return Totals(
                orders_paid=await scalar(
                    select(func.count())
                    .select_from(Order)
                    .where(Order.tenant_id == tenant_id, Order.status == OrderStatus.PAID)
                ),
                payment_rows=await scalar(
                    select(func.count()).select_from(Payment).where(Payment.tenant_id == tenant_id)
                ),
                distinct_charges=await scalar(
                    select(func.count(func.distinct(Payment.telegram_payment_charge_id))).where(
                        Payment.tenant_id == tenant_id
                    )
                ),
                orders_with_two_charges=await scalar(select(func.count()).select_from(twice)),
                entries_sum=await scalar(
                    select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
                        LedgerEntry.tenant_id == tenant_id
                    )
                ),
                entries=await scalar(
                    select(func.count())
                    .select_from(LedgerEntry)
                    .where(LedgerEntry.tenant_id == tenant_id)
                ),
                balances_sum=await scalar(
                    select(func.coalesce(func.sum(LedgerAccount.balance), 0)).where(
                        LedgerAccount.tenant_id == tenant_id
                    )
                ),
            )
    finally:
        await engine.dispose()


async def run(database_url: str, redis_url: str, args: argparse.Namespace) -> bool:
    from miniapp_api.app import create_app

    settings = await webhook_settings(database_url, redis_url)
    started = time.perf_counter()
    tenant_id, charges = await seed(settings, args.payments, args.fans)
    seeded = time.perf_counter() - started
    expected = sum(charge.credits for charge in charges)
    first = [payment_update(1 + i, charge) for i, charge in enumerate(charges)]
    again = [payment_update(1 + len(charges) + i, charge) for i, charge in enumerate(charges)]

    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            paid_seconds, receipts = await post_all(client, first, args.concurrency)
            after_first = await totals(settings, tenant_id)
            dup_seconds, dup_receipts = await post_all(client, again, args.concurrency)
    final = await totals(settings, tenant_id)

    table = Table(title="successful_payment through the whole webhook path, one process")
    table.add_column("pass")
    table.add_column("updates", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("payments/s", justify="right")
    table.add_column("receipts", justify="right")
    table.add_column("credited", justify="right")
    table.add_row(
        "new charges",
        f"{len(first):,}",
        f"{paid_seconds:.2f}",
        f"{len(first) / paid_seconds:,.0f}",
        f"{receipts:,}",
        f"{after_first.entries_sum:,}",
    )
    table.add_row(
        "same charges, new update ids",
        f"{len(again):,}",
        f"{dup_seconds:.2f}",
        f"{len(again) / dup_seconds:,.0f}",
        f"{dup_receipts:,}",
        f"{final.entries_sum - after_first.entries_sum:,}",
    )
    console.print(table)

    n = len(charges)
    checks = [
        ("every order paid", final.orders_paid == n, f"{final.orders_paid:,} of {n:,}"),
        (
            "one charge row per charge",
            final.payment_rows == final.distinct_charges == n,
            f"{final.payment_rows:,} rows, {final.distinct_charges:,} distinct charge ids",
        ),
        (
            "no order charged twice",
            final.orders_with_two_charges == 0,
            f"{final.orders_with_two_charges} orders with more than one charge",
        ),
        ("one ledger entry per charge", final.entries == n, f"{final.entries:,} entries"),
        (
            "entries == balances == expected credits",
            final.entries_sum == final.balances_sum == expected,
            f"{final.entries_sum:,} == {final.balances_sum:,} == {expected:,}",
        ),
        ("a receipt per new charge", receipts == n, f"{receipts:,}"),
        (
            "duplicates credit nothing, send nothing",
            dup_receipts == 0 and final.entries_sum == after_first.entries_sum,
            f"{dup_receipts} receipts, +{final.entries_sum - after_first.entries_sum} credits",
        ),
    ]
    ok = all(passed for _, passed, _ in checks)
    for name, passed, detail in checks:
        mark = "[green]ok[/]" if passed else "[red]FAILED[/]"
        console.print(f"{mark}  {name}: {detail}")
    console.print(
        f"[dim]{n:,} orders for {args.fans} fans seeded in {seeded:.1f}s; "
        f"concurrency {args.concurrency}; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs[/]"
    )
    return ok


async def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(prog="python -m bench.payments", description=__doc__)
    parser.add_argument("--database-url", help="postgresql+asyncpg://... (default: throwaway)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/13", help="FLUSHED first")
    parser.add_argument("--payments", type=int, default=2000)
    parser.add_argument("--fans", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args(argv)
    async with database(args.database_url, "payments") as url:
        return await run(url, args.redis_url, args)


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(main()) else 1)
