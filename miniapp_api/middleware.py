"""The outermost layer of every request: request id, access log, metrics, last-resort 500.

A plain ASGI middleware (not ``BaseHTTPMiddleware``): the request id context variable set here
is visible in the endpoint, its dependencies and every log call they make, and streaming
responses (SSE) pass through untouched.

Unexpected exceptions are turned into the JSON 500 *here*, inside the user middleware stack.
Starlette's own ``ServerErrorMiddleware`` sits outside it and would send its response past
this layer, so the request would lose its ``X-Request-ID`` header, its access-log line and its
metrics sample.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.logging import bind_request_id
from miniapp_api.errors import internal_error_response
from miniapp_api.metrics import UNMATCHED_ROUTE, HttpMetrics

REQUEST_ID_HEADER = "X-Request-ID"
# Ids from clients end up in logs: accept only short, plain tokens, make up the rest.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:+=/-]{1,128}$")

# Probes and scrapes hit these every few seconds; log them only when they fail.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
# Telegram webhooks: one line per update would drown the log; failures still log at INFO+.
QUIET_PREFIXES = ("/tg/",)

access_logger = logging.getLogger("atelier.http")
error_logger = logging.getLogger("atelier.http.error")


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(headers: Headers) -> str:
    """The caller's ``X-Request-ID`` when it is a sane token, otherwise a fresh one."""
    offered = headers.get(REQUEST_ID_HEADER)
    if offered and _VALID_REQUEST_ID.match(offered):
        return offered
    return new_request_id()


def route_template(scope: Scope) -> str:
    """The matched route's path template, so ``/files/1`` and ``/files/2`` share a label."""
    route: Any = scope.get("route")
    template = getattr(route, "path_format", None)
    if isinstance(template, str):
        return template
    if scope.get("endpoint") is not None and not scope.get("path_params"):
        return str(scope["path"])  # a plain Starlette route (/openapi.json): path = template
    return UNMATCHED_ROUTE


class RequestContextMiddleware:
    """Bind a request id, time the request, log one line for it and count it."""

    def __init__(self, app: ASGIApp, metrics: HttpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        request_id = request_id_from(Headers(scope=scope))
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500
        response_started = False

        async def send_with_request_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        method: str = scope["method"]
        path: str = scope["path"]
        started = time.perf_counter()
        self.metrics.in_progress.inc()
        with bind_request_id(request_id):
            try:
                await self.app(scope, receive, send_with_request_id)
            except Exception:
                error_logger.exception("unhandled error in %s %s", method, path)
                if response_started:
                    raise  # headers are out; all that is left is to drop the connection
                await internal_error_response()(scope, receive, send_with_request_id)
            finally:
                elapsed = time.perf_counter() - started
                self.metrics.in_progress.dec()
                route = route_template(scope)
                self.metrics.observe(method, route, status, elapsed)
                quiet = (path in QUIET_PATHS or path.startswith(QUIET_PREFIXES)) and status < 400
                access_logger.log(
                    logging.DEBUG if quiet else logging.INFO,
                    "%s %s %d",
                    method,
                    path,
                    status,
                    extra={
                        "method": method,
                        "path": path,
                        "route": route,
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                    },
                )
