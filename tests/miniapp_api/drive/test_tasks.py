"""The drive's queue work: thumbnails and measurements after upload, object deletion, trash cron."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from arq.connections import ArqRedis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utcnow
from core.models import File
from core.redis import create_redis
from core.settings import Settings
from jobs.drive_tasks import drive_delete_objects, drive_file_metadata, purge_drive_trash
from tests.miniapp_api.drive.conftest import Fans, png


async def _ctx(settings: Settings, factory: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    redis: ArqRedis = create_redis(settings)
    return {"settings": settings, "session_factory": factory, "redis": redis}


async def test_upload_gets_thumbnail_and_size(
    client: httpx.AsyncClient,
    fans: Fans,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    h = fans.alice.headers
    body = (
        await client.post(
            "/api/v1/drive/files", params={"name": "pic.png"}, content=png(640, 480), headers=h
        )
    ).json()
    assert body["thumbnail_url"] is None and body["width"] is None
    ctx = await _ctx(settings, session_factory)
    assert await drive_file_metadata(ctx, body["id"], fans.alice.bot.tenant_id) == {
        "file_id": body["id"],
        "thumbnail": True,
    }
    after = (await client.get(f"/api/v1/drive/files/{body['id']}", headers=h)).json()
    assert (after["width"], after["height"]) == (640, 480)
    thumb = await client.get(after["thumbnail_url"].split("8000", 1)[-1])
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/webp"


async def test_trash_cron_purges_after_30_days(
    client: httpx.AsyncClient,
    fans: Fans,
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    h = fans.alice.headers
    old = (
        await client.post(
            "/api/v1/drive/files", params={"name": "o.txt"}, content=b"old", headers=h
        )
    ).json()
    new = (
        await client.post(
            "/api/v1/drive/files", params={"name": "n.txt"}, content=b"new", headers=h
        )
    ).json()
    for file in (old, new):
        await client.delete(f"/api/v1/drive/files/{file['id']}", headers=h)
    async with session_factory() as session:
        await session.execute(
            update(File)
            .where(File.id == old["id"])
            .values(deleted_at=utcnow() - timedelta(days=31))
        )
        await session.commit()
    ctx = await _ctx(settings, session_factory)
    assert await purge_drive_trash(ctx) == 1
    trash = (await client.get("/api/v1/drive/trash", headers=h)).json()
    assert [f["id"] for f in trash["files"]] == [new["id"]]
    key_url = new["url"]
    assert (await client.get(key_url.split("8000", 1)[-1])).status_code == 200
    async with session_factory() as session:
        row = await session.get(File, new["id"])
        assert row is not None
        key = row.storage_key
    assert await drive_delete_objects(ctx, [key]) == 1
    assert (await client.get(key_url.split("8000", 1)[-1])).status_code == 404
