"""Drive upkeep in the queue: measure and thumbnail uploads, delete purged objects, empty trash.

``drive_file_metadata`` runs after an upload commits: it streams the object to a temporary
file (never the whole object in memory), measures it and stores a thumbnail next to it; an
image that turns out to be a decompression bomb keeps no thumbnail. ``drive_delete_objects``
removes the storage objects of rows whose deletion committed. ``purge_drive_trash`` (daily
cron) deletes what has been in any trash for 30 days, in batches. ``reconcile_all_drive_usage``
(daily cron) queues ``reconcile_drive_usage`` per tenant: each recomputes one tenant's usage
counters from its files in its own short transaction (it holds the tenant's uploads meanwhile).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

from arq.cron import CronJob, cron
from arq.typing import WorkerCoroutine
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.drive import service as drive
from core.models import File
from core.queue import defer_job
from jobs import media
from jobs.generation.runner import storage_of
from jobs.wrapper import JobContext, task

logger = logging.getLogger(__name__)


async def _download(ctx: JobContext, key: str, path: Path) -> None:
    handle = await asyncio.to_thread(path.open, "wb")
    try:
        async for chunk in storage_of(ctx).open_stream(key):
            await asyncio.to_thread(handle.write, chunk)
    finally:
        await asyncio.to_thread(handle.close)


@task
async def drive_file_metadata(
    ctx: JobContext, session: AsyncSession, file_id: int, tenant_id: int
) -> dict[str, Any]:
    file = await session.scalar(tenant_select(File, tenant_id).where(File.id == file_id))
    if file is None:
        return {"file_id": file_id, "skipped": "gone"}
    storage = storage_of(ctx)
    with tempfile.TemporaryDirectory(prefix="atelier-drive-") as tmp:
        path = Path(tmp) / "object"
        await _download(ctx, file.storage_key, path)
        try:
            info = await media.media_info(path)
            file.width, file.height, file.duration = info.width, info.height, info.duration
            thumb = await media.make_thumbnail(path, mime_type=file.mime_type)
        except media.MediaError as exc:
            logger.warning("no thumbnail for file %d: %s", file_id, exc)
            await session.flush()
            return {"file_id": file_id, "thumbnail": False}
    key = f"{file.storage_key}.thumb.webp"
    await storage.put_bytes(key, thumb.data, content_type=thumb.mime_type)
    file.thumbnail_key, file.thumbnail_mime = key, thumb.mime_type
    await session.flush()
    return {"file_id": file_id, "thumbnail": True}


@task
async def drive_delete_objects(ctx: JobContext, session: AsyncSession, keys: Sequence[str]) -> int:
    storage = storage_of(ctx)
    for key in keys:
        await storage.delete(key)
    return len(keys)


@task
async def purge_drive_trash(ctx: JobContext, session: AsyncSession) -> int:
    return await drive.purge_expired(session)


@task
async def reconcile_drive_usage(
    ctx: JobContext, session: AsyncSession, tenant_id: int
) -> dict[str, int]:
    drift = await drive.reconcile_usage(session, tenant_id)
    for row in drift:
        logger.warning("drive usage of tenant %d drifted and was fixed: %s", tenant_id, row)
    return {"tenant_id": tenant_id, "drifted": len(drift)}


@task
async def reconcile_all_drive_usage(ctx: JobContext, session: AsyncSession) -> int:
    tenant_ids = await drive.tenants_with_usage(session)
    for tenant_id in tenant_ids:
        defer_job(session, "reconcile_drive_usage", tenant_id)
    return len(tenant_ids)


DRIVE_FUNCTIONS: list[Callable[..., Any]] = [
    drive_file_metadata,
    drive_delete_objects,
    purge_drive_trash,
    reconcile_drive_usage,
    reconcile_all_drive_usage,
]
DRIVE_CRON_JOBS: list[CronJob] = [
    cron(
        cast(WorkerCoroutine, purge_drive_trash),
        name="cron:purge_drive_trash",
        hour=3,
        minute=41,
    ),
    cron(
        cast(WorkerCoroutine, reconcile_all_drive_usage),
        name="cron:reconcile_all_drive_usage",
        hour=4,
        minute=17,
    ),
]
