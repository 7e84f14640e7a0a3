"""Errors of the tasks area; each renders as ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from core.errors import ConflictError, NotFoundError, ValidationError


class TaskNotFoundError(NotFoundError):
    code = "task_not_found"


class ChatNotFoundError(ValidationError):
    """The chat does not exist, or the bot is not in it (Telegram does not tell which)."""

    code = "chat_not_found"


class BotNotAdminError(ValidationError):
    """The bot is in the chat but not an administrator, so it cannot see who joined."""

    code = "bot_not_admin"


class AlreadyReviewedError(ConflictError):
    code = "already_reviewed"
