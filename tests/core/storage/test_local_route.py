"""Local downloads end to end: a signed link served with Range support, the way the API will.

The route below is the reference wiring of :mod:`core.storage.urls` and
:mod:`core.storage.ranges` (the Mini App API issue mounts the real one); it runs in-process
through httpx's ASGI transport.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from core.errors import AtelierError
from core.storage import LocalStorage
from core.storage.ranges import plan_range_response
from core.storage.urls import content_disposition, signed_download_url, verify_download
from tests.core.storage.conftest import PUBLIC_BASE_URL, SECRET_KEY

DATA = bytes(range(256)) * 400  # 102 400 bytes


def make_app(storage: LocalStorage) -> Starlette:
    async def download(request: Request) -> Response:
        key = request.path_params["key"]
        query = request.query_params
        filename, content_type = query.get("filename"), query.get("content_type")
        try:
            verify_download(
                key,
                query.get("exp", ""),
                query.get("sig", ""),
                filename=filename,
                content_type=content_type,
                secret_key=SECRET_KEY,
            )
            stat = await storage.stat(key)
        except AtelierError as exc:
            body = {"error": {"code": exc.code, "message": exc.message}}
            return JSONResponse(body, status_code=exc.status_code)
        plan = plan_range_response(
            request.headers.get("range"),
            stat.size,
            content_type=content_type or stat.content_type,
            etag=stat.etag,
            if_range=request.headers.get("if-range"),
        )
        if plan.range is None:
            return Response(status_code=plan.status, headers=plan.headers)
        headers = dict(plan.headers)
        if filename:
            headers["Content-Disposition"] = content_disposition(filename)
        body_stream = storage.open_stream(key, start=plan.range.start, end=plan.range.end)
        return StreamingResponse(body_stream, status_code=plan.status, headers=headers)

    return Starlette(routes=[Route("/files/{key:path}", download)])


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, LocalStorage]]:
    storage = LocalStorage(tmp_path, public_base_url=PUBLIC_BASE_URL, secret_key=SECRET_KEY)
    await storage.put_bytes("media/my clip.mp4", DATA, content_type="video/mp4")
    transport = httpx.ASGITransport(app=make_app(storage))
    async with httpx.AsyncClient(transport=transport, base_url=PUBLIC_BASE_URL) as http:
        yield http, storage


async def test_full_download(client: tuple[httpx.AsyncClient, LocalStorage]) -> None:
    http, storage = client
    url = await storage.download_url("media/my clip.mp4", expires_in=60, filename="Clip.mp4")
    response = await http.get(url)
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-disposition"].startswith('attachment; filename="Clip.mp4"')


@pytest.mark.parametrize(
    ("range_header", "expected", "content_range"),
    [
        ("bytes=0-99", DATA[:100], "bytes 0-99/102400"),
        ("bytes=102300-", DATA[102300:], "bytes 102300-102399/102400"),
        ("bytes=-50", DATA[-50:], "bytes 102350-102399/102400"),
        ("bytes=1000-1000000", DATA[1000:], "bytes 1000-102399/102400"),
    ],
)
async def test_seeking(
    client: tuple[httpx.AsyncClient, LocalStorage],
    range_header: str,
    expected: bytes,
    content_range: str,
) -> None:
    http, storage = client
    url = await storage.download_url("media/my clip.mp4", expires_in=60)
    response = await http.get(url, headers={"Range": range_header})
    assert response.status_code == 206
    assert response.headers["content-range"] == content_range
    assert response.headers["content-length"] == str(len(expected))
    assert response.content == expected
    assert "content-disposition" not in response.headers  # inline: players play it


async def test_unsatisfiable(client: tuple[httpx.AsyncClient, LocalStorage]) -> None:
    http, storage = client
    url = await storage.download_url("media/my clip.mp4", expires_in=60)
    response = await http.get(url, headers={"Range": "bytes=200000-"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */102400"
    assert response.content == b""


async def test_bad_links(client: tuple[httpx.AsyncClient, LocalStorage]) -> None:
    http, storage = client
    url = await storage.download_url("media/my clip.mp4", expires_in=60, content_type="video/mp4")
    tampered = url.replace("content_type=video%2Fmp4", "content_type=text%2Fhtml")
    assert tampered != url
    assert (await http.get(tampered)).status_code == 403
    other = url.replace("my%20clip.mp4", "other.mp4")
    assert (await http.get(other)).json()["error"]["code"] == "bad_signature"
    expired = signed_download_url(
        "media/my clip.mp4",
        expires_in=10,
        public_base_url=PUBLIC_BASE_URL,
        secret_key=SECRET_KEY,
        now=time.time() - 3600,
    )
    response = await http.get(expired)
    assert (response.status_code, response.json()["error"]["code"]) == (410, "link_expired")
    await storage.delete("media/my clip.mp4")
    assert (await http.get(url)).status_code == 404
