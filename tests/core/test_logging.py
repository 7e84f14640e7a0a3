"""Structured logs: one JSON object per line, stamped with the request/job id in context."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from core.logging import bind_job_id, bind_request_id, configure_logging
from core.settings import Settings


@pytest.fixture
def log_stream(settings: Settings) -> Iterator[io.StringIO]:
    """Atelier's handler, writing JSON to a buffer; the root logger is restored afterwards."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = configure_logging(settings.model_copy(update={"log_json": True}), stream=stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_lines_carry_the_bound_ids_and_extra_fields(log_stream: io.StringIO) -> None:
    log = logging.getLogger("atelier.test")
    log.info("outside")
    with bind_request_id("req-1"):
        log.info("inside %s", "request", extra={"tenant_id": 7})
    with bind_job_id("job-9"):
        log.warning("inside job")

    outside, inside, job = _lines(log_stream)
    assert outside["request_id"] == "-" and "job_id" not in outside
    assert inside == {
        "time": inside["time"],
        "level": "INFO",
        "logger": "atelier.test",
        "message": "inside request",
        "request_id": "req-1",
        "tenant_id": 7,
    }
    assert job["job_id"] == "job-9" and job["level"] == "WARNING"


def test_exceptions_are_logged_with_their_traceback(log_stream: io.StringIO) -> None:
    try:
        raise ValueError("broken")
    except ValueError:
        logging.getLogger("atelier.test").exception("failed")
    (line,) = _lines(log_stream)
    assert "ValueError: broken" in line["exc_info"]


def test_configure_logging_twice_keeps_one_handler(
    settings: Settings, log_stream: io.StringIO
) -> None:
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_atelier_handler", False)]
    second = configure_logging(settings, stream=io.StringIO())
    try:
        now = [h for h in logging.getLogger().handlers if getattr(h, "_atelier_handler", False)]
        assert len(ours) == 1 and now == [second]
    finally:
        logging.getLogger().removeHandler(second)


def test_text_format_when_json_is_off(settings: Settings) -> None:
    stream = io.StringIO()
    handler = configure_logging(settings.model_copy(update={"log_json": False}), stream=stream)
    try:
        with bind_request_id("abc"):
            logging.getLogger("atelier.test").warning("plain")
    finally:
        logging.getLogger().removeHandler(handler)
        logging.captureWarnings(False)
    assert "[abc] plain" in stream.getvalue()
