"""Storage usage and the quota, from the maintained counters: exact under concurrent uploads,
following trash, purge and files written by others (generated outputs, cascades), and put
right by the reconciliation when something went behind their back."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import session_scope
from core.drive import service as drive
from core.models import DriveUsage, File, Tenant, User
from core.models.drive import FileSource
from core.settings import Settings
from jobs.drive_tasks import reconcile_all_drive_usage, reconcile_drive_usage
from tests.miniapp_api.auth.helpers import add_bot, sign_in
from tests.miniapp_api.drive.conftest import Fans

Factory = async_sessionmaker[AsyncSession]


async def upload(
    client: httpx.AsyncClient, h: dict[str, str], data: bytes, name: str
) -> httpx.Response:
    return await client.post("/api/v1/drive/files", params={"name": name}, content=data, headers=h)


async def usage(client: httpx.AsyncClient, h: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = (await client.get("/api/v1/drive/usage", headers=h)).json()
    return body


async def counters(factory: Factory, tenant_id: int) -> dict[int, tuple[int, int]]:
    async with factory() as session:
        rows = await session.execute(
            select(DriveUsage.user_key, DriveUsage.bytes, DriveUsage.files).where(
                DriveUsage.tenant_id == tenant_id
            )
        )
        return {key: (stored, files) for key, stored, files in rows}


async def sums(factory: Factory, tenant_id: int) -> dict[int, tuple[int, int]]:
    """What the counters must say, summed from the files themselves."""
    async with factory() as session:
        rows = (
            await session.execute(
                select(File.user_id, func.sum(File.size), func.count())
                .where(File.tenant_id == tenant_id)
                .group_by(File.user_id)
            )
        ).all()
    found = {user: (int(stored), int(files)) for user, stored, files in rows}
    found[0] = (sum(b for b, _ in found.values()), sum(n for _, n in found.values()))
    return found


async def test_concurrent_uploads_keep_the_counters_exact(
    client: httpx.AsyncClient, fans: Fans, session_factory: Factory
) -> None:
    sizes: dict[int, list[int]] = {fans.alice.user_id: [], fans.bob.user_id: []}

    async def one(i: int) -> None:
        fan = fans.alice if i % 3 else fans.bob
        data = b"u" * (100 + i)
        response = await upload(client, fan.headers, data, f"f{i}.txt")
        assert response.status_code == 201, response.text
        sizes[fan.user_id].append(len(data))

    await asyncio.gather(*(one(i) for i in range(40)))
    alice, bob = sum(sizes[fans.alice.user_id]), sum(sizes[fans.bob.user_id])
    assert await usage(client, fans.alice.headers) == {
        "user_bytes": alice,
        "tenant_bytes": alice + bob,
        "quota_bytes": 5 * 1024**3,
        "max_file_bytes": drive.MAX_FILE_BYTES,
    }
    assert (await usage(client, fans.bob.headers))["user_bytes"] == bob
    assert (await usage(client, fans.carol.headers))["tenant_bytes"] == 0  # another tenant
    tenant_id = fans.alice.bot.tenant_id
    assert await counters(session_factory, tenant_id) == await sums(session_factory, tenant_id)
    async with session_scope(session_factory) as session:
        assert await drive.reconcile_usage(session, tenant_id) == []


async def test_concurrent_uploads_cannot_overshoot_the_quota(
    client: httpx.AsyncClient, session_factory: Factory, settings: Settings
) -> None:
    bot = await add_bot(session_factory, plan="enterprise")
    async with session_scope(session_factory) as session:
        await session.execute(
            update(Tenant)
            .where(Tenant.id == bot.tenant_id)
            .values(config={"limits": {"storage_quota_bytes": 10_000}})
        )
    fans = [await sign_in(client, bot) for _ in range(3)]
    stored = Path(settings.storage_url.removeprefix("file://")) / "drive" / str(bot.tenant_id)

    def objects() -> int:  # the storage directory outlives a test; tenant ids start over
        return len([p for p in stored.rglob("*") if p.is_file()])

    before = objects()

    async def one(i: int) -> int:
        response = await upload(client, fans[i % 3].headers, bytes([65 + i]) * 1500, f"{i}.txt")
        assert response.status_code in (201, 413), response.text
        return response.status_code

    statuses = await asyncio.gather(*(one(i) for i in range(12)))
    assert sorted(statuses) == [201] * 6 + [413] * 6  # 6 × 1,500 fits in 10,000; 7 does not
    assert (await usage(client, fans[0].headers))["tenant_bytes"] == 9000
    assert objects() - before == 6  # the refused uploads' objects are gone


async def test_usage_follows_trash_purge_generated_files_and_cascades(
    client: httpx.AsyncClient, fans: Fans, session_factory: Factory
) -> None:
    h = fans.alice.headers
    ids = [(await upload(client, h, b"x" * n, f"{n}.txt")).json()["id"] for n in (10, 20, 40)]
    await upload(client, fans.bob.headers, b"b" * 5, "bob.txt")
    assert (await usage(client, h))["user_bytes"] == 70
    await client.delete(f"/api/v1/drive/files/{ids[0]}", headers=h)
    assert (await usage(client, h))["user_bytes"] == 70  # the trash still takes room
    await client.post(f"/api/v1/drive/files/{ids[0]}/restore", headers=h)
    await client.delete(f"/api/v1/drive/files/{ids[0]}", headers=h)
    await client.delete(f"/api/v1/drive/files/{ids[0]}/purge", headers=h)
    assert (await usage(client, h))["user_bytes"] == 60
    await client.delete(f"/api/v1/drive/files/{ids[1]}", headers=h)
    await client.delete("/api/v1/drive/trash", headers=h)
    after = await usage(client, h)
    assert (after["user_bytes"], after["tenant_bytes"]) == (40, 45)

    tenant_id = fans.alice.bot.tenant_id
    async with session_scope(session_factory) as session:  # a generation job's outputs
        session.add_all(
            File(
                tenant_id=tenant_id,
                user_id=fans.alice.user_id,
                name=f"out-{n}.png",
                storage_key=f"generated/{tenant_id}/{n}",
                mime_type="image/png",
                size=1000,
                sha256="0" * 64,
                source=FileSource.GENERATED,
                output_key=f"job:1:output:{n}",
                provenance={},
            )
            for n in range(2)
        )
    assert (await usage(client, h))["user_bytes"] == 2040
    async with session_scope(session_factory) as session:  # a fan deleted with their files
        await session.execute(delete(User).where(User.id == fans.bob.user_id))
    assert (await usage(client, h))["tenant_bytes"] == 2040
    assert await counters(session_factory, tenant_id) == await sums(session_factory, tenant_id)


async def test_quota_is_read_from_the_counter_and_reconciliation_repairs_it(
    client: httpx.AsyncClient, fans: Fans, session_factory: Factory
) -> None:
    h = fans.alice.headers
    assert (await upload(client, h, b"x" * 100, "a.txt")).status_code == 201
    tenant_id, quota = fans.alice.bot.tenant_id, 5 * 1024**3
    async with session_scope(session_factory) as session:  # drift: 10 bytes of room left
        await session.execute(
            update(DriveUsage)
            .where(DriveUsage.tenant_id == tenant_id, DriveUsage.user_key == 0)
            .values(bytes=quota - 10, files=7)
        )
    refused = await upload(client, h, b"y" * 11, "b.txt")
    assert (refused.status_code, refused.json()["error"]["code"]) == (413, "quota_exceeded")
    assert (await upload(client, h, b"y" * 10, "c.txt")).status_code == 201  # fits exactly

    async with session_scope(session_factory) as session:
        drift = await drive.reconcile_usage(session, tenant_id)
    assert drift == [
        drive.UsageDrift(
            user_id=None,
            counted_bytes=quota,
            actual_bytes=110,
            counted_files=8,
            actual_files=2,
        )
    ]
    assert (await usage(client, h))["tenant_bytes"] == 110
    async with session_scope(session_factory) as session:
        assert await drive.reconcile_usage(session, tenant_id) == []


async def test_reconciliation_cron_defers_one_job_per_tenant(
    client: httpx.AsyncClient, fans: Fans, session_factory: Factory, settings: Settings
) -> None:
    from core.redis import create_redis

    await upload(client, fans.alice.headers, b"a" * 30, "a.txt")
    await upload(client, fans.carol.headers, b"c" * 50, "c.txt")
    async with session_scope(session_factory) as session:
        await session.execute(delete(DriveUsage).where(DriveUsage.user_key != 0))
    redis = create_redis(settings)
    ctx = {"settings": settings, "session_factory": session_factory, "redis": redis}
    try:
        assert await reconcile_all_drive_usage(ctx) == 2
        queued = await redis.queued_jobs()
        assert sorted(
            job.args[0] for job in queued if job.function == "reconcile_drive_usage"
        ) == sorted([fans.alice.bot.tenant_id, fans.carol.bot.tenant_id])
        fixed = await reconcile_drive_usage(ctx, fans.alice.bot.tenant_id)
    finally:
        await redis.aclose()
    assert fixed == {"tenant_id": fans.alice.bot.tenant_id, "drifted": 1}
    assert (await usage(client, fans.alice.headers))["user_bytes"] == 30
