"""HTTP Range planning: single ranges, suffixes, clipping, 416, ignored headers, If-Range."""

from __future__ import annotations

import pytest

from core.storage.ranges import (
    ByteRange,
    RangeNotSatisfiable,
    parse_range,
    plan_range_response,
)


@pytest.mark.parametrize(
    ("header", "size", "expected"),
    [
        ("bytes=0-0", 100, ByteRange(0, 1)),
        ("bytes=0-99", 100, ByteRange(0, 100)),
        ("bytes=10-19", 100, ByteRange(10, 20)),
        ("bytes=90-1000", 100, ByteRange(90, 100)),  # clipped to the end
        ("bytes=50-", 100, ByteRange(50, 100)),
        ("bytes=99-", 100, ByteRange(99, 100)),
        ("bytes=-10", 100, ByteRange(90, 100)),
        ("bytes=-1000", 100, ByteRange(0, 100)),  # suffix longer than the object: all of it
        ("Bytes = 5-6", 100, ByteRange(5, 7)),  # unit is case-insensitive, spaces tolerated
        ("bytes= 5-6 ", 100, ByteRange(5, 7)),
        # Ignored (None = send everything): no header, other units, bad syntax, several ranges.
        (None, 100, None),
        ("", 100, None),
        ("items=0-5", 100, None),
        ("bytes", 100, None),
        ("bytes=", 100, None),
        ("bytes=-", 100, None),
        ("bytes=abc", 100, None),
        ("bytes=5-2", 100, None),  # last < first: invalid, so ignored
        ("bytes=1-2-3", 100, None),
        ("bytes=+1-2", 100, None),
        ("bytes=0-1,5-6", 100, None),  # multi-range: the full 200 (module doc)
        ("bytes=0-1,", 100, None),
    ],
)
def test_parse_range(header: str | None, size: int, expected: ByteRange | None) -> None:
    assert parse_range(header, size) == expected


@pytest.mark.parametrize(
    ("header", "size"),
    [
        ("bytes=100-", 100),
        ("bytes=100-200", 100),
        ("bytes=-0", 100),
        ("bytes=0-", 0),
        ("bytes=-5", 0),
    ],
)
def test_unsatisfiable(header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as caught:
        parse_range(header, size)
    assert caught.value.status_code == 416
    assert caught.value.size == size


def test_plan_partial() -> None:
    plan = plan_range_response("bytes=10-19", 100, content_type="video/mp4", etag='"abc"')
    assert plan.status == 206
    assert plan.range == ByteRange(10, 20)
    assert plan.headers == {
        "Accept-Ranges": "bytes",
        "ETag": '"abc"',
        "Content-Type": "video/mp4",
        "Content-Length": "10",
        "Content-Range": "bytes 10-19/100",
    }


def test_plan_full() -> None:
    plan = plan_range_response(None, 100, content_type="audio/mpeg")
    assert (plan.status, plan.range) == (200, ByteRange(0, 100))
    assert plan.headers["Content-Length"] == "100"
    assert plan.headers["Accept-Ranges"] == "bytes"
    assert "Content-Range" not in plan.headers


def test_plan_unsatisfiable() -> None:
    plan = plan_range_response("bytes=500-", 100, content_type="audio/mpeg")
    assert (plan.status, plan.range) == (416, None)
    assert plan.headers["Content-Range"] == "bytes */100"
    assert plan.headers["Content-Length"] == "0"
    assert "Content-Type" not in plan.headers


def test_plan_multi_range_is_full() -> None:
    plan = plan_range_response("bytes=0-1,3-4", 10)
    assert (plan.status, plan.range) == (200, ByteRange(0, 10))


LAST_MODIFIED = "Wed, 21 Oct 2026 07:28:00 GMT"


@pytest.mark.parametrize(
    ("if_range", "status"),
    [
        ('"v1"', 206),  # matching strong etag: the range holds
        ('"v0"', 200),  # the object changed: send all of it
        ('W/"v1"', 200),  # weak validators never allow a partial response
        (LAST_MODIFIED, 206),
        ("Wed, 21 Oct 2026 07:28:01 GMT", 200),
        ("not a date", 200),
    ],
)
def test_if_range(if_range: str, status: int) -> None:
    plan = plan_range_response(
        "bytes=0-4", 10, etag='"v1"', last_modified=LAST_MODIFIED, if_range=if_range
    )
    assert plan.status == status


def test_if_range_with_weak_etag_on_object() -> None:
    plan = plan_range_response("bytes=0-4", 10, etag='W/"v1"', if_range='W/"v1"')
    assert plan.status == 200
