"""HTTP ``Range`` requests (RFC 9110 §14), framework-agnostic, so video and audio can seek.

The download route asks :func:`plan_range_response` what to answer and then streams
``storage.open_stream(key, start=plan.range.start, end=plan.range.end)``::

    stat = await storage.stat(key)
    plan = plan_range_response(request.headers.get("range"), stat.size,
                               content_type=stat.content_type, etag=stat.etag,
                               if_range=request.headers.get("if-range"))
    if plan.range is None:                      # 416
        return Response(status_code=plan.status, headers=plan.headers)
    body = storage.open_stream(key, start=plan.range.start, end=plan.range.end)
    return StreamingResponse(body, status_code=plan.status, headers=plan.headers)

Decisions, all allowed by the RFC:

* a header that does not parse, or uses a unit other than ``bytes``, is ignored: full 200;
* **several ranges** (``bytes=0-1,5-6``) are answered with the full 200 rather than a
  ``multipart/byteranges`` body: media players never ask for several, and a list of tiny or
  overlapping ranges is a cheap way to make a server do a lot of work;
* a stale ``If-Range`` (validator does not match) gets the full 200;
* an empty object cannot satisfy any range (416 with ``Content-Range: bytes */0``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from core.errors import AtelierError

_SPEC = re.compile(r"^(\d*)-(\d*)$")


@dataclass(frozen=True, slots=True)
class ByteRange:
    """Bytes ``[start, end)`` of a representation (half-open, like slices and ``open_stream``)."""

    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start

    def content_range(self, size: int) -> str:
        """The ``Content-Range`` value; HTTP's last position is inclusive, hence ``end - 1``."""
        return f"bytes {self.start}-{self.end - 1}/{size}"


class RangeNotSatisfiable(AtelierError):
    """The request names only positions past the end of the representation (answer 416).

    A route should answer with :func:`plan_range_response`'s 416 plan, which carries the
    ``Content-Range: bytes */size`` header; the typed status is the fallback.
    """

    status_code = 416
    code = "range_not_satisfiable"

    def __init__(self, size: int) -> None:
        super().__init__(f"range not satisfiable for a representation of {size} bytes", size=size)
        self.size = size


@dataclass(frozen=True, slots=True)
class RangePlan:
    """What to answer: status 200, 206 or 416, the headers, and the bytes to send.

    ``range`` is the slice of the object to stream (the whole object for 200) or ``None`` for
    416, whose body is empty.
    """

    status: int
    range: ByteRange | None
    headers: dict[str, str] = field(default_factory=dict)


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one byte range ``header`` asks for within ``size`` bytes, or ``None`` for "send all".

    Raises :class:`RangeNotSatisfiable` when the (single, valid) range lies wholly past the end.
    ``bytes=a-b`` is clipped to the size, ``bytes=a-`` runs to the end, ``bytes=-n`` is the
    last ``n`` bytes (all of them if ``n`` exceeds the size).
    """
    if not header:
        return None
    unit, sep, specs = header.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    parts = [p.strip() for p in specs.split(",")]
    if len(parts) != 1:
        return None  # several ranges, or an empty list: answer the whole (see module doc)
    match = _SPEC.match(parts[0])
    if match is None:
        return None
    first, last = match.groups()
    if first:
        start = int(first)
        if last:
            stop = int(last)
            if stop < start:
                return None  # invalid per the RFC, so the header is ignored
            end = min(stop + 1, size)
        else:
            end = size
        if start >= size:
            raise RangeNotSatisfiable(size)
        return ByteRange(start, end)
    if not last:
        return None  # bare "-"
    suffix = int(last)
    if suffix == 0 or size == 0:
        raise RangeNotSatisfiable(size)
    return ByteRange(max(size - suffix, 0), size)


def _if_range_matches(if_range: str, etag: str | None, last_modified: str | None) -> bool:
    value = if_range.strip()
    if value.startswith(('"', "W/")):
        # Strong comparison: a weak validator never allows a partial response.
        return etag is not None and not etag.startswith("W/") and value == etag
    if last_modified is None:
        return False
    try:
        return parsedate_to_datetime(value) == parsedate_to_datetime(last_modified)
    except (TypeError, ValueError):
        return False


def plan_range_response(
    range_header: str | None,
    size: int,
    *,
    content_type: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    if_range: str | None = None,
) -> RangePlan:
    """Decide status, headers and byte range for a GET of a ``size``-byte object.

    ``etag`` and ``last_modified`` (an HTTP-date) are the object's validators; they are echoed
    as headers and used to judge ``If-Range``. ``Content-Length`` is always set, so the route
    must send exactly ``plan.range.length`` bytes.
    """
    headers: dict[str, str] = {"Accept-Ranges": "bytes"}
    if etag is not None:
        headers["ETag"] = etag
    if last_modified is not None:
        headers["Last-Modified"] = last_modified
    if if_range is not None and not _if_range_matches(if_range, etag, last_modified):
        range_header = None
    try:
        wanted = parse_range(range_header, size)
    except RangeNotSatisfiable:
        headers["Content-Range"] = f"bytes */{size}"
        headers["Content-Length"] = "0"
        return RangePlan(416, None, headers)
    if content_type is not None:
        headers["Content-Type"] = content_type
    if wanted is None:
        headers["Content-Length"] = str(size)
        return RangePlan(200, ByteRange(0, size), headers)
    headers["Content-Length"] = str(wanted.length)
    headers["Content-Range"] = wanted.content_range(size)
    return RangePlan(206, wanted, headers)
