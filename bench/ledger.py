"""Ledger throughput: durable debits per second with many concurrent writers.

    .venv/bin/python -m bench.ledger [--database-url URL] [--writers 64] [--seconds 5]

Without ``--database-url`` it creates a throwaway database on 127.0.0.1 PostgreSQL and drops it
afterwards. Every debit is its own idempotent movement with its own entry, durable before its
caller gets the answer (``synchronous_commit`` stays on); the ``commit_now`` rows share COMMITs
between concurrent debits (group commit), the others commit each debit alone.
Prints figures only; it never fails on time. See bench/README.md for how to read them.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, cast

import asyncpg
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table as RichTable
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
)

from bench.common import database
from core import ledger
from core.db import Base, create_engine, create_session_factory, session_scope
from core.errors import InsufficientFundsError
from core.ledger.batching import Stats
from core.ledger.service import group_commit
from core.models import LedgerAccount, LedgerEntry, Tenant, User
from core.settings import Settings

FUNDING = 10**12  # enough that no timed debit is refused
HISTORY = 20_000  # entries already in the ledger before the timed runs (see _seed_history)

console = Console()
Factory = async_sessionmaker[AsyncSession]


@dataclass
class Figure:
    name: str
    debits: int
    seconds: float
    refused: int = 0
    batching: str = ""  # for group-commit rows: transactions and their sizes

    @property
    def rate(self) -> float:
        return self.debits / self.seconds if self.seconds else 0.0


async def _timed(
    name: str,
    writers: int,
    seconds: float,
    one: Callable[[int, int], Awaitable[bool]],
) -> Figure:
    """Run ``one(writer, n)`` in a loop on ``writers`` tasks for ``seconds``; count the debits."""
    done = 0
    refused = 0
    deadline = 0.0
    start_gate = asyncio.Event()

    async def writer(w: int) -> None:
        nonlocal done, refused
        await start_gate.wait()
        n = 0
        while time.perf_counter() < deadline:
            if await one(w, n):
                done += 1
            else:
                refused += 1
            n += 1

    with Progress(
        TextColumn(f"[bold]{name}"),
        BarColumn(),
        TextColumn("{task.fields[rate]:>9} /s"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    ) as progress:
        bar = progress.add_task(name, total=seconds, rate="…")
        tasks = [asyncio.create_task(writer(w)) for w in range(writers)]
        began = time.perf_counter()
        deadline = began + seconds
        start_gate.set()
        while not all(t.done() for t in tasks):
            await asyncio.sleep(0.2)
            elapsed = time.perf_counter() - began
            progress.update(bar, completed=min(elapsed, seconds), rate=f"{done / elapsed:,.0f}")
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - began
    figure = Figure(name, done, elapsed, refused)
    console.print(f"  {name}: {figure.rate:,.0f} debits/s ({done:,} in {elapsed:.1f} s)")
    return figure


async def _setup_accounts(factory: Factory, count: int) -> tuple[int, list[int]]:
    """A tenant with ``count`` funded fan accounts."""
    async with session_scope(factory) as s:
        tenant = Tenant(name="bench")
        s.add(tenant)
        await s.flush()
        users = [User(tenant_id=tenant.id, telegram_id=10_000 + i) for i in range(count)]
        s.add_all(users)
        await s.flush()
        ids = []
        for i, user in enumerate(users):
            account = await ledger.get_or_create_account(s, tenant.id, user_id=user.id)
            await ledger.credit(s, tenant.id, account.id, FUNDING, idempotency_key=f"fund:{i}")
            ids.append(account.id)
        return tenant.id, ids


async def _seed_history(engine: AsyncEngine, factory: Factory) -> None:
    """Give the ledger a past, then ANALYZE, as autovacuum keeps a live database analysed.

    On a brand-new table the planner has no statistics and may plan the idempotency-key guard
    as a scan of the tenant's entries instead of a probe of the unique key (the prepared, cached
    plan then stays so for the whole run): every debit would cost more than the one before, and
    the figures would measure a table nobody runs in production. The history belongs to another
    tenant, in one account whose balance is the sum of its entries, so the final check holds.
    """
    async with session_scope(factory) as s:
        tenant = Tenant(name="bench history")
        s.add(tenant)
        await s.flush()
        account = await ledger.get_or_create_account(s, tenant.id)
        conn = await s.connection()
        await conn.exec_driver_sql(
            "INSERT INTO ledger_entries (tenant_id, account_id, kind, amount, reserved_delta,"
            " balance_after, reserved_after, idempotency_key, meta, created_at)"
            " SELECT $1, $2, 'credit', 1, 0, g, 0, 'history:' || g, '{}', now()"
            " FROM generate_series(1, $3::int) AS g",
            (tenant.id, account.id, HISTORY),
        )
        await conn.exec_driver_sql(
            "UPDATE ledger_accounts SET balance = $1 WHERE id = $2", (HISTORY, account.id)
        )
    async with engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.exec_driver_sql("ANALYZE ledger_accounts, ledger_entries")


def _service_debit(
    factory: Factory, tenant_id: int, accounts: list[int], tag: str
) -> Callable[[int, int], Awaitable[bool]]:
    async def one(w: int, n: int) -> bool:
        try:
            async with session_scope(factory) as s:
                await ledger.debit(
                    s,
                    tenant_id,
                    accounts[w % len(accounts)],
                    1,
                    idempotency_key=f"{tag}:{w}:{n}",
                    reason="bench",
                )
            return True
        except InsufficientFundsError:
            return False

    return one


def _commit_now_debit(
    engine: AsyncEngine, tenant_id: int, accounts: list[int], tag: str
) -> Callable[[int, int], Awaitable[bool]]:
    async def one(w: int, n: int) -> bool:
        try:
            await ledger.commit_now(
                engine,
                ledger.debit,
                tenant_id,
                accounts[w % len(accounts)],
                1,
                idempotency_key=f"{tag}:{w}:{n}",
                reason="bench",
            )
            return True
        except InsufficientFundsError:
            return False

    return one


def _naive_orm_debit(
    factory: Factory, tenant_id: int, account_id: int
) -> Callable[[int, int], Awaitable[bool]]:
    """Baseline: the textbook ORM way, correct but slow — lock the row, check, write, flush."""

    async def one(w: int, n: int) -> bool:
        async with session_scope(factory) as s:
            account = await s.scalar(
                select(LedgerAccount)
                .where(LedgerAccount.tenant_id == tenant_id, LedgerAccount.id == account_id)
                .with_for_update()
            )
            assert account is not None
            if account.balance - account.reserved < 1:
                return False
            account.balance -= 1
            s.add(
                LedgerEntry(
                    tenant_id=tenant_id,
                    account_id=account_id,
                    kind=ledger.EntryKind.DEBIT,
                    amount=-1,
                    reserved_delta=0,
                    balance_after=account.balance,
                    reserved_after=account.reserved,
                    idempotency_key=f"naive:{w}:{n}",
                    meta={},
                )
            )
            await s.flush()
        return True

    return one


async def _asyncpg_insert_only(dsn: str, writers: int, seconds: float) -> Figure:
    """Baseline: bare asyncpg, one autocommitted INSERT per transaction, no hot row.

    The most commits per second this machine gives 64 writers at all (WAL fsync, round trips).
    """
    pool = await asyncpg.create_pool(dsn, min_size=writers, max_size=writers)
    assert pool is not None
    async with pool.acquire() as conn:
        await conn.execute(
            "CREATE TABLE bench_insert_only (id bigserial PRIMARY KEY, w int, n int)"
        )

    async def one(w: int, n: int) -> bool:
        async with pool.acquire() as conn:
            await conn.execute("INSERT INTO bench_insert_only (w, n) VALUES ($1, $2)", w, n)
        return True

    try:
        return await _timed("baseline: asyncpg INSERT-only, no hot row", writers, seconds, one)
    finally:
        async with pool.acquire() as conn:
            await conn.execute("DROP TABLE bench_insert_only")
        await pool.close()


def _copy(stats: Stats) -> Stats:
    return copy.copy(stats)


def _batching(before: Stats, after: Stats) -> str:
    batches = after.batches - before.batches
    items = after.items - before.items
    text = f"{batches:,} tx, {items / batches:.1f} debits/tx"
    pipelined = after.pipelined - before.pipelined
    if pipelined:
        text += f", {pipelined:,} pipelined"
    fallbacks = after.fallbacks - before.fallbacks
    if fallbacks:
        text += f", {fallbacks:,} fell back"
    return text


def _ledger_tables() -> list[Table]:
    """The ledger's tables and those they point at: the bench needs no other part of the schema
    (and some of it wants server extensions a throwaway database does not have)."""
    seen: set[Table] = set()
    stack = [cast(Table, LedgerAccount.__table__), cast(Table, LedgerEntry.__table__)]
    while stack:
        table = stack.pop()
        if table not in seen:
            seen.add(table)
            stack.extend(fk.column.table for fk in table.foreign_keys)
    return [t for t in Base.metadata.sorted_tables if t in seen]


async def _final_check(factory: Factory) -> bool:
    async with factory() as s:
        totals = await ledger.ledger_totals(s)
        mismatches = await ledger.find_balance_mismatches(s)
    table = RichTable(title="final balance check", show_header=False)
    table.add_row("accounts / entries", f"{totals.accounts:,} / {totals.entries:,}")
    table.add_row("sum of balances", f"{totals.balance:,}")
    table.add_row("sum of entry amounts", f"{totals.entry_balance:,}")
    table.add_row(
        "sum of reserved / of reserve deltas", f"{totals.reserved} / {totals.entry_reserved}"
    )
    table.add_row("accounts negative or over-reserved", str(totals.invalid_accounts))
    table.add_row("accounts not equal to their entries", str(len(mismatches)))
    ok = totals.consistent and not mismatches
    table.add_row("verdict", "[green]consistent[/]" if ok else "[red]INCONSISTENT[/]")
    console.print(table)
    return ok


async def _server_facts(engine: AsyncEngine) -> str:
    async with engine.connect() as conn:
        rows: list[Any] = list(
            await conn.exec_driver_sql(
                "SELECT name, setting FROM pg_settings WHERE name IN "
                "('synchronous_commit', 'fsync', 'wal_sync_method', 'commit_delay')"
            )
        )
        version = (await conn.exec_driver_sql("SHOW server_version")).scalar()
    return f"PostgreSQL {version}, " + ", ".join(f"{name}={setting}" for name, setting in rows)


async def run(url: str, writers: int, seconds: float) -> None:
    engine = create_engine(Settings(database_url=url, db_pool_size=writers))
    factory = create_session_factory(engine)
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all, tables=_ledger_tables())
    console.print(
        f"[bold]ledger bench[/]: {writers} writers, {seconds:g} s per run, CPUs={os.cpu_count()}"
    )
    console.print("  " + await _server_facts(engine))
    tenant_id, accounts = await _setup_accounts(factory, writers)
    await _seed_history(engine, factory)
    hot = accounts[:1]

    runs: list[tuple[str, Callable[[int, int], Awaitable[bool]]]] = [
        (
            "commit_now(ledger.debit), ONE account [group commit]",
            _commit_now_debit(engine, tenant_id, hot, "now-hot"),
        ),
        (
            f"commit_now(ledger.debit), {len(accounts)} accounts [group commit]",
            _commit_now_debit(engine, tenant_id, accounts, "now-spread"),
        ),
        (
            "ledger.debit in session_scope, ONE account",
            _service_debit(factory, tenant_id, hot, "tx-hot"),
        ),
        (
            f"ledger.debit in session_scope, {len(accounts)} accounts",
            _service_debit(factory, tenant_id, accounts, "tx-spread"),
        ),
        (
            "baseline: naive ORM FOR UPDATE, ONE account",
            _naive_orm_debit(factory, tenant_id, hot[0]),
        ),
    ]
    figures = []
    stats = group_commit.stats(engine)
    for name, one in runs:
        before = _copy(stats)
        figure = await _timed(name, writers, seconds, one)
        if stats.batches > before.batches:
            figure.batching = _batching(before, stats)
            console.print(f"    group commit: {figure.batching}")
        figures.append(figure)
    await engine.dispose()  # hand its connections back before the bare asyncpg pool opens its own
    figures.append(await _asyncpg_insert_only(url.replace("+asyncpg", ""), writers, seconds))
    one_account, many_accounts = figures[0], figures[1]
    naive, ceiling = figures[4], figures[5]
    console.print()
    table = RichTable(title=f"durable debits per second, {writers} concurrent writers")
    table.add_column("run")
    table.add_column("debits/s", justify="right")
    table.add_column("× naive", justify="right")
    table.add_column("% of ceiling", justify="right")
    table.add_column("group commit", justify="right")
    for f in figures:
        table.add_row(
            f.name,
            f"{f.rate:,.0f}",
            f"{f.rate / naive.rate:.1f}" if naive.rate else "-",
            f"{100 * f.rate / ceiling.rate:.0f} %" if ceiling.rate else "-",
            f.batching or "no",
        )
    console.print(table)
    for label, f in (("ONE account", one_account), (f"{writers} accounts", many_accounts)):
        ratio = f"{f.rate / naive.rate:.1f}× naive" if naive.rate else "naive: -"
        console.print(f"group commit, {label}: {f.rate:,.0f} debits/s ({ratio})")
    verdict = "met" if one_account.rate >= 2000 else "NOT met"
    console.print(f"target ≥ 2,000 debits/s on ONE account: {verdict}")
    console.print(f"[dim]load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs[/]")
    await _final_check(create_session_factory(engine))
    await engine.dispose()


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger", description=__doc__)
    parser.add_argument("--database-url", help="postgresql+asyncpg://... (default: throwaway)")
    parser.add_argument("--writers", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args(argv)
    async with database(args.database_url, "ledger") as url:
        await run(url, args.writers, args.seconds)


if __name__ == "__main__":
    asyncio.run(main())
