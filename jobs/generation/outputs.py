"""Outputs of a job become files in the user's drive: object in storage, row in ``files``.

Uploads happen before the job's final transaction (storage is not transactional), under keys
unique to the attempt (``.../<job id>/<lease>/<n>.<ext>``): a second worker that races on the
same job never overwrites the first one's objects, and the loser deletes only its own. The row
for output ``n`` carries ``output_key = job:{id}:output:{n}`` (UNIQUE per tenant), so a job's
outputs are recorded once however many times it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import unicodedata
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.models.drive import File, FileSource
from core.storage import Storage
from jobs import media
from jobs.providers import ProviderOutput

logger = logging.getLogger(__name__)

GENERATED_FOLDER = "Generated"
CHUNK = 1024 * 1024
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "video/mp4": ".mp4",
    "video/webm": ".webm",
    "video/quicktime": ".mov",
    "audio/wav": ".wav",
    "audio/mpeg": ".mp3",
    "audio/ogg": ".ogg",
    "audio/flac": ".flac",
    "audio/aac": ".aac",
    "text/plain": ".txt",
}


def output_key(job_id: int, index: int) -> str:
    return f"job:{job_id}:output:{index}"


@dataclass(frozen=True, slots=True)
class StoredOutput:
    index: int
    storage_key: str
    mime_type: str
    size: int
    sha256: str
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    thumbnail_key: str | None = None
    thumbnail_mime: str | None = None
    text: str | None = None

    @property
    def keys(self) -> list[str]:
        return [k for k in (self.storage_key, self.thumbnail_key) if k]


def slug_words(text: str, limit: int = 40) -> str:
    """A file-name-safe stem from a prompt (letters of every script kept)."""
    normalized = unicodedata.normalize("NFKC", text).lower()
    words = re.findall(r"\w+", normalized)
    stem = "-".join(words)[:limit].strip("-")
    return stem or "output"


async def _file_chunks(path: Path) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


async def _head(output: ProviderOutput) -> bytes:
    if output.data is not None:
        return output.data[: media.SNIFF_BYTES]
    assert output.path is not None
    path = output.path

    def read() -> bytes:
        with path.open("rb") as fh:
            return fh.read(media.SNIFF_BYTES)

    return await asyncio.to_thread(read)


async def store_output(
    storage: Storage, output: ProviderOutput, *, prefix: str, index: int
) -> StoredOutput:
    """Upload one output (streamed from disk when it is a file) with its measurements and a
    thumbnail; the MIME type is sniffed from content, never taken on trust."""
    sniffed = media.sniff_mime(await _head(output))
    mime = output.mime_type if output.mime_type.startswith("text/") else sniffed
    if mime == media.OCTET_STREAM and output.mime_type:
        mime = output.mime_type.split(";")[0].strip()
    key = f"{prefix}/{index}{EXTENSIONS.get(mime, '.bin')}"
    if output.path is not None:
        stored = await storage.put_stream(key, _file_chunks(output.path), content_type=mime)
        source: bytes | Path = output.path
    else:
        assert output.data is not None
        stored = await storage.put_bytes(key, output.data, content_type=mime)
        source = output.data
    text = (
        output.data.decode("utf-8", "replace") if mime.startswith("text/") and output.data else None
    )
    width = height = None
    duration: float | None = None
    thumb_key = thumb_mime = None
    if mime.split("/")[0] in ("image", "video", "audio"):
        try:
            info = await media.media_info(source)
            width, height, duration = info.width, info.height, info.duration
        except media.MediaError as exc:
            logger.warning("cannot measure output %s: %s", key, exc)
        try:
            thumb = await media.make_thumbnail(source, mime_type=mime)
        except media.MediaError as exc:
            logger.warning("cannot make a thumbnail for %s: %s", key, exc)
        else:
            thumb_key = f"{key}.thumb{EXTENSIONS.get(thumb.mime_type, '.img')}"
            await storage.put_bytes(thumb_key, thumb.data, content_type=thumb.mime_type)
            thumb_mime = thumb.mime_type
    if duration is None and "duration" in output.metadata:
        with contextlib.suppress(TypeError, ValueError):
            duration = float(output.metadata["duration"])
    return StoredOutput(
        index=index,
        storage_key=stored.key,
        mime_type=mime,
        size=stored.size,
        sha256=stored.sha256,
        width=width,
        height=height,
        duration=duration,
        thumbnail_key=thumb_key,
        thumbnail_mime=thumb_mime,
        text=text,
    )


async def store_outputs(
    storage: Storage, outputs: Sequence[ProviderOutput], *, prefix: str
) -> list[StoredOutput]:
    stored: list[StoredOutput] = []
    try:
        for index, output in enumerate(outputs):
            stored.append(await store_output(storage, output, prefix=prefix, index=index))
    except BaseException:
        await discard(storage, stored)
        raise
    return stored


async def discard(storage: Storage, stored: Sequence[StoredOutput]) -> None:
    """Delete uploaded objects nobody will own (a lost race, a failed final transaction)."""
    for item in stored:
        for key in item.keys:
            try:
                await storage.delete(key)
            except Exception:  # a leftover object is garbage, not a reason to fail the job
                logger.warning("could not delete orphan object %s", key, exc_info=True)


def file_rows(
    stored: Sequence[StoredOutput],
    *,
    tenant_id: int,
    user_id: int,
    job_id: int,
    folder_id: int | None,
    stem: str,
    provenance: Mapping[str, Any],
) -> list[File]:
    rows = []
    for item in stored:
        suffix = f"-{item.index + 1}" if len(stored) > 1 else ""
        ext = EXTENSIONS.get(item.mime_type, ".bin")
        rows.append(
            File(
                tenant_id=tenant_id,
                user_id=user_id,
                folder_id=folder_id,
                name=f"{stem}-{job_id}{suffix}{ext}"[:255],
                storage_key=item.storage_key,
                mime_type=item.mime_type,
                size=item.size,
                sha256=item.sha256,
                width=item.width,
                height=item.height,
                duration=item.duration,
                thumbnail_key=item.thumbnail_key,
                thumbnail_mime=item.thumbnail_mime,
                source=FileSource.GENERATED,
                job_id=job_id,
                output_key=output_key(job_id, item.index),
                provenance={**provenance, "output_index": item.index},
            )
        )
    return rows
