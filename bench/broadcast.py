"""Broadcasts against the Telegram emulator's real flood limits: rate, duplicates, losses.

    .venv/bin/python -m bench.broadcast [--database-url URL] [--redis-url URL]
                                        [--fans 900] [--tenants 10] [--fans-each 300]

The emulator (Telegram's limits: 30 messages/s per bot with a burst of 30, about one per
second per chat, 429 with ``retry_after``) runs in this process and stamps every message a
bot sends; the arq workers run in their own processes (``python -m bench.broadcast worker``)
with production timings, as they would next to a remote Telegram.

1. **One tenant**, ``--fans`` fans: sustained messages/second (``(n - 1) / span`` from the
   end of the first second, when both bursts are spent, to the last message) and its ratio
   to the bot's 30/s limit (target 95–100 %), next to a baseline measured in the same
   run — a bare aiogram loop that sends to the same number of chats at exactly 1/30 s
   intervals (sleeping out any 429), no database, no Redis: what a single process gets out
   of the limit with no bookkeeping at all. Then
   duplicates (a fan with two copies) and losses (a fan with none), both must be 0, and the
   429s the broadcast met.
2. **Ten tenants at once** (``--tenants``, ``--fans-each``), two workers: every bot has its
   own 30/s, except the first, whose limit in the emulator is cut to 15/s while we still
   pace it at 30/s, so it meets real 429s and pauses. Each tenant's rate against its own
   limit shows that one tenant's 429s do not slow the others.

Without ``--database-url`` a throwaway PostgreSQL database is created on 127.0.0.1 (migrated,
dropped at the end). Redis defaults to ``redis://127.0.0.1:6379/12``, which is FLUSHED first.
Prints figures; exits non-zero only when a fan got a message twice or not at all.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramRetryAfter
from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import SECRET_KEY, database, webhook_settings
from core import crypto
from core.db import create_engine, create_session_factory
from core.models import Broadcast, BroadcastStatus, Tenant, TenantBot, User
from core.queue import unit_of_work
from core.redis import close_redis, create_redis
from core.settings import Settings
from devtools.serving import serve_app
from devtools.telegram import EmulatorSettings, Limits, create_app
from devtools.telegram.emulator import Emulator
from jobs.broadcasts import service

LIMIT = 30.0
Factory = async_sessionmaker[AsyncSession]
console = Console(width=110)


@dataclass
class Seeded:
    tenant_id: int
    bot_id: int
    token: str
    chats: list[int]
    default_language: str = "en"

    @property
    def id(self) -> int:  # what the service needs of a tenant
        return self.tenant_id


@dataclass
class Stamps:
    """When each bot message reached the emulator, per bot and chat."""

    times: dict[int, list[float]] = field(default_factory=lambda: defaultdict(list))
    per_chat: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))

    def install(self, emulator: Emulator) -> None:
        state = emulator.state
        original = state.add_message

        def add_message(bot: Any, chat_id: int, *args: Any, **kwargs: Any) -> Any:
            stored = original(bot, chat_id, *args, **kwargs)
            if kwargs.get("from_bot"):
                self.times[bot.id].append(time.monotonic())
                self.per_chat[(bot.id, chat_id)] += 1
            return stored

        state.add_message = add_message  # type: ignore[method-assign]

    def rate(self, bot_id: int) -> float:
        """Sustained messages/s: from the end of the first second (when Telegram's burst
        allowance and our own small burst are spent) to the last message."""
        times = self.times[bot_id]
        if len(times) < 2:
            return 0.0
        steady = [t for t in times if t >= times[0] + 1.0] or times
        if len(steady) < 2:
            return (len(times) - 1) / (times[-1] - times[0])
        return (len(steady) - 1) / (steady[-1] - steady[0])

    def check(self, seeded: Seeded) -> tuple[int, int]:
        copies = [self.per_chat[(seeded.bot_id, chat)] for chat in seeded.chats]
        return sum(max(0, n - 1) for n in copies), sum(1 for n in copies if n == 0)


async def seed(emulator: Emulator, factory: Factory, name: str, fans: int) -> Seeded:
    state = emulator.state
    bot = state.create_bot(f"{name}_bot", name)
    users = [state.create_user(f"Fan {i}") for i in range(fans)]
    for user in users:
        bot.started_by.add(user.id)
    async with factory() as session:
        tenant = Tenant(name=name, plan="enterprise", config={})
        session.add(tenant)
        await session.flush()
        session.add(
            TenantBot(
                tenant_id=tenant.id,
                telegram_bot_id=bot.id,
                username=bot.username,
                token_encrypted=crypto.encrypt(bot.token),
            )
        )
        now = datetime.now(UTC)
        await session.execute(
            insert(User),
            [
                {
                    "tenant_id": tenant.id,
                    "telegram_id": u.id,
                    "first_name": u.first_name,
                    "is_blocked": False,
                    "last_seen_at": now,
                    "created_at": now,
                }
                for u in users
            ],
        )
        await session.commit()
        return Seeded(tenant.id, bot.id, bot.token, [u.id for u in users])


async def start(factory: Factory, redis: Any, seeded: Seeded) -> int:
    async with unit_of_work(factory, redis) as session:
        draft = await service.create_draft(
            session, seeded, by_telegram_id=1, text="<b>Bench</b> broadcast"
        )
        broadcast = await service.start(session, seeded, draft.id)
        return broadcast.id


async def wait_done(factory: Factory, ids: list[int], within: float) -> list[Broadcast]:
    deadline = time.monotonic() + within
    while True:
        async with factory() as session:
            rows = list(await session.scalars(select(Broadcast).where(Broadcast.id.in_(ids))))
        if all(row.status == BroadcastStatus.COMPLETED for row in rows):
            return rows
        if time.monotonic() > deadline:
            raise TimeoutError(f"broadcasts not finished: {[r.status for r in rows]}")
        await asyncio.sleep(0.5)


@contextlib.asynccontextmanager
async def workers(settings: Settings, count: int) -> AsyncIterator[None]:
    env = {
        **os.environ,
        "ATELIER_DATABASE_URL": settings.database_url,
        "ATELIER_REDIS_URL": settings.redis_url,
        "ATELIER_SECRET_KEY": SECRET_KEY,
        "ATELIER_TELEGRAM_API_BASE": settings.telegram_api_base,
        "ATELIER_BROADCAST_RATE": str(LIMIT),
        "ATELIER_LOG_LEVEL": "WARNING",
        "ATELIER_ENVIRONMENT": "test",
    }
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.broadcast", "worker", env=env
        )
        for _ in range(count)
    ]
    try:
        yield
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            await process.wait()


async def baseline(base_url: str, emulator: Emulator, chats: int, stamps: Stamps) -> float:
    """A bare aiogram loop at exactly the limit, 429s slept out: the no-bookkeeping ceiling."""
    state = emulator.state
    record = state.create_bot("baseline_bot", "Baseline")
    users = [state.create_user(f"B{i}") for i in range(chats)]
    for user in users:
        record.started_by.add(user.id)
    session = AiohttpSession(api=TelegramAPIServer.from_base(base_url))
    bot = Bot(record.token, session=session)
    try:
        next_at = time.monotonic()
        for user in users:
            next_at += 1 / LIMIT
            while True:
                try:
                    await bot.send_message(user.id, "<b>Bench</b> broadcast", parse_mode="HTML")
                    break
                except TelegramRetryAfter as exc:
                    await asyncio.sleep(exc.retry_after)
                    next_at = time.monotonic()
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
    finally:
        await session.close()
    return stamps.rate(record.id)


async def run(database_url: str, redis_url: str, args: argparse.Namespace) -> bool:
    app = create_app(EmulatorSettings(limits=Limits()))
    emulator: Emulator = app.state.emulator
    stamps = Stamps()
    stamps.install(emulator)
    async with serve_app(app) as base_url:
        settings = (await webhook_settings(database_url, redis_url)).model_copy(
            update={"telegram_api_base": base_url}
        )
        engine = create_engine(settings)
        factory = create_session_factory(engine)
        redis = create_redis(settings)
        try:
            return await _measure(args, settings, factory, redis, emulator, base_url, stamps)
        finally:
            await close_redis(redis)
            await engine.dispose()
            await emulator.close()


async def _measure(
    args: argparse.Namespace,
    settings: Settings,
    factory: Factory,
    redis: Any,
    emulator: Emulator,
    base_url: str,
    stamps: Stamps,
) -> bool:
    single = await seed(emulator, factory, "single", args.fans)
    many = [
        await seed(emulator, factory, f"tenant{i}", args.fans_each) for i in range(args.tenants)
    ]
    emulator.state.bots[many[0].bot_id].limits = Limits(bot_per_second=LIMIT / 2, bot_burst=15)

    console.print(f"baseline: a bare aiogram loop at 1/{LIMIT:.0f} s to {args.fans} chats…")
    base_rate = await baseline(base_url, emulator, args.fans, stamps)
    async with workers(settings, 2):
        console.print(f"one tenant: {args.fans} fans…")
        first = await start(factory, redis, single)
        [row] = await wait_done(factory, [first], args.fans / LIMIT * 4 + 60)
        console.print(f"ten tenants at once: {args.tenants} × {args.fans_each} fans…")
        cpu = _cpu()
        ids = [await start(factory, redis, seeded) for seeded in many]
        rows = await wait_done(factory, ids, args.fans_each / LIMIT * 8 + 90)
        here = _cpu()[0] - cpu[0]
    workers_cpu = _cpu()[1] - cpu[1]  # children are counted once they have exited
    ok = _report_single(single, row, stamps, base_rate)
    ok = _report_many(many, rows, stamps) and ok
    sent = len(many) * args.fans_each
    console.print(
        f"CPU per message: workers {workers_cpu / (sent + args.fans) * 1000:.2f} ms (both, over "
        f"both runs, start-up included); the emulator's process during the ten-tenant run "
        f"{here / sent * 1000:.2f} ms"
    )
    return ok


def _cpu() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, children.ru_utime + children.ru_stime


def _report_single(seeded: Seeded, row: Broadcast, stamps: Stamps, base_rate: float) -> bool:
    rate = stamps.rate(seeded.bot_id)
    duplicates, losses = stamps.check(seeded)
    table = Table(title=f"One tenant, {len(seeded.chats):,} fans, Telegram limit {LIMIT:.0f}/s")
    for column in ("run", "messages/s", "× limit", "× baseline", "duplicates", "losses", "429s"):
        table.add_column(column, justify="right")
    table.add_row(
        "atelier broadcast",
        f"{rate:.2f}",
        f"{rate / LIMIT:.1%}",
        f"{rate / base_rate:.2f}",
        str(duplicates),
        str(losses),
        str(row.throttled),
    )
    table.add_row(
        "baseline: bare loop", f"{base_rate:.2f}", f"{base_rate / LIMIT:.1%}", "1.00", "-", "-", "-"
    )
    console.print(table)
    return duplicates == 0 and losses == 0


def _report_many(many: list[Seeded], rows: list[Broadcast], stamps: Stamps) -> bool:
    by_tenant = {row.tenant_id: row for row in rows}
    table = Table(title=f"{len(many)} tenants at once, {len(many[0].chats):,} fans each")
    for column in (
        "tenant",
        "its limit",
        "messages/s",
        "× its limit",
        "duplicates",
        "losses",
        "429s",
    ):
        table.add_column(column, justify="right")
    ok = True
    everything = [t for seeded in many for t in stamps.times[seeded.bot_id]]
    for index, seeded in enumerate(many):
        limit = LIMIT / 2 if index == 0 else LIMIT
        rate = stamps.rate(seeded.bot_id)
        duplicates, losses = stamps.check(seeded)
        ok = ok and duplicates == 0 and losses == 0
        table.add_row(
            f"{index}" + (" (limit cut)" if index == 0 else ""),
            f"{limit:.0f}/s",
            f"{rate:.2f}",
            f"{rate / limit:.1%}",
            str(duplicates),
            str(losses),
            str(by_tenant[seeded.tenant_id].throttled),
        )
    console.print(table)
    span = max(everything) - min(everything)
    total = sum(stamps.rate(seeded.bot_id) for seeded in many)
    console.print(
        f"all tenants together: {len(everything):,} messages in {span:.1f}s; the sum of their "
        f"sustained rates {total:.1f}/s; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} CPUs"
    )
    return ok


def worker_main() -> None:
    from core.settings import get_settings
    from jobs.worker import run_worker

    settings = get_settings()
    asyncio.run(run_worker(settings, cron_jobs=[], max_jobs=20))


async def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(prog="python -m bench.broadcast", description=__doc__)
    parser.add_argument("--database-url", help="postgresql+asyncpg://... (default: throwaway)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/12", help="FLUSHED first")
    parser.add_argument("--fans", type=int, default=900)
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--fans-each", type=int, default=300)
    args = parser.parse_args(argv)
    async with database(args.database_url, "broadcast") as url:
        return await run(url, args.redis_url, args)


if __name__ == "__main__":
    if sys.argv[1:2] == ["worker"]:
        worker_main()
    else:
        sys.exit(0 if asyncio.run(main()) else 1)
