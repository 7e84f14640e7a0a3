"""What only the S3 backend does: bucket creation, bounded concurrent parts, failing parts."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from core.storage import S3Storage, StorageError
from core.storage.s3 import MIN_PART_SIZE
from tests.core.storage.conftest import BUCKET, PART_SIZE
from tests.core.storage.test_contract import generated

MiB = 1024 * 1024


async def test_ensure_bucket_creates_once_and_is_idempotent(s3_client: Any) -> None:
    name = f"atelier-{uuid.uuid4().hex[:12]}"
    storage = S3Storage(name, client=s3_client)
    await storage.ensure_bucket()
    await storage.ensure_bucket()
    await storage.put_bytes("x.txt", b"x", content_type="text/plain")
    assert await storage.exists("x.txt")


def test_part_size_below_the_s3_minimum_is_refused(s3_client: Any) -> None:
    with pytest.raises(ValueError, match="part_size"):
        S3Storage(BUCKET, client=s3_client, part_size=MIN_PART_SIZE - 1)


class CountingClient:
    """Wraps the boto3 client to watch parts in flight (and optionally fail one)."""

    def __init__(self, inner: Any, fail_part: int | None = None) -> None:
        self._inner = inner
        self._fail_part = fail_part
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.started: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def upload_part(self, **kwargs: Any) -> Any:
        with self._lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
            self.started.append(kwargs["PartNumber"])
        try:
            time.sleep(0.05)  # long enough for parts to overlap
            if kwargs["PartNumber"] == self._fail_part:
                raise StorageError("injected part failure")
            return self._inner.upload_part(**kwargs)
        finally:
            with self._lock:
                self.in_flight -= 1


async def test_parts_go_out_while_the_source_is_still_producing(s3_client: Any) -> None:
    counting = CountingClient(s3_client)
    storage = S3Storage(
        BUCKET, prefix=uuid.uuid4().hex, client=counting, part_size=PART_SIZE, max_concurrency=2
    )
    parts_seen_by_source: list[int] = []

    async def source() -> Any:
        async for chunk in generated(6 * PART_SIZE, chunk=MiB):
            parts_seen_by_source.append(len(counting.started))
            yield chunk

    stored = await storage.put_stream("v.bin", source(), content_type="video/mp4")
    assert stored.size == 6 * PART_SIZE
    assert sorted(counting.started) == [1, 2, 3, 4, 5, 6]
    assert counting.peak == 2  # concurrent, and never more than max_concurrency
    assert parts_seen_by_source[-1] >= 4  # early parts were sent before the source finished


async def test_a_failing_part_aborts_the_upload(s3_client: Any) -> None:
    counting = CountingClient(s3_client, fail_part=2)
    storage = S3Storage(BUCKET, prefix=uuid.uuid4().hex, client=counting, part_size=PART_SIZE)
    with pytest.raises(StorageError):
        await storage.put_stream("v.bin", generated(5 * PART_SIZE), content_type="video/mp4")
    uploads = s3_client.list_multipart_uploads(Bucket=BUCKET, Prefix=storage.prefix)
    assert uploads.get("Uploads", []) == []
    assert not await storage.exists("v.bin")
