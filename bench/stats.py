"""Stats: the panel's numbers from the daily rollups next to computing them from the events,
and the bot's activity hook next to a Redis round trip per update.

    .venv/bin/python -m bench.stats [--database-url URL] [--redis-url URL] [--fans 20000]
                                    [--tenants 20] [--requests 200]

Without ``--database-url`` it creates a throwaway database on 127.0.0.1 PostgreSQL and drops it
afterwards. Seeds one big tenant (``--fans`` fans over 90 days, with activity days, payments
and generations) and ``--tenants`` small ones, then measures, in this run:

- the backfill (90 days, every tenant) and one cron run (yesterday and today, every tenant);
- ``GET /creator/stats?days=30`` as the service computes it, from the rollups (``report``),
  against the baseline of computing the same numbers from the events for that tenant
  (the rollup's sources for 30 days, without writing);
- the user middleware's activity check when the fan's day is already recorded (in-process)
  against the ``SET NX`` round trip it avoids.

Prints figures only; it never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import database
from core import migrate
from core.db import create_engine, create_session_factory, session_scope
from core.models import Job, Payment, Tenant, Tool, User, UserActivityDay
from core.redis import close_redis, create_redis
from core.settings import Settings
from tenants.stats import activity, service
from tenants.stats.sources import SOURCES, Window

console = Console()
Factory = async_sessionmaker[AsyncSession]
DAYS = 90
BATCH = 5000


async def _insert(session: AsyncSession, model: Any, rows: list[dict[str, Any]]) -> None:
    for offset in range(0, len(rows), BATCH):
        await session.execute(insert(model), rows[offset : offset + BATCH])


def _moment(today: date, rng: random.Random) -> datetime:
    day = today - timedelta(days=rng.randrange(DAYS))
    return datetime.combine(day, day_time(), UTC) + timedelta(seconds=rng.randrange(86_400))


async def seed(factory: Factory, *, fans: int, tenants: int, today: date) -> int:
    """One big tenant and ``tenants`` small ones; returns the big one's id."""
    rng = random.Random(8)
    async with session_scope(factory) as session:
        big = Tenant(name="Big Studio")
        small = [Tenant(name=f"Small {n}") for n in range(tenants)]
        session.add_all([big, *small])
        tool = Tool(
            slug="bench", category="image", kind="text_to_image", provider="offline",
            price=10, base_cost=2,
        )  # fmt: skip
        session.add(tool)
        await session.flush()
        users = [
            {"tenant_id": big.id, "telegram_id": n + 1, "created_at": _moment(today, rng)}
            for n in range(fans)
        ]
        for tenant in small:
            users += [
                {"tenant_id": tenant.id, "telegram_id": n + 1, "created_at": _moment(today, rng)}
                for n in range(max(fans // 100, 10))
            ]
        await _insert(session, User, users)
        ids = list(
            (await session.execute(User.__table__.select().with_only_columns(User.id)))
            .scalars()
            .all()
        )[:fans]
        days = {
            (user_id, today - timedelta(days=rng.randrange(DAYS)))
            for user_id in ids
            for _ in range(5)
        }
        await _insert(
            session,
            UserActivityDay,
            [
                {"tenant_id": big.id, "user_id": u, "day": d, "source": rng.choice(("bot", "app"))}
                for u, d in days
            ],
        )
        await _insert(
            session,
            Payment,
            [
                {
                    "tenant_id": big.id,
                    "telegram_payment_charge_id": f"bench-{n}",
                    "kind": rng.choice(("credits", "ppv", "vip")),
                    "telegram_user_id": 1,
                    "stars": rng.choice((50, 250, 500)),
                    "payload": "bench",
                    "created_at": _moment(today, rng),
                }
                for n in range(fans // 10)
            ],
        )
        jobs = []
        for n in range(fans // 2):
            created = _moment(today, rng)
            jobs.append(
                {
                    "tenant_id": big.id,
                    "user_id": ids[n % len(ids)],
                    "tool_id": tool.id,
                    "tool_slug": "bench",
                    "status": "succeeded",
                    "price": 10,
                    "created_at": created,
                    "finished_at": created + timedelta(seconds=30),
                }
            )
        await _insert(session, Job, jobs)
        rows = len(users) + len(days) + fans // 10 + len(jobs)
        console.print(f"seeded {rows:,} event rows ({fans:,} fans in the big tenant)")
        return big.id


async def timed(label: str, action: Callable[[], Awaitable[Any]], repeat: int) -> float:
    """Mean milliseconds of ``action`` over ``repeat`` runs (after one warm-up run)."""
    await action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await action()
        samples.append((time.perf_counter() - started) * 1000)
    console.print(f"  {label}: {statistics.mean(samples):.2f} ms (n={repeat})")
    return statistics.mean(samples)


async def run(args: argparse.Namespace) -> None:
    async with database(args.database_url, "stats") as url:
        await asyncio.to_thread(migrate.upgrade, url)
        settings = Settings(database_url=url, redis_url=args.redis_url)
        engine = create_engine(settings)
        factory = create_session_factory(engine)
        today = datetime.now(UTC).date()
        table = Table("measure", "figure", "ratio")
        try:
            tenant_id = await seed(factory, fans=args.fans, tenants=args.tenants, today=today)
            started = time.perf_counter()
            rows = await service.backfill(factory, days=DAYS, today=today)
            backfill_s = time.perf_counter() - started
            table.add_row(
                "backfill, 90 days, every tenant", f"{backfill_s:.2f} s ({rows:,} rows)", ""
            )

            async def cron() -> None:
                async with session_scope(factory) as session:
                    await service.rollup_recent(session, datetime.now(UTC))

            cron_ms = await timed("cron run", cron, 5)
            table.add_row("cron run (yesterday + today, every tenant)", f"{cron_ms:.1f} ms", "")

            async with factory() as session:

                async def from_rollups() -> None:
                    await service.report(session, tenant_id, days=30, today=today)

                async def from_events() -> None:
                    window = Window(today - timedelta(days=29), today, tenant_id)
                    for source in SOURCES:
                        await source.collect(session, window)

                fast = await timed("report from rollups", from_rollups, args.requests)
                slow = await timed(
                    "same numbers from events", from_events, max(args.requests // 10, 5)
                )
            table.add_row(
                "stats?days=30 from rollups", f"{fast:.2f} ms", f"{slow / fast:.0f}× faster"
            )
            table.add_row("baseline: from the events", f"{slow:.2f} ms", "1×")
            await _hook(args, table)
        finally:
            await engine.dispose()
        console.print(table)


async def _hook(args: argparse.Namespace, table: Table) -> None:
    """What an update costs the activity hook once the fan's day is recorded."""
    now = time.time()
    loops = 200_000
    started = time.perf_counter()
    for _ in range(loops):
        activity.bot_visit_due(now - 30, False, now)
    in_process = (time.perf_counter() - started) / loops * 1e6
    redis = create_redis(url=args.redis_url)
    try:
        key = "bench:stats:gate"
        await redis.delete(key)
        rounds = 2000
        started = time.perf_counter()
        for _ in range(rounds):
            await redis.set(key, b"1", nx=True, ex=60)
        round_trip = (time.perf_counter() - started) / rounds * 1e6
        await redis.delete(key)
    finally:
        await close_redis(redis)
    table.add_row("activity hook, day already recorded", f"{in_process:.2f} µs/update", "")
    table.add_row(
        "baseline: SET NX per update",
        f"{round_trip:.1f} µs/update",
        f"{round_trip / in_process:.0f}× more",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--database-url")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--fans", type=int, default=20_000)
    parser.add_argument("--tenants", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    asyncio.run(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
