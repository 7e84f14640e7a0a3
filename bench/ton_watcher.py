"""The TON payment watcher: transactions scanned and matched per second against the TON
stand-in with 100,000 transactions on the merchant wallet, and the exactly-once check.

    .venv/bin/python -m bench.ton_watcher [--database-url URL] [--redis-url URL]
                                          [--transactions 100000] [--invoices 2000]
                                          [--page-size 1000] [--naive 3000]

The stand-in (``devtools.ton``: real BoCs, toncenter's v3 JSON) runs in its own process, so it
does not share the watcher's CPU time. Its control API seeds ``--transactions`` incoming
transfers on a merchant wallet as final history; ``--invoices`` of them pay pending invoices
(exact amount, the invoice's comment), spread evenly, the rest carry other comments.

Runs:

- **fetch + parse only** (ceiling): the same pages through :class:`ToncenterClient` and
  :func:`core.ton.transactions.parse_transactions`, no database — what the HTTP API and JSON
  decoding cost by themselves;
- **watcher** (:func:`tenants.ton.watcher.watch`, ``--page-size`` per page): a page per database
  transaction — cursor row locked, every incoming transfer recorded (``ON CONFLICT (tx_hash) DO
  NOTHING``), matched invoices paid and credited in the ledger, the cursor moved, one commit;
- baseline **page size 1** on a second wallet holding ``--naive`` transactions of the same mix:
  the same code reading and committing one transaction at a time, as a watcher that polls
  transaction by transaction would.

Each row shows transactions/s, matched (paid) invoices/s, and ratios to the ceiling and to the
page-size-1 baseline. Then the exactly-once check: every invoice paid once, ledger credits ==
invoices paid × credits, one ``ton_transactions`` row per transfer; then both cursors are reset
to 0 and two watchers re-read everything at the same time — they must record and credit nothing.

Without ``--database-url`` a throwaway PostgreSQL database is created on 127.0.0.1 (migrated,
dropped at the end). Redis defaults to ``redis://127.0.0.1:6379/12``, which is FLUSHED first.
Prints figures; never fails on time (it exits non-zero only when the money check fails).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import SECRET_KEY, database
from core import ledger, migrate
from core.db import create_engine, create_session_factory, utcnow
from core.models import (
    CreditPack,
    LedgerEntry,
    Tenant,
    TonInvoice,
    TonTransaction,
    TonWatchCursor,
    User,
)
from core.redis import close_redis, create_redis
from core.settings import Environment, Settings, TonNetwork
from core.ton.address import TonAddress, parse_address
from core.ton.paylinks import new_invoice_comment
from core.ton.toncenter import ToncenterClient
from tenants.ton import invoices, watcher

NANO = 10**9
PRICE = 3 * NANO
CREDITS = 250
console = Console()
Factory = async_sessionmaker[AsyncSession]


@dataclass
class Run:
    name: str
    transactions: int
    matched: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.transactions / self.seconds if self.seconds else 0.0

    @property
    def matched_rate(self) -> float:
        return self.matched / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@asynccontextmanager
async def stand_in() -> AsyncIterator[str]:
    """The TON stand-in in a child process; yields its base URL."""
    port = free_port()
    code = (
        "import uvicorn; from devtools.ton.app import create_app; "
        f"uvicorn.run(create_app(), host='127.0.0.1', port={port}, log_level='warning')"
    )
    child = await asyncio.create_subprocess_exec(sys.executable, "-c", code, env=os.environ.copy())
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base) as http:
            for _ in range(200):
                try:
                    if (await http.get("/_ton/state")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("the TON stand-in did not start")
        yield base
    finally:
        child.terminate()
        await asyncio.wait_for(child.wait(), timeout=10)


async def make_shop(factory: Factory, settings: Settings, count: int) -> tuple[int, list[str]]:
    """A tenant, a fan, a priced pack and ``count`` pending invoices; (tenant id, comments)."""
    async with factory() as session:
        tenant = Tenant(name="Bench Studio", config={})
        session.add(tenant)
        await session.flush()
        user = User(tenant_id=tenant.id, telegram_id=9_000_001, first_name="Fan")
        pack = CreditPack(tenant_id=tenant.id, stars=50, credits=CREDITS, bonus=0)
        session.add_all([user, pack])
        await session.flush()
        await invoices.set_price(session, tenant.id, kind="credits", item_id=pack.id, amount=PRICE)
        expires = utcnow().replace(year=utcnow().year + 1)
        comments = [new_invoice_comment() for _ in range(count)]
        rows = [
            {
                "tenant_id": tenant.id,
                "user_id": user.id,
                "kind": "credits",
                "item_id": pack.id,
                "asset": "TON",
                "amount_due": PRICE,
                "credits": CREDITS,
                "comment": comment,
                "merchant": parse_address(settings.ton_merchant_address or "").raw,
                "status": "pending",
                "expires_at": expires,
                "amount_received": 0,
                "overpaid": 0,
                "creator_amount": 0,
                "paid_late": False,
            }
            for comment in comments
        ]
        await session.execute(insert(TonInvoice), rows)
        await session.commit()
        return tenant.id, comments


def transfers(total: int, comments: list[str]) -> list[dict[str, object]]:
    """``total`` incoming transfers, ``len(comments)`` of them paying invoices, spread evenly."""
    step = max(total // max(len(comments), 1), 1)
    paying = iter(comments)
    items: list[dict[str, object]] = []
    for i in range(total):
        comment = next(paying, None) if i % step == 0 else None
        items.append(
            {"amount": PRICE, "comment": comment}
            if comment is not None
            else {"amount": NANO // 10, "comment": f"seed-{i}"}
        )
    return items


async def seed(http: httpx.AsyncClient, account: str, items: list[dict[str, object]]) -> float:
    started = time.perf_counter()
    for start in range(0, len(items), 20_000):
        chunk = items[start : start + 20_000]
        response = await http.post("/_ton/seed", json={"account": account, "transfers": chunk})
        response.raise_for_status()
    return time.perf_counter() - started


async def fetch_only(base: str, merchant: TonAddress, page_size: int) -> Run:
    started = time.perf_counter()
    count, cursor = 0, 0
    async with ToncenterClient(base, timeout=60) as client:
        while True:
            page = await client.transactions(merchant, start_lt=cursor + 1, limit=page_size)
            count += len(page)
            if len(page) < page_size:
                break
            cursor = page[-1].lt
    return Run("fetch + parse only (ceiling)", count, 0, time.perf_counter() - started)


async def run_watcher(
    name: str, factory: Factory, redis: object, base: str, merchant: TonAddress, page_size: int
) -> Run:
    started = time.perf_counter()
    async with ToncenterClient(base, timeout=60) as client:
        result = await watcher.watch(
            factory,
            redis,  # type: ignore[arg-type]
            client,
            merchant,
            page_size=page_size,
            fee_bps=500,
            max_pages=10**9,
        )
    return Run(name, result.scanned, result.outcomes.get("paid", 0), time.perf_counter() - started)


async def scalar(factory: Factory, statement: object) -> int:
    async with factory() as session:
        return int(await session.scalar(statement) or 0)  # type: ignore[call-overload]


async def money_check(factory: Factory, tenant_id: int, invoices_made: int, incoming: int) -> bool:
    paid = await scalar(
        factory, select(func.count(TonInvoice.id)).where(TonInvoice.status == "paid")
    )
    async with factory() as session:
        user_id = await session.scalar(select(User.id).where(User.tenant_id == tenant_id))
        assert user_id is not None
        balance = (await ledger.user_balance(session, tenant_id, user_id)).available
    credits = await scalar(
        factory,
        select(func.count(LedgerEntry.id)).where(LedgerEntry.idempotency_key.like("ton:invoice:%")),
    )
    recorded = await scalar(factory, select(func.count(TonTransaction.id)))
    checks = {
        f"invoices paid == invoices ({paid} / {invoices_made})": paid == invoices_made,
        f"ledger credits == invoices paid ({credits})": credits == paid,
        f"fan balance == paid × credits ({balance})": balance == paid * CREDITS,
        f"one row per incoming transfer ({recorded} / {incoming})": recorded == incoming,
    }
    for text, ok in checks.items():
        console.print(f"  {'[green]ok[/]' if ok else '[red]FAILED[/]'}  {text}")
    return all(checks.values())


def report(runs: list[Run], ceiling: Run, naive: Run) -> None:
    table = Table(title="TON watcher")
    for column in ("run", "transactions", "tx/s", "matched/s", "× ceiling", "× page size 1"):
        table.add_column(column, justify="right" if column != "run" else "left")
    for run in runs:
        table.add_row(
            run.name,
            f"{run.transactions:,}",
            f"{run.rate:,.0f}",
            f"{run.matched_rate:,.0f}" if run.matched else "-",
            f"{run.rate / ceiling.rate:.2f}" if ceiling.rate else "-",
            f"{run.rate / naive.rate:.1f}" if naive.rate else "-",
        )
    console.print(table)


async def main(args: argparse.Namespace) -> int:
    async with database(args.database_url, "ton") as url, stand_in() as base:
        settings = Settings(
            environment=Environment.TEST,
            database_url=url,
            redis_url=args.redis_url,
            secret_key=SECRET_KEY,
            ton_api_base=base,
            ton_network=TonNetwork.MAINNET,
            log_level="WARNING",
        )
        await asyncio.to_thread(migrate.upgrade, url)
        engine = create_engine(settings)
        factory = create_session_factory(engine)
        redis = create_redis(settings)
        await redis.flushdb()
        try:
            return await _bench(args, settings, factory, redis, base)
        finally:
            await close_redis(redis)
            await engine.dispose()


async def _bench(
    args: argparse.Namespace, settings: Settings, factory: Factory, redis: object, base: str
) -> int:
    async with httpx.AsyncClient(base_url=base, timeout=600) as http:
        wallets = []
        for label in ("merchant", "sample"):
            made = await http.post("/_ton/wallets", json={"balance": NANO, "label": label})
            wallets.append(made.json())
    merchant, sample = (parse_address(w["address"]) for w in wallets)
    settings = settings.model_copy(update={"ton_merchant_address": wallets[0]["address"]})
    naive_invoices = max(args.invoices * args.naive // args.transactions, 1)
    tenant_id, comments = await make_shop(factory, settings, args.invoices + naive_invoices)
    main_items = transfers(args.transactions, comments[: args.invoices])
    naive_items = transfers(args.naive, comments[args.invoices :])
    async with httpx.AsyncClient(base_url=base, timeout=600) as http:
        seconds = await seed(http, wallets[0]["address"], main_items)
        await seed(http, wallets[1]["address"], naive_items)
    console.print(
        f"seeded {len(main_items):,} transactions on the merchant wallet in {seconds:.1f} s "
        f"({args.invoices:,} pay invoices), {len(naive_items):,} on the sample wallet; "
        f"page size {args.page_size}"
    )
    ceiling = await fetch_only(base, merchant, args.page_size)
    naive = await run_watcher("page size 1 (baseline)", factory, redis, base, sample, 1)
    main_run = await run_watcher(
        f"watcher, page size {args.page_size}", factory, redis, base, merchant, args.page_size
    )
    report([ceiling, main_run, naive], ceiling, naive)

    console.print("exactly once:")
    incoming = len(main_items) + len(naive_items)
    ok = await money_check(factory, tenant_id, args.invoices + naive_invoices, incoming)
    async with factory() as session:
        await session.execute(update(TonWatchCursor).values(last_lt=0))
        await session.commit()
    started = time.perf_counter()
    again = await asyncio.gather(
        *(
            run_watcher(f"re-read {n}", factory, redis, base, merchant, args.page_size)
            for n in (1, 2)
        ),
        run_watcher("re-read sample", factory, redis, base, sample, args.page_size),
    )
    scanned = sum(run.transactions for run in again)
    credited = sum(run.matched for run in again)
    console.print(
        f"  re-read from lt 0 by two watchers at once: {scanned:,} transactions scanned in "
        f"{time.perf_counter() - started:.1f} s, {credited} credited"
    )
    ok = await money_check(factory, tenant_id, args.invoices + naive_invoices, incoming) and ok
    ok = ok and credited == 0
    console.print("[green]money check passed[/]" if ok else "[red]money check FAILED[/]")
    return 0 if ok else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=2_000)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--naive", type=int, default=3_000)
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
