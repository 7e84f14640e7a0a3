"""Errors of the tenant lifecycle, each with its own stable code."""

from __future__ import annotations

from core.errors import ConflictError, NotFoundError, UpstreamError, ValidationError


class InvalidBotTokenError(ValidationError):
    code = "invalid_bot_token"


class BotAlreadyConnectedError(ConflictError):
    code = "bot_already_connected"


class TenantNotFoundError(NotFoundError):
    code = "tenant_not_found"


class TelegramUnreachableError(UpstreamError):
    code = "telegram_unreachable"
