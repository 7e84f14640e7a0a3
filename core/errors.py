"""Typed domain errors: each carries its HTTP status and a stable error code.

The API renders them as ``{"error": {"code", "message"}}``; the bot turns them into a polite
reply in the user's language (keyed by ``code``).
"""

from __future__ import annotations

from typing import Any, ClassVar


class AtelierError(Exception):
    """Base of every expected error; never shown to users as a traceback."""

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFoundError(AtelierError):
    status_code = 404
    code = "not_found"


class ConflictError(AtelierError):
    status_code = 409
    code = "conflict"


class ValidationError(AtelierError):
    status_code = 422
    code = "invalid"


class PermissionDeniedError(AtelierError):
    status_code = 403
    code = "forbidden"


class UnauthorizedError(AtelierError):
    status_code = 401
    code = "unauthorized"


class InsufficientFundsError(AtelierError):
    status_code = 402
    code = "insufficient_funds"


class UpstreamError(AtelierError):
    """An outside service (Telegram, a provider) failed or is unreachable."""

    status_code = 502
    code = "upstream_error"
