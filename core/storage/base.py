"""The one async storage interface every backend (local disk, S3) implements.

Callers (the Mini App API, the job workers) only ever see :class:`Storage`; which backend runs
is decided once by :func:`core.storage.create_storage` from ``STORAGE_URL``. The contract is
written here, once, so both backends behave the same and one test suite checks them both:

* uploads stream: a backend holds at most a bounded buffer, never the whole object;
* an upload either stores the complete object or nothing (too large, failing source, cancelled);
* keys are validated the same way everywhere, so a key that works in development on local disk
  also works on S3 and cannot escape the storage root;
* ranges are half-open like Python slices: ``open_stream(key, start=10, end=20)`` yields the
  ten bytes ``[10, 20)``. (HTTP ``Range`` is inclusive; :mod:`core.storage.ranges` converts.)
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from core.storage.errors import InvalidContentTypeError, InvalidKeyError

MAX_KEY_BYTES = 1024
"""S3's own limit on a key, applied to every backend."""

MAX_SEGMENT_BYTES = 255
"""``NAME_MAX`` of common file systems, applied to every backend so keys stay portable."""

RESERVED_PREFIX = ".atelier"
"""Path segments starting with this are the local backend's own (temp files, metadata)."""

MAX_EXPIRES_IN = 7 * 24 * 3600
"""The longest a download link may live: S3's SigV4 limit, applied to every backend."""

_CONTENT_TYPE = re.compile(
    r"^[A-Za-z0-9!#$&^_.+-]{1,127}/[A-Za-z0-9!#$&^_.+-]{1,127}"
    r"(?:\s*;\s*[A-Za-z0-9!#$%&'*+.^_`|~-]+=(?:[A-Za-z0-9!#$%&'*+.^_`|~-]+|\"[^\"\\\x00-\x1f\x7f]*\"))*$"
)


@dataclass(frozen=True, slots=True)
class StoredObject:
    """What an upload stored: its key, its size in bytes and the hex SHA-256 of its content."""

    key: str
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ObjectStat:
    """What a reader needs before streaming: size and type for headers, etag for ``If-Range``."""

    key: str
    size: int
    content_type: str
    etag: str | None = None
    last_modified: datetime | None = None


def validate_key(key: str) -> str:
    """Return ``key`` if it is safe on every backend, else raise :class:`InvalidKeyError`.

    Refused: empty keys, absolute paths, backslashes (a path separator on Windows and a source
    of confusion elsewhere), control characters (they end up in logs and headers), empty, ``.``
    and ``..`` segments (path traversal on disk; S3 would keep them literally, so the same key
    would mean different things on the two backends), segments reserved for the local backend's
    own files, and keys or segments longer than S3 and file systems accept.
    """
    if not isinstance(key, str) or not key:
        raise InvalidKeyError("storage key is empty", key=key)
    try:
        encoded = key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidKeyError("storage key is not valid UTF-8", key=repr(key)) from exc
    if len(encoded) > MAX_KEY_BYTES:
        raise InvalidKeyError(f"storage key is longer than {MAX_KEY_BYTES} bytes", key=key[:64])
    if key.startswith("/"):
        raise InvalidKeyError("storage key must be relative", key=key)
    if "\\" in key:
        raise InvalidKeyError("storage key must not contain backslashes", key=key)
    # Printable ASCII holds none of them; checking that first spares the per-character scan
    # for nearly every key (every listed file's link validates its key twice).
    if not (key.isascii() and key.isprintable()) and any(
        unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in key
    ):
        raise InvalidKeyError("storage key must not contain control characters", key=repr(key))
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise InvalidKeyError("storage key has an empty, '.' or '..' segment", key=key)
        if segment.startswith(RESERVED_PREFIX):
            raise InvalidKeyError(f"storage key segments must not start with {RESERVED_PREFIX!r}")
        if len(segment.encode("utf-8")) > MAX_SEGMENT_BYTES:
            raise InvalidKeyError(f"storage key segment longer than {MAX_SEGMENT_BYTES} bytes")
    return key


def validate_content_type(content_type: str) -> str:
    """Return ``content_type`` if it is a plain media type, since it is echoed in headers."""
    if not _CONTENT_TYPE.match(content_type):
        raise InvalidContentTypeError("not a valid media type", content_type=repr(content_type))
    return content_type


def validate_range(start: int, end: int | None) -> None:
    """Refuse negative or backwards ranges early, with a plain ``ValueError`` (a caller bug)."""
    if start < 0:
        raise ValueError(f"start must be >= 0, got {start}")
    if end is not None and end < start:
        raise ValueError(f"end ({end}) must be >= start ({start})")


def validate_expires_in(expires_in: int) -> None:
    """Refuse link lifetimes S3 would refuse, so both backends accept the same values."""
    if not 0 < expires_in <= MAX_EXPIRES_IN:
        raise ValueError(f"expires_in must be within 1..{MAX_EXPIRES_IN} seconds")


async def close_source(chunks: AsyncIterator[bytes]) -> None:
    """Close an upload source we stopped reading early (a generator may hold a socket or file)."""
    aclose = getattr(chunks, "aclose", None)
    if aclose is not None:
        await aclose()


class Storage(ABC):
    """An object store with streaming uploads, ranged reads and expiring download links."""

    @abstractmethod
    async def put_stream(
        self,
        key: str,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str,
        max_bytes: int | None = None,
    ) -> StoredObject:
        """Store the bytes ``chunks`` yields under ``key``, replacing any object there.

        Memory stays bounded whatever the size. If the source goes past ``max_bytes``
        (:class:`~core.storage.errors.ObjectTooLargeError`, 413), raises, or the task is
        cancelled, the upload is aborted and nothing is stored (an object already under the key
        stays as it was); the source's own exception propagates unchanged.
        """

    async def put_bytes(
        self, key: str, data: bytes, *, content_type: str, max_bytes: int | None = None
    ) -> StoredObject:
        """Store a small object already in memory (thumbnails, JSON); same rules as a stream."""

        async def once() -> AsyncIterator[bytes]:
            yield data

        return await self.put_stream(key, once(), content_type=content_type, max_bytes=max_bytes)

    @abstractmethod
    def open_stream(
        self, key: str, *, start: int = 0, end: int | None = None
    ) -> AsyncIterator[bytes]:
        """Yield the bytes ``[start, end)`` of the object in chunks (``end=None``: to the end).

        An async generator: a missing object raises
        :class:`~core.storage.errors.ObjectNotFoundError` on the first iteration, so HTTP
        handlers call :meth:`stat` first (they need the size for ``Range`` anyway). Ranges past
        the end are clipped like slices.
        """

    @abstractmethod
    async def stat(self, key: str) -> ObjectStat:
        """Size, content type and validators of the object; ``ObjectNotFoundError`` if absent."""

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing object is not an error (retries are safe)."""

    @abstractmethod
    async def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""

    @abstractmethod
    async def download_url(
        self,
        key: str,
        *,
        expires_in: int,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> str:
        """A URL anyone holding it can GET for ``expires_in`` seconds (at most 7 days).

        With ``filename`` the response says ``Content-Disposition: attachment`` with that name;
        without it, no disposition is sent, so browsers and media players show the object
        inline. ``content_type`` overrides the stored type in the response. The object's
        existence is not checked (links are cheap; a missing object answers 404 when fetched).
        """

    @abstractmethod
    async def inline_urls(
        self, objects: Sequence[tuple[str, str | None]], *, expires_in: int
    ) -> list[str]:
        """:meth:`download_url` without a file name for each ``(key, content_type)``, in order:
        a page of files needs up to a hundred (its thumbnails); backends make them in one go."""

    async def ensure_ready(self) -> None:  # noqa: B027 - optional hook, no-op by default
        """Create what the backend needs (directory, bucket); once at start-up, not per request."""

    async def aclose(self) -> None:  # noqa: B027 - optional hook, no-op by default
        """Release connections; the instance is not used afterwards."""
