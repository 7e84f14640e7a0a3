"""One JSON error shape for every failure: ``{"error": {"code", "message", "details"?}}``.

Domain errors (:class:`core.errors.AtelierError`) carry their own status and code; framework
errors (unknown route, wrong method, invalid request) are mapped to the same shape so the Mini
App has a single code path for failures. Unexpected exceptions become a generic 500 whose
message reveals nothing; the traceback goes to the log under the request id, which the client
gets in the ``X-Request-ID`` header to quote in a bug report.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import AtelierError

logger = logging.getLogger(__name__)

INTERNAL_ERROR_CODE = "internal_error"
INTERNAL_ERROR_MESSAGE = "Internal server error; quote the X-Request-ID header if you report it."
VALIDATION_ERROR_CODE = "invalid"
VALIDATION_ERROR_MESSAGE = "The request is not valid."

# Codes for framework errors, matching the codes of the domain errors with the same status.
_HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    402: "insufficient_funds",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: VALIDATION_ERROR_CODE,
    429: "rate_limited",
    502: "upstream_error",
    503: "unavailable",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """The error document; ``details`` only appears when there are some."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = jsonable_encoder(details)
    return {"error": error}


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code, headers=headers)


def http_error_code(status_code: int) -> str:
    """A stable snake_case code for an HTTP status (``404`` → ``not_found``)."""
    if status_code in _HTTP_CODES:
        return _HTTP_CODES[status_code]
    try:
        return HTTPStatus(status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    except ValueError:
        return "error"


def internal_error_response() -> JSONResponse:
    return error_response(500, INTERNAL_ERROR_CODE, INTERNAL_ERROR_MESSAGE)


async def handle_atelier_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AtelierError)
    if exc.status_code >= 500:
        logger.warning("%s: %s", exc.code, exc.message, extra={"error_code": exc.code})
    return error_response(exc.status_code, exc.code, exc.message, exc.details)


async def handle_http_exception(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    details = None
    if isinstance(exc.detail, str):
        message = exc.detail
    else:
        message = HTTPStatus(exc.status_code).phrase
        details = {"detail": exc.detail}
    return error_response(
        exc.status_code, http_error_code(exc.status_code), message, details, exc.headers
    )


async def handle_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 with one entry per invalid field; the offending input is not echoed back."""
    assert isinstance(exc, RequestValidationError)
    fields = [
        {
            "loc": list(error.get("loc", ())),
            "field": ".".join(str(part) for part in error.get("loc", ())),
            "message": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in exc.errors()
    ]
    return error_response(422, VALIDATION_ERROR_CODE, VALIDATION_ERROR_MESSAGE, {"fields": fields})


async def handle_unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    """Last resort, reached only if the request middleware itself failed."""
    logger.error("unhandled error", exc_info=exc)
    return internal_error_response()


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AtelierError, handle_atelier_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_exception)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(Exception, handle_unexpected_error)
