"""S3 backend (AWS, MinIO, R2, moto, any S3-compatible endpoint) through boto3.

boto3 is synchronous, so every call runs in a worker thread (:func:`asyncio.to_thread`); one
client is shared, which boto3 allows across threads. Credentials come the usual boto3 way
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, profiles, instance roles), the endpoint from
``S3_ENDPOINT_URL``.

Uploads stream: chunks fill a ``part_size`` buffer; a full buffer becomes one part of a
multipart upload, sent while the next one fills, with at most ``max_concurrency`` parts in
flight, and buffers are reused. Memory therefore stays near ``(max_concurrency + 1) *
part_size`` whatever the object size (measured by ``bench/upload.py``). An object smaller than
one part is sent with a single PUT. On any failure — the source raising, ``max_bytes``
exceeded, a part failing, cancellation — the multipart upload is aborted after in-flight parts
settle, so no invisible, billed parts are left behind.

Parts are at most 10 000 (S3's limit): with 8 MiB parts an object may be up to ~78 GiB.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from core.storage.base import (
    ObjectStat,
    Storage,
    StoredObject,
    close_source,
    validate_content_type,
    validate_expires_in,
    validate_key,
    validate_range,
)
from core.storage.errors import ObjectNotFoundError, ObjectTooLargeError, StorageError
from core.storage.presign import S3LinkSigner, stable_window
from core.storage.urls import content_disposition

MIN_PART_SIZE = 5 * 1024 * 1024
"""S3 refuses non-final parts smaller than this."""

DEFAULT_PART_SIZE = 8 * 1024 * 1024
MAX_PARTS = 10_000
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}
T = TypeVar("T")


def create_s3_client(
    endpoint_url: str | None = None,
    *,
    region_name: str | None = None,
    max_pool_connections: int = 16,
) -> Any:
    """A boto3 S3 client suited to S3-compatible servers.

    Path-style addressing when an endpoint is given (MinIO and moto have no per-bucket DNS);
    checksums only when an operation requires them, because several S3-compatible servers
    reject the CRC trailers newer botocore sends by default, and our own SHA-256 already
    covers integrity end to end.
    """
    session = boto3.session.Session()
    config = Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if endpoint_url else "auto"},
        retries={"mode": "standard", "max_attempts": 5},
        max_pool_connections=max_pool_connections,
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    return session.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=region_name or session.region_name or "us-east-1",
        config=config,
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class S3Storage(Storage):
    """Objects in one bucket (optionally under a key prefix); presigned GETs for downloads."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region_name: str | None = None,
        client: Any = None,
        part_size: int = DEFAULT_PART_SIZE,
        max_concurrency: int = 4,
        read_chunk: int = 256 * 1024,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.bucket = bucket
        self.prefix = f"{validate_key(prefix.strip('/'))}/" if prefix.strip("/") else ""
        self.part_size = part_size
        self.max_concurrency = max_concurrency
        self._read_chunk = read_chunk
        self._links: S3LinkSigner | None = None
        self._client = client or create_s3_client(
            endpoint_url, region_name=region_name, max_pool_connections=max(16, max_concurrency)
        )

    @property
    def client(self) -> Any:
        """The underlying boto3 client (tests and the benchmark inspect uploads through it)."""
        return self._client

    def _full_key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    async def _call(self, method: Callable[..., T], /, **kwargs: Any) -> T:
        """Run one boto3 call in a thread, turning its errors into typed storage errors."""
        try:
            return await asyncio.to_thread(functools.partial(method, **kwargs))
        except ClientError as exc:
            if _error_code(exc) in _NOT_FOUND:
                raise ObjectNotFoundError("no such object", key=kwargs.get("Key")) from exc
            raise StorageError(
                "the S3 endpoint refused the request", code=_error_code(exc)
            ) from exc
        except BotoCoreError as exc:
            raise StorageError("the S3 endpoint is unreachable or failed", reason=str(exc)) from exc

    async def ensure_bucket(self) -> None:
        """Create the bucket if it does not exist yet; run once at start-up or deploy time."""
        try:
            await self._call(self._client.head_bucket, Bucket=self.bucket)
            return
        except ObjectNotFoundError:
            pass
        region = self._client.meta.region_name
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            await self._call(self._client.create_bucket, **kwargs)
        except StorageError as exc:
            # Another process won the race to create it: that is what we wanted anyway.
            if exc.details.get("code") not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise

    async def ensure_ready(self) -> None:
        await self.ensure_bucket()

    async def aclose(self) -> None:
        self._client.close()

    # -- writing -----------------------------------------------------------------------------

    async def _upload_part(
        self, full_key: str, upload_id: str, number: int, data: bytearray
    ) -> dict[str, Any]:
        response = await self._call(
            self._client.upload_part,
            Bucket=self.bucket,
            Key=full_key,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
        )
        return {"PartNumber": number, "ETag": response["ETag"]}

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str,
        max_bytes: int | None = None,
    ) -> StoredObject:
        full_key = self._full_key(key)
        validate_content_type(content_type)
        part_size = self.part_size
        hasher = hashlib.sha256()
        size = 0
        upload_id: str | None = None
        done_parts: list[dict[str, Any]] = []
        in_flight: set[asyncio.Task[dict[str, Any]]] = set()
        # Buffers of finished parts are reused, so at most max_concurrency + 1 part buffers
        # ever exist: allocating fresh 8 MiB buffers per part lets the allocator's heap grow.
        spare: list[bytearray] = []
        buffer = bytearray()
        filled = 0

        async def settle(return_when: str) -> None:
            nonlocal in_flight
            finished, in_flight = await asyncio.wait(in_flight, return_when=return_when)
            # Retrieve every failure (so none is logged as "never retrieved"), raise the first.
            failures = [exc for task in finished if (exc := task.exception()) is not None]
            if failures:
                raise failures[0]
            done_parts.extend(task.result() for task in finished)

        async def send_part(data: bytearray) -> None:
            nonlocal upload_id
            # hashlib releases the GIL on large buffers: hash in a thread, in order.
            await asyncio.to_thread(hasher.update, data)
            if upload_id is None:
                created = await self._call(
                    self._client.create_multipart_upload,
                    Bucket=self.bucket,
                    Key=full_key,
                    ContentType=content_type,
                )
                upload_id = str(created["UploadId"])
            number = len(done_parts) + len(in_flight) + 1
            if number > MAX_PARTS:
                raise ObjectTooLargeError(f"upload needs more than {MAX_PARTS} parts")
            if len(in_flight) >= self.max_concurrency:
                await settle(asyncio.FIRST_COMPLETED)
            task = asyncio.create_task(self._upload_part(full_key, upload_id, number, data))
            task.add_done_callback(lambda _: spare.append(data))
            in_flight.add(task)

        try:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if max_bytes is not None and size > max_bytes:
                    await close_source(chunks)
                    raise ObjectTooLargeError(
                        f"upload is larger than {max_bytes} bytes", max_bytes=max_bytes
                    )
                view = memoryview(chunk)
                while view:
                    # Every part but the last is exactly part_size: some S3-compatible
                    # stores (R2) refuse parts of differing sizes.
                    piece = view[: part_size - filled]
                    if filled == len(buffer):
                        buffer += piece  # a new buffer, still growing
                    else:
                        buffer[filled : filled + len(piece)] = piece  # a reused one
                    filled += len(piece)
                    view = view[len(piece) :]
                    if filled == part_size:
                        await send_part(buffer)
                        buffer = spare.pop() if spare else bytearray()
                        filled = 0
            del buffer[filled:]
            if upload_id is None:
                await asyncio.to_thread(hasher.update, buffer)
                await self._call(
                    self._client.put_object,
                    Bucket=self.bucket,
                    Key=full_key,
                    Body=buffer,
                    ContentType=content_type,
                )
            else:
                if buffer:
                    await send_part(buffer)
                if in_flight:
                    await settle(asyncio.ALL_COMPLETED)
                done_parts.sort(key=lambda part: int(part["PartNumber"]))
                await self._call(
                    self._client.complete_multipart_upload,
                    Bucket=self.bucket,
                    Key=full_key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": done_parts},
                )
        except BaseException:
            if upload_id is not None:
                # Shielded so a cancellation cannot skip the abort; parts still uploading
                # would otherwise reappear after it, so let them settle first.
                await asyncio.shield(self._abort(full_key, upload_id, in_flight))
            raise
        return StoredObject(key=key, size=size, sha256=hasher.hexdigest())

    async def _abort(
        self, full_key: str, upload_id: str, in_flight: set[asyncio.Task[dict[str, Any]]]
    ) -> None:
        if in_flight:
            await asyncio.gather(*in_flight, return_exceptions=True)
        # Best effort: if the endpoint is down, a bucket lifecycle rule expires stragglers.
        with contextlib.suppress(StorageError, ObjectNotFoundError):
            await self._call(
                self._client.abort_multipart_upload,
                Bucket=self.bucket,
                Key=full_key,
                UploadId=upload_id,
            )

    # -- reading -----------------------------------------------------------------------------

    async def open_stream(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        full_key = self._full_key(key)
        validate_range(start, end)
        if end is not None and end == start:
            await self.stat(key)  # nothing to read, but a missing object is still an error
            return
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": full_key}
        if start or end is not None:
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end - 1}"
        try:
            response = await asyncio.to_thread(functools.partial(self._client.get_object, **kwargs))
        except ClientError as exc:
            if _error_code(exc) == "InvalidRange":
                await self.stat(key)  # start is past the end: empty, like a slice
                return
            if _error_code(exc) in _NOT_FOUND:
                raise ObjectNotFoundError("no such object", key=key) from exc
            raise StorageError(
                "the S3 endpoint refused the request", code=_error_code(exc)
            ) from exc
        except BotoCoreError as exc:
            raise StorageError("the S3 endpoint is unreachable or failed") from exc
        body = response["Body"]
        try:
            while True:
                try:
                    data = await asyncio.to_thread(body.read, self._read_chunk)
                except (BotoCoreError, OSError) as exc:
                    raise StorageError("reading from the S3 endpoint failed") from exc
                if not data:
                    break
                yield data
        finally:
            body.close()

    async def stat(self, key: str) -> ObjectStat:
        head = await self._call(
            self._client.head_object, Bucket=self.bucket, Key=self._full_key(key)
        )
        return ObjectStat(
            key=key,
            size=int(head["ContentLength"]),
            content_type=str(head.get("ContentType") or "application/octet-stream"),
            etag=head.get("ETag"),
            last_modified=head.get("LastModified"),
        )

    async def exists(self, key: str) -> bool:
        try:
            await self.stat(key)
        except ObjectNotFoundError:
            return False
        return True

    async def delete(self, key: str) -> None:
        # DeleteObject already succeeds for a missing key: idempotent as the contract wants.
        await self._call(self._client.delete_object, Bucket=self.bucket, Key=self._full_key(key))

    async def download_url(
        self,
        key: str,
        *,
        expires_in: int,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str:
        full_key = self._full_key(key)
        validate_expires_in(expires_in)
        params: dict[str, str] = {}
        if filename is not None:
            params["response-content-disposition"] = content_disposition(filename)
        if content_type is not None:
            params["response-content-type"] = validate_content_type(content_type)
        signed_at, lifetime = stable_window(expires_in)
        links = await self._signer()
        return links.url(full_key, expires_in=lifetime, params=params, signed_at=signed_at)

    async def inline_urls(
        self, objects: Sequence[tuple[str, str | None]], *, expires_in: int
    ) -> list[str]:
        validate_expires_in(expires_in)
        wanted = [
            (
                self._full_key(key),
                {} if kind is None else {"response-content-type": validate_content_type(kind)},
            )
            for key, kind in objects
        ]
        signed_at, lifetime = stable_window(expires_in)
        links = await self._signer()
        return links.urls(wanted, expires_in=lifetime, signed_at=signed_at)

    async def _signer(self) -> S3LinkSigner:
        if self._links is None:
            # Made once: botocore presigns a probe, and the first read of credentials may
            # do I/O (instance roles), so in a worker thread like every boto3 call.
            self._links = await self._call(S3LinkSigner, client=self._client, bucket=self.bucket)
        return self._links
