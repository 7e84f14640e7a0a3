"""The fan's feed: page latency with access checks, first and deep pages, next to plain SQL.

    .venv/bin/python -m bench.feed [--database-url URL] [--posts 20000] [--tenants 5]
                                   [--requests 300] [--concurrency 16]

Seeds ``--tenants`` tenants with ``--posts`` published posts each (60 % free, 20 %
pay-per-view, 10 % VIP, 10 % task; one picture each), a fan of the first tenant with 1,000
unlocked posts and a VIP subscription, then ``ANALYZE``. Measured, each ``--requests`` times:

- :func:`tenants.content.service.feed`, page 1 and page 200 (20 posts a page, the keyset
  cursor on pinned, date, id), with everything the API needs: media, packages, the fan's
  unlocks and open subscriptions;
- baselines in the same run: the same posts' page 1 as one plain ``SELECT`` (no access, no
  media), and page 200 as ``OFFSET 3980`` — what a feed without the keyset would cost;
- pages/second with ``--concurrency`` sessions reading page 1 at once.

Without ``--database-url`` a throwaway database is created on 127.0.0.1 and dropped. Prints
figures; never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from statistics import quantiles
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bench.common import database
from core import migrate
from core.db import create_engine, create_session_factory, utcnow
from core.models import (
    File,
    Post,
    PostAccess,
    PostMedia,
    PostPackage,
    PostStatus,
    PostUnlock,
    Tenant,
    User,
    VipPackage,
    VipSubscription,
)
from core.settings import Settings
from tenants.content import service as content
from tenants.content.repository import visible
from tenants.content.service import Viewer

console = Console()
Factory = async_sessionmaker[AsyncSession]
PAGE = 20
DEEP = 200
ACCESS = [PostAccess.FREE] * 6 + [PostAccess.PPV] * 2 + [PostAccess.VIP, PostAccess.TASK]


async def _seed_tenant(session: AsyncSession, n: int, posts: int) -> tuple[int, int]:
    tenant = Tenant(name=f"bench {n}")
    session.add(tenant)
    await session.flush()
    owner = User(tenant_id=tenant.id, telegram_id=1_000 + n)
    fan = User(tenant_id=tenant.id, telegram_id=2_000 + n)
    package = VipPackage(tenant_id=tenant.id, name="Gold", price_stars=100)
    session.add_all([owner, fan, package])
    await session.flush()
    now = utcnow()
    files = [
        {
            "tenant_id": tenant.id,
            "user_id": owner.id,
            "name": f"{i}.jpg",
            "storage_key": f"bench/{tenant.id}/{i}",
            "mime_type": "image/jpeg",
            "size": 1000,
            "sha256": "0" * 64,
            "source": "upload",
            "provenance": {},
        }
        for i in range(posts)
    ]
    file_ids = (await session.scalars(insert(File).returning(File.id), files)).all()
    rows = [
        {
            "tenant_id": tenant.id,
            "author_id": owner.id,
            "text": f"post {i}",
            "teaser": "",
            "access": ACCESS[i % len(ACCESS)].value,
            "price_stars": 10 if ACCESS[i % len(ACCESS)] == PostAccess.PPV else None,
            "unlock_task_id": 1 if ACCESS[i % len(ACCESS)] == PostAccess.TASK else None,
            "status": PostStatus.PUBLISHED.value,
            "published_at": now - timedelta(minutes=posts - i),
            "pinned": i in (3, 7),
        }
        for i in range(posts)
    ]
    post_ids = (await session.scalars(insert(Post).returning(Post.id), rows)).all()
    media = [
        {"tenant_id": tenant.id, "post_id": p, "file_id": f, "position": 0, "kind": "photo"}
        for p, f in zip(post_ids, file_ids, strict=True)
    ]
    await session.execute(insert(PostMedia), media)
    vip_posts = [p for i, p in enumerate(post_ids) if ACCESS[i % len(ACCESS)] == PostAccess.VIP]
    links = [{"tenant_id": tenant.id, "post_id": p, "package_id": package.id} for p in vip_posts]
    await session.execute(insert(PostPackage), links)
    ppv = [p for i, p in enumerate(post_ids) if ACCESS[i % len(ACCESS)] == PostAccess.PPV]
    unlocks = [
        {
            "tenant_id": tenant.id,
            "post_id": p,
            "user_id": fan.id,
            "source": "ppv",
            "source_ref": f"c{p}",
        }
        for p in ppv[:1000]
    ]
    if unlocks:
        await session.execute(insert(PostUnlock), unlocks)
    session.add(
        VipSubscription(
            tenant_id=tenant.id,
            user_id=fan.id,
            package_id=package.id,
            period_end=now + timedelta(days=30),
        )
    )
    await session.flush()
    return tenant.id, fan.id


async def _timed(call: Callable[[], Awaitable[Any]], requests: int) -> tuple[float, float]:
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    cuts = quantiles(samples, n=20)
    return cuts[9], cuts[18]  # p50, p95 in ms


async def run(settings: Settings, args: argparse.Namespace) -> None:
    await asyncio.to_thread(migrate.upgrade, settings.database_url)
    engine = create_engine(settings)
    factory: Factory = create_session_factory(engine)
    start = time.perf_counter()
    async with factory() as session:
        seeded = [await _seed_tenant(session, n, args.posts) for n in range(args.tenants)]
        await session.commit()
        await session.execute(text("ANALYZE"))
        await session.commit()  # statistics are transactional too
    console.print(
        f"seeded {args.tenants} tenants × {args.posts} posts in {time.perf_counter() - start:.1f} s"
    )
    tenant_id, fan_id = seeded[0]
    viewer = Viewer(fan_id)

    async def feed(cursor: str | None = None) -> content.FeedPage:
        async with factory() as session:
            return await content.feed(session, tenant_id, viewer, cursor=cursor, limit=PAGE)

    cursor = None
    for _ in range(DEEP - 1):
        cursor = (await feed(cursor)).next_cursor
    deep_cursor = cursor

    def plain(offset: int) -> Callable[[], Awaitable[Any]]:
        async def call() -> Any:
            async with factory() as session:
                statement = (
                    select(Post)
                    .where(Post.tenant_id == tenant_id, visible(utcnow()))
                    .order_by(Post.pinned.desc(), Post.published_at.desc(), Post.id.desc())
                    .offset(offset)
                    .limit(PAGE)
                )
                return (await session.scalars(statement)).all()

        return call

    first = await _timed(feed, args.requests)
    deep = await _timed(lambda: feed(deep_cursor), args.requests)
    base_first = await _timed(plain(0), args.requests)
    base_deep = await _timed(plain((DEEP - 1) * PAGE), args.requests)

    async def reader(stop: float) -> int:
        pages = 0
        while time.perf_counter() < stop:
            await feed()
            pages += 1
        return pages

    stop = time.perf_counter() + args.seconds
    pages = sum(await asyncio.gather(*(reader(stop) for _ in range(args.concurrency))))
    table = Table(title=f"feed of one fan: {args.tenants} tenants × {args.posts} posts")
    for column in ("run", "p50 ms", "p95 ms", "× baseline (p50)"):
        table.add_column(column, justify="right" if column != "run" else "left")
    table.add_row(
        "baseline: plain SELECT, page 1", f"{base_first[0]:.2f}", f"{base_first[1]:.2f}", "1.00"
    )
    table.add_row(
        "feed with access, page 1",
        f"{first[0]:.2f}",
        f"{first[1]:.2f}",
        f"{first[0] / base_first[0]:.2f}",
    )
    table.add_row(
        f"baseline: plain SELECT, OFFSET page {DEEP}",
        f"{base_deep[0]:.2f}",
        f"{base_deep[1]:.2f}",
        "1.00",
    )
    table.add_row(
        f"feed with access, keyset page {DEEP}",
        f"{deep[0]:.2f}",
        f"{deep[1]:.2f}",
        f"{deep[0] / base_deep[0]:.2f}",
    )
    console.print(table)
    console.print(
        f"{args.concurrency} concurrent readers: {pages / args.seconds:,.0f} pages/s "
        f"(page 1, {PAGE} posts with media and access)"
    )
    await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    async with database(args.database_url, "feed") as url:
        settings = Settings(database_url=url, db_pool_size=max(4, args.concurrency))
        await run(settings, args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url")
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--tenants", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5.0)
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
