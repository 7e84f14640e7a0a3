"""The storage contract, run against every backend (local disk and S3 via moto)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from core.storage import (
    InvalidContentTypeError,
    InvalidKeyError,
    LocalStorage,
    ObjectConflictError,
    ObjectNotFoundError,
    ObjectTooLargeError,
    S3Storage,
    Storage,
)
from core.storage.urls import verify_download
from tests.core.storage.conftest import (
    BAD_KEYS,
    PART_SIZE,
    PUBLIC_BASE_URL,
    SECRET_KEY,
    leftovers,
    local_dirs,
)

MiB = 1024 * 1024


async def read_all(storage: Storage, key: str, start: int = 0, end: int | None = None) -> bytes:
    return b"".join([chunk async for chunk in storage.open_stream(key, start=start, end=end)])


async def generated(total: int, chunk: int = 256 * 1024, seed: int = 0) -> AsyncIterator[bytes]:
    """Deterministic bytes, made chunk by chunk (never the whole payload at once)."""
    sent = 0
    n = seed
    while sent < total:
        size = min(chunk, total - sent)
        block = hashlib.sha256(n.to_bytes(8, "big")).digest()
        yield (block * (size // 32 + 1))[:size]
        sent += size
        n += 1


def expected_digest(total: int, chunk: int = 256 * 1024, seed: int = 0) -> tuple[str, bytes]:
    """SHA-256 of ``generated(total)`` and its bytes (small sizes only)."""
    hasher = hashlib.sha256()
    out = bytearray()
    sent, n = 0, seed
    while sent < total:
        size = min(chunk, total - sent)
        block = hashlib.sha256(n.to_bytes(8, "big")).digest()
        data = (block * (size // 32 + 1))[:size]
        hasher.update(data)
        if total <= 4 * MiB:
            out += data
        sent += size
        n += 1
    return hasher.hexdigest(), bytes(out)


async def test_round_trip(storage: Storage) -> None:
    data = os.urandom(100_000)
    stored = await storage.put_bytes("users/7/photo.jpg", data, content_type="image/jpeg")
    assert (stored.key, stored.size, stored.sha256) == (
        "users/7/photo.jpg",
        len(data),
        hashlib.sha256(data).hexdigest(),
    )
    assert await storage.exists("users/7/photo.jpg")
    stat = await storage.stat("users/7/photo.jpg")
    assert (stat.size, stat.content_type) == (len(data), "image/jpeg")
    assert stat.etag and stat.last_modified is not None
    assert await read_all(storage, "users/7/photo.jpg") == data


async def test_stream_of_small_chunks_and_empty_ones(storage: Storage) -> None:
    async def source() -> AsyncIterator[bytes]:
        for i in range(2000):
            yield b"" if i % 7 == 0 else i.to_bytes(4, "big") * 16

    stored = await storage.put_stream("log.bin", source(), content_type="application/octet-stream")
    body = await read_all(storage, "log.bin")
    assert stored.size == len(body) == sum(64 for i in range(2000) if i % 7)
    assert stored.sha256 == hashlib.sha256(body).hexdigest()


async def test_empty_object(storage: Storage) -> None:
    stored = await storage.put_bytes("empty.txt", b"", content_type="text/plain")
    assert stored.size == 0
    assert (await storage.stat("empty.txt")).size == 0
    assert await read_all(storage, "empty.txt") == b""


@pytest.mark.parametrize(
    ("start", "end"),
    [(0, None), (0, 1), (10, 20), (999, None), (500, 500), (990, 5000), (1000, None), (4000, None)],
)
async def test_ranged_reads_behave_like_slices(
    storage: Storage, start: int, end: int | None
) -> None:
    data = (bytes(range(256)) * 4)[:1000]
    await storage.put_bytes("r.bin", data, content_type="application/octet-stream")
    assert await read_all(storage, "r.bin", start, end) == data[start:end]


async def test_multipart_stream_round_trip(storage: Storage) -> None:
    total = 20 * MiB + 12345  # several parts and a short last one
    digest, _ = expected_digest(total)
    stored = await storage.put_stream("media/video.mp4", generated(total), content_type="video/mp4")
    assert (stored.size, stored.sha256) == (total, digest)
    stat = await storage.stat("media/video.mp4")
    assert (stat.size, stat.content_type) == (total, "video/mp4")
    if isinstance(storage, S3Storage):
        assert stat.etag is not None and stat.etag.strip('"').endswith("-5")  # really multipart
    hasher = hashlib.sha256()
    async for chunk in storage.open_stream("media/video.mp4"):
        hasher.update(chunk)
    assert hasher.hexdigest() == digest
    # A range across the first part boundary reads the right bytes.
    whole_first_two_parts = b"".join([c async for c in generated(2 * PART_SIZE)])
    lo, hi = PART_SIZE - 100, PART_SIZE + 100
    assert await read_all(storage, "media/video.mp4", lo, hi) == whole_first_two_parts[lo:hi]
    # Nothing but the object itself (and its local metadata sidecar): no temp file, no upload.
    held = [p for p in await leftovers(storage) if not p.startswith(".atelier-meta/")]
    assert [p.removeprefix(getattr(storage, "prefix", "")) for p in held] == ["media/video.mp4"]


async def test_overwrite_replaces_content_and_type(storage: Storage) -> None:
    await storage.put_bytes("doc", b"first version", content_type="text/plain")
    await storage.put_bytes("doc", b"<p>second</p>", content_type="text/html; charset=utf-8")
    assert await read_all(storage, "doc") == b"<p>second</p>"
    assert (await storage.stat("doc")).content_type == "text/html; charset=utf-8"


@pytest.mark.parametrize("total", [2 * MiB, 12 * MiB])  # below and beyond one part
async def test_max_bytes_exceeded_aborts_and_leaves_nothing(storage: Storage, total: int) -> None:
    closed = False

    async def source() -> AsyncIterator[bytes]:
        nonlocal closed
        try:
            async for chunk in generated(total, chunk=MiB):
                yield chunk
        finally:
            closed = True

    with pytest.raises(ObjectTooLargeError) as caught:
        await storage.put_stream(
            "up/big.bin", source(), content_type="video/mp4", max_bytes=total - MiB // 2
        )
    assert caught.value.status_code == 413
    assert closed, "the source should be closed once the upload is refused"
    assert await leftovers(storage) == []
    assert local_dirs(storage) == []
    assert not await storage.exists("up/big.bin")


async def test_max_bytes_exactly_reached_is_fine(storage: Storage) -> None:
    stored = await storage.put_stream(
        "exact.bin", generated(6 * MiB), content_type="video/mp4", max_bytes=6 * MiB
    )
    assert stored.size == 6 * MiB


async def test_refused_upload_keeps_the_previous_object(storage: Storage) -> None:
    await storage.put_bytes("keep.txt", b"old", content_type="text/plain")
    with pytest.raises(ObjectTooLargeError):
        await storage.put_bytes("keep.txt", b"x" * 100, content_type="text/plain", max_bytes=10)
    assert await read_all(storage, "keep.txt") == b"old"


class SourceBroke(Exception):
    pass


@pytest.mark.parametrize("fail_after", [100_000, 7 * MiB])  # before and after the first part
async def test_failing_source_leaves_nothing(storage: Storage, fail_after: int) -> None:
    async def source() -> AsyncIterator[bytes]:
        async for chunk in generated(fail_after, chunk=MiB):
            yield chunk
        raise SourceBroke("client went away")

    with pytest.raises(SourceBroke):
        await storage.put_stream("up/broken.bin", source(), content_type="video/mp4")
    assert await leftovers(storage) == []
    assert local_dirs(storage) == []


async def test_cancelled_upload_leaves_nothing(storage: Storage) -> None:
    reached = asyncio.Event()

    async def source() -> AsyncIterator[bytes]:
        async for chunk in generated(7 * MiB, chunk=MiB):
            yield chunk
        reached.set()
        await asyncio.Event().wait()  # a client that stalls forever
        yield b"never"

    task = asyncio.create_task(
        storage.put_stream("up/stalled.bin", source(), content_type="video/mp4")
    )
    await asyncio.wait_for(reached.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await leftovers(storage) == []
    assert local_dirs(storage) == []


async def test_delete_is_idempotent(storage: Storage) -> None:
    await storage.delete("never/existed.bin")
    await storage.put_bytes("a/b/c.txt", b"hello", content_type="text/plain")
    await storage.delete("a/b/c.txt")
    await storage.delete("a/b/c.txt")
    assert not await storage.exists("a/b/c.txt")
    assert await leftovers(storage) == []  # the local metadata sidecar went too
    assert local_dirs(storage) == []  # empty directories are pruned too


async def test_missing_object(storage: Storage) -> None:
    with pytest.raises(ObjectNotFoundError) as caught:
        await storage.stat("missing.bin")
    assert caught.value.status_code == 404
    with pytest.raises(ObjectNotFoundError):
        await read_all(storage, "missing.bin")
    with pytest.raises(ObjectNotFoundError):
        await read_all(storage, "missing.bin", 5, 5)
    assert not await storage.exists("missing.bin")


async def test_prefix_of_a_key_is_not_an_object(storage: Storage) -> None:
    await storage.put_bytes("dir/file.txt", b"x", content_type="text/plain")
    assert not await storage.exists("dir")
    with pytest.raises(ObjectNotFoundError):
        await storage.stat("dir")
    await storage.delete("dir")
    assert await storage.exists("dir/file.txt")


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_bad_keys_are_refused_everywhere(storage: Storage, key: str) -> None:
    with pytest.raises(InvalidKeyError) as caught:
        await storage.put_bytes(key, b"x", content_type="text/plain")
    assert caught.value.status_code == 422
    with pytest.raises(InvalidKeyError):
        await storage.stat(key)
    with pytest.raises(InvalidKeyError):
        await read_all(storage, key)
    with pytest.raises(InvalidKeyError):
        await storage.exists(key)
    with pytest.raises(InvalidKeyError):
        await storage.delete(key)
    with pytest.raises(InvalidKeyError):
        await storage.download_url(key, expires_in=60)
    assert await leftovers(storage) == []


@pytest.mark.parametrize("content_type", ["text/html\r\nSet-Cookie: a=b", "nonsense", "", "a/b c"])
async def test_bad_content_types_are_refused(storage: Storage, content_type: str) -> None:
    with pytest.raises(InvalidContentTypeError):
        await storage.put_bytes("ok.txt", b"x", content_type=content_type)
    assert await leftovers(storage) == []


async def test_download_url(storage: Storage) -> None:
    data = b"fan art \xf0\x9f\x8e\xa8" * 100
    await storage.put_bytes("art/1.png", data, content_type="image/png")
    url = await storage.download_url(
        "art/1.png", expires_in=300, filename="Fan art ✨.png", content_type="image/png"
    )
    if isinstance(storage, LocalStorage):
        # Our own link: the route (tested in test_local_route) verifies exactly these values.
        parsed = httpx.URL(url)
        assert str(parsed).startswith(f"{PUBLIC_BASE_URL}/files/art/1.png?")
        verify_download(
            "art/1.png",
            parsed.params["exp"],
            parsed.params["sig"],
            filename=parsed.params["filename"],
            content_type=parsed.params["content_type"],
            secret_key=SECRET_KEY,
        )
        return
    async with httpx.AsyncClient() as client:
        response = await client.get(url)
        assert response.status_code == 200
        assert response.content == data
        assert response.headers["content-type"] == "image/png"
        disposition = response.headers["content-disposition"]
        assert disposition.startswith("attachment;")
        assert "filename*=UTF-8''Fan%20art%20%E2%9C%A8.png" in disposition
        plain = await client.get(await storage.download_url("art/1.png", expires_in=60))
        assert plain.content == data and "content-disposition" not in plain.headers
        ranged = await client.get(url, headers={"Range": "bytes=4-9"})
        assert (ranged.status_code, ranged.content) == (206, data[4:10])


async def test_inline_urls_are_download_urls_in_one_call(storage: Storage) -> None:
    """A page's links, made in one call, are the links made one by one (so the browser's
    cache sees one URL per object) and each serves its own object, as the type it names."""
    wanted = [("art/2.png", "image/png"), ("a b/ü~.txt", "text/plain"), ("raw.bin", None)]
    for key, kind in wanted:
        await storage.put_bytes(key, key.encode(), content_type=kind or "application/x-thing")
    urls = await storage.inline_urls(wanted, expires_in=3600)
    one_by_one = [
        await storage.download_url(key, expires_in=3600, content_type=kind) for key, kind in wanted
    ]
    assert urls == one_by_one
    assert await storage.inline_urls([], expires_in=60) == []
    if isinstance(storage, LocalStorage):
        for (key, kind), url in zip(wanted, urls, strict=True):
            query = httpx.URL(url).params
            verify_download(
                key,
                query["exp"],
                query["sig"],
                content_type=query.get("content_type"),
                secret_key=SECRET_KEY,
            )
            assert query.get("content_type") == kind
        return
    async with httpx.AsyncClient() as client:
        for (key, kind), url in zip(wanted, urls, strict=True):
            response = await client.get(url)
            assert (response.status_code, response.content) == (200, key.encode())
            assert response.headers["content-type"] == (kind or "application/x-thing")


async def test_inline_urls_refuse_what_download_url_refuses(storage: Storage) -> None:
    with pytest.raises(ValueError, match="expires_in"):
        await storage.inline_urls([("x.bin", None)], expires_in=0)
    with pytest.raises(InvalidKeyError):
        await storage.inline_urls([("ok.bin", None), ("../etc/passwd", None)], expires_in=60)
    with pytest.raises(InvalidContentTypeError):
        await storage.inline_urls([("ok.bin", "text/html\r\nX: y")], expires_in=60)


async def test_download_url_lifetime_is_bounded(storage: Storage) -> None:
    with pytest.raises(ValueError, match="expires_in"):
        await storage.download_url("x.bin", expires_in=0)
    with pytest.raises(ValueError, match="expires_in"):
        await storage.download_url("x.bin", expires_in=8 * 24 * 3600)


async def test_concurrent_writers_of_one_key(storage: Storage) -> None:
    payloads = [bytes([i]) * (300_000 + i) for i in range(4)]
    await asyncio.gather(
        *(
            storage.put_bytes("same.bin", p, content_type="application/octet-stream")
            for p in payloads
        )
    )
    assert await read_all(storage, "same.bin") in payloads  # one whole version, never a mix
    held = [p for p in await leftovers(storage) if not p.startswith(".atelier-meta/")]
    assert [p.removeprefix(getattr(storage, "prefix", "")) for p in held] == ["same.bin"]


async def test_local_keys_cannot_be_both_file_and_directory(tmp_path: Path) -> None:
    """On disk ``a`` cannot be a file and a directory at once (S3 allows it): 409, no debris."""
    storage = LocalStorage(tmp_path, public_base_url=PUBLIC_BASE_URL, secret_key=SECRET_KEY)
    await storage.put_bytes("a", b"file", content_type="text/plain")
    await storage.put_bytes("b/c", b"nested", content_type="text/plain")
    before = await leftovers(storage)
    with pytest.raises(ObjectConflictError) as caught:
        await storage.put_bytes("a/x", b"!", content_type="text/plain")
    assert caught.value.status_code == 409
    with pytest.raises(ObjectConflictError):
        await storage.put_bytes("b", b"!", content_type="text/plain")
    assert await leftovers(storage) == before
    assert await read_all(storage, "a") == b"file"
