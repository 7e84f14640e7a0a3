"""Process-wide logging: one handler on the root logger, JSON lines in production.

Every record gets the id of the unit of work it belongs to — ``request_id`` for HTTP requests,
``job_id`` for arq jobs — from context variables, so a log search for one id shows everything
that request or job did, whichever library logged it. The edges (the API middleware, the job
wrapper) bind the ids with :func:`bind_request_id` / :func:`bind_job_id`; nothing else has to
pass them around.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import IO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter

from core.settings import Settings

request_id_var: ContextVar[str | None] = ContextVar("atelier_request_id", default=None)
job_id_var: ContextVar[str | None] = ContextVar("atelier_job_id", default=None)

NO_REQUEST_ID = "-"
TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = ("asctime", "levelname", "name", "message", "request_id")
JSON_RENAMES = {"asctime": "time", "levelname": "level", "name": "logger"}
# Libraries that are chatty at INFO and say nothing a reader of our logs needs.
QUIET_LOGGERS = ("httpx", "httpcore", "asyncio", "aiosqlite")
# Extras some libraries attach that only make sense on a terminal (uvicorn's ANSI copy).
DROPPED_ATTRS = ("color_message",)
_HANDLER_MARK = "_atelier_handler"


class ContextFilter(logging.Filter):
    """Stamp ``request_id`` (and ``job_id`` when one is bound) on every record.

    It sits on the handler, not on a logger: logger filters do not see records propagated from
    child loggers, handler filters see them all.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or NO_REQUEST_ID
        job_id = job_id_var.get()
        if job_id is not None and not hasattr(record, "job_id"):
            record.job_id = job_id
        return True


def json_formatter() -> logging.Formatter:
    """One JSON object per line; ``extra={...}`` fields become top-level keys."""
    return JsonFormatter(
        list(JSON_FIELDS),
        rename_fields=JSON_RENAMES,
        reserved_attrs=[*RESERVED_ATTRS, *DROPPED_ATTRS],
        json_default=str,
        json_ensure_ascii=False,
    )


def text_formatter() -> logging.Formatter:
    return logging.Formatter(TEXT_FORMAT)


def configure_logging(settings: Settings, *, stream: IO[str] | None = None) -> logging.Handler:
    """Install (or replace) Atelier's handler on the root logger and return it.

    Idempotent: calling it again swaps our previous handler and leaves handlers others
    installed (pytest's capture, for one) alone. ``stream`` defaults to stderr.
    """
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, _HANDLER_MARK, False):
            root.removeHandler(existing)
            existing.close()

    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(ContextFilter())
    handler.setFormatter(json_formatter() if settings.log_json else text_formatter())
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.captureWarnings(True)
    return handler


@contextmanager
def bind_request_id(request_id: str) -> Iterator[None]:
    """Make ``request_id`` part of every log record emitted inside the block."""
    token = request_id_var.set(request_id)
    try:
        yield
    finally:
        request_id_var.reset(token)


@contextmanager
def bind_job_id(job_id: str) -> Iterator[None]:
    """Make ``job_id`` part of every log record emitted inside the block."""
    token = job_id_var.set(job_id)
    try:
        yield
    finally:
        job_id_var.reset(token)
