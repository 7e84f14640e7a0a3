"""Storage for the API (``StorageDep``) and the signed download route of local-disk storage.

On S3 the Mini App gets presigned URLs straight to the bucket; on local disk it gets our own
signed, expiring ``/files/{key}`` links (:mod:`core.storage.urls`), served here with ``Range``
support so video and audio can seek. ``nosniff`` and the signed content type keep an uploaded
file from ever being rendered as a page of our origin.
"""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import Response, StreamingResponse

from core.settings import Settings
from core.storage import Storage, create_storage
from core.storage.ranges import plan_range_response
from core.storage.urls import content_disposition, verify_download

router = APIRouter(include_in_schema=False)
LINK_TTL_S = 3600


async def get_storage(request: Request) -> Storage:
    """The app's storage backend, made on first use (building the app stays free of I/O)."""
    storage: Storage | None = getattr(request.app.state, "storage", None)
    if storage is None:
        settings: Settings = request.app.state.settings
        storage = create_storage(settings)
        await storage.ensure_ready()
        request.app.state.storage = storage
    return storage


StorageDep = Annotated[Storage, Depends(get_storage)]


async def close_storage(app: FastAPI) -> None:
    """Release the storage backend's connections when the app stops (lifespan)."""
    storage: Storage | None = getattr(app.state, "storage", None)
    if storage is not None:
        app.state.storage = None
        await storage.aclose()


@router.get("/files/{key:path}")
async def download(key: str, request: Request, storage: StorageDep) -> Response:
    query = request.query_params
    filename, content_type = query.get("filename"), query.get("content_type")
    settings: Settings = request.app.state.settings
    verify_download(
        key,
        query.get("exp", ""),
        query.get("sig", ""),
        filename=filename,
        content_type=content_type,
        secret_key=settings.secret_key,
    )
    stat = await storage.stat(key)
    plan = plan_range_response(
        request.headers.get("range"),
        stat.size,
        content_type=content_type or stat.content_type,
        etag=stat.etag,
        if_range=request.headers.get("if-range"),
    )
    # A link names one immutable object (keys are never reused) until it expires: the
    # browser may keep what it fetched until then instead of asking again on every page.
    fresh_for = max(0, int(query["exp"]) - int(time.time()))
    headers = {
        **plan.headers,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": f"private, max-age={fresh_for}",
    }
    if plan.range is None:
        return Response(status_code=plan.status, headers=headers)
    if filename:
        headers["Content-Disposition"] = content_disposition(filename)
    body = storage.open_stream(key, start=plan.range.start, end=plan.range.end)
    return StreamingResponse(body, status_code=plan.status, headers=headers)
