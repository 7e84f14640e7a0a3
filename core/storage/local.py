"""Local-disk backend: ``atelier dev``, tests, and single-machine deployments.

Objects live at ``{root}/{key}``, so an operator can look at them with ``ls``. An upload is
written to a temp file in the target's own directory and renamed over the target only once
complete (``os.replace`` is atomic within a file system), so a reader sees the old object or
the new one, never half a file, and an aborted upload leaves nothing. Readers keep their open
file across a concurrent overwrite (they hold the old inode), so a stream is never torn.

The content type given at upload time is kept in a small JSON sidecar under
``{root}/.atelier-meta/`` (named by the key's hash, so long keys never overflow ``NAME_MAX``).
Every blocking call runs in a worker thread via :func:`asyncio.to_thread`; writes are batched
into buffers of ``write_buffer`` bytes so the thread hop is paid per MiB, not per tiny chunk.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import mimetypes
import os
import secrets
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from core.storage.base import (
    RESERVED_PREFIX,
    ObjectStat,
    Storage,
    StoredObject,
    close_source,
    validate_content_type,
    validate_expires_in,
    validate_key,
    validate_range,
)
from core.storage.errors import (
    ObjectConflictError,
    ObjectNotFoundError,
    ObjectTooLargeError,
    StorageError,
)
from core.storage.urls import signed_download_url, signed_inline_urls

DEFAULT_CONTENT_TYPE = "application/octet-stream"
_TMP_PREFIX = f"{RESERVED_PREFIX}-tmp-"
_META_DIR = f"{RESERVED_PREFIX}-meta"
T = TypeVar("T")


async def _io(func: Callable[..., T], *args: Any) -> T:
    """Run blocking file I/O in a thread; a disk failure becomes a typed :class:`StorageError`."""
    try:
        return await asyncio.to_thread(func, *args)
    except OSError as exc:
        raise StorageError("the storage directory failed", reason=str(exc)) from exc


class LocalStorage(Storage):
    """Objects as files under ``root``; downloads through our own signed ``/files/`` links."""

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        public_base_url: str,
        secret_key: str,
        write_buffer: int = 1024 * 1024,
        read_chunk: int = 256 * 1024,
    ) -> None:
        self.root = Path(root).expanduser().absolute()
        self.public_base_url = public_base_url
        self._secret_key = secret_key
        self._write_buffer = write_buffer
        self._read_chunk = read_chunk

    def _path(self, key: str) -> Path:
        return self.root / validate_key(key)

    def _meta_path(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode()).hexdigest()
        return self.root / _META_DIR / digest[:2] / f"{digest}.json"

    async def ensure_ready(self) -> None:
        await asyncio.to_thread(self.root.mkdir, parents=True, exist_ok=True)

    # -- writing -----------------------------------------------------------------------------

    def _open_temp(self, target: Path) -> tuple[IO[bytes], Path]:
        for attempt in range(3):
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp = target.parent / f"{_TMP_PREFIX}{secrets.token_hex(8)}"
                # "xb": never reuse a name, even in the astronomically unlikely clash.
                return open(tmp, "xb"), tmp  # closed by _commit or _discard
            except FileNotFoundError:
                # A concurrent delete pruned the directory between mkdir and open; try again.
                if attempt == 2:
                    raise
            except (NotADirectoryError, FileExistsError) as exc:
                raise ObjectConflictError(
                    "another object's path is in the way of this key", key=str(target)
                ) from exc
        raise AssertionError("unreachable")

    @staticmethod
    def _write(handle: IO[bytes], hasher: Any, data: bytes | bytearray) -> None:
        # hashlib releases the GIL on large buffers, so hashing here keeps the loop free too.
        hasher.update(data)
        handle.write(data)

    def _commit(
        self, handle: IO[bytes], tmp: Path, target: Path, key: str, meta: dict[str, Any]
    ) -> None:
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        if target.is_dir():
            raise ObjectConflictError("a directory of other objects is under this key")
        # Metadata first: the object appears at the data rename with its type already right.
        self._write_meta(key, meta)
        try:
            os.replace(tmp, target)
        except IsADirectoryError as exc:
            raise ObjectConflictError("a directory of other objects is under this key") from exc

    def _write_meta(self, key: str, meta: dict[str, Any]) -> None:
        path = self._meta_path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.parent / f"{_TMP_PREFIX}{secrets.token_hex(8)}"
        tmp.write_text(json.dumps(meta), encoding="utf-8")
        os.replace(tmp, path)

    def _discard(self, handle: IO[bytes], tmp: Path) -> None:
        handle.close()
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        self._prune(tmp.parent)

    def _prune(self, directory: Path) -> None:
        """Remove directories left empty, up to (not including) the root."""
        while directory != self.root and self.root in directory.parents:
            try:
                directory.rmdir()
            except OSError:
                return
            directory = directory.parent

    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str,
        max_bytes: int | None = None,
    ) -> StoredObject:
        target = self._path(key)
        validate_content_type(content_type)
        try:
            handle, tmp = await asyncio.to_thread(self._open_temp, target)
        except OSError as exc:
            raise StorageError("cannot create a file in the storage directory") from exc
        hasher = hashlib.sha256()
        size = 0
        buffer = bytearray()
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
                if not buffer and len(chunk) >= self._write_buffer:
                    await _io(self._write, handle, hasher, chunk)
                    continue
                buffer += chunk
                if len(buffer) >= self._write_buffer:
                    await _io(self._write, handle, hasher, buffer)
                    buffer = bytearray()
            if buffer:
                await _io(self._write, handle, hasher, buffer)
            stored = StoredObject(key=key, size=size, sha256=hasher.hexdigest())
            meta = {"content_type": content_type, "size": size, "sha256": stored.sha256}
            await _io(self._commit, handle, tmp, target, key, meta)
        except BaseException:
            # Synchronous on purpose: it must also run when the task is being cancelled. The
            # source's own exception propagates unchanged.
            self._discard(handle, tmp)
            raise
        return stored

    # -- reading -----------------------------------------------------------------------------

    async def open_stream(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        path = self._path(key)
        validate_range(start, end)
        try:
            handle = await asyncio.to_thread(open, path, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFoundError("no such object", key=key) from exc
        try:
            if start:
                await asyncio.to_thread(handle.seek, start)
            remaining = None if end is None else end - start
            while remaining is None or remaining > 0:
                want = self._read_chunk if remaining is None else min(self._read_chunk, remaining)
                data = await asyncio.to_thread(handle.read, want)
                if not data:
                    break
                if remaining is not None:
                    remaining -= len(data)
                yield data
        finally:
            handle.close()

    def _stat(self, key: str) -> ObjectStat:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ObjectNotFoundError("no such object", key=key) from exc
        if not path.is_file():
            raise ObjectNotFoundError("no such object", key=key)
        content_type = None
        with contextlib.suppress(FileNotFoundError, ValueError, OSError):
            content_type = json.loads(self._meta_path(key).read_text("utf-8")).get("content_type")
        if not isinstance(content_type, str):
            content_type = mimetypes.guess_type(key)[0] or DEFAULT_CONTENT_TYPE
        return ObjectStat(
            key=key,
            size=st.st_size,
            content_type=content_type,
            # From the data file itself (like nginx), so it can never disagree with the bytes.
            etag=f'"{st.st_size:x}-{st.st_mtime_ns:x}"',
            last_modified=datetime.fromtimestamp(st.st_mtime, tz=UTC),
        )

    async def stat(self, key: str) -> ObjectStat:
        return await asyncio.to_thread(self._stat, key)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).is_file)

    def _delete(self, key: str) -> None:
        path = self._path(key)
        if path.is_dir():
            return  # "a" when only "a/b" exists: there is no object "a"
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as exc:
            raise StorageError("deleting from the storage directory failed") from exc
        with contextlib.suppress(FileNotFoundError):
            self._meta_path(key).unlink()
        self._prune(path.parent)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._delete, key)

    async def download_url(
        self,
        key: str,
        *,
        expires_in: int,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str:
        validate_expires_in(expires_in)
        return signed_download_url(
            key,
            expires_in=expires_in,
            public_base_url=self.public_base_url,
            filename=filename,
            content_type=content_type,
            secret_key=self._secret_key,
        )

    async def inline_urls(
        self, objects: Sequence[tuple[str, str | None]], *, expires_in: int
    ) -> list[str]:
        validate_expires_in(expires_in)
        return signed_inline_urls(
            objects,
            expires_in=expires_in,
            public_base_url=self.public_base_url,
            secret_key=self._secret_key,
        )
