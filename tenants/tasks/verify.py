"""Telegram checks behind join-a-channel tasks, made with the tenant's own bot.

Telegram only shows a channel's members to its administrators (and a group's reliably only to
them), so a task may only point at a chat where the bot is an administrator: saving the task
checks that (``getChat`` to resolve the chat, ``getChatMember`` for the bot itself), and each
fan's check asks ``getChatMember`` for the fan. When a check fails because the bot lost its
rights or was removed, the caller records the problem on the task for the panel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
)

from core.errors import UpstreamError, ValidationError
from core.models import TaskProblem
from tenants.tasks.errors import BotNotAdminError, ChatNotFoundError

ADMIN_STATUSES = frozenset({"creator", "administrator"})
MEMBER_STATUSES = frozenset({"creator", "administrator", "member"})
_LINK = re.compile(r"^(?:https?://)?(?:t\.me|telegram\.me)/(?P<name>[A-Za-z0-9_]{5,32})/?$")
_NAME = re.compile(r"^@?(?P<name>[A-Za-z][A-Za-z0-9_]{4,31})$")


@dataclass(frozen=True, slots=True)
class ChatAccess:
    """What the bot can do in a chat. ``problem`` None means tasks can be verified there."""

    chat_id: int | None
    title: str | None
    username: str | None
    type: str | None
    bot_status: str | None  # the bot's own ChatMember status there, if it is in the chat
    problem: TaskProblem | None

    @property
    def public_url(self) -> str | None:
        return f"https://t.me/{self.username}" if self.username else None


class ChatUnreachableError(Exception):
    """A fan's membership cannot be checked; ``problem`` says why (None: Telegram is down)."""

    def __init__(self, problem: TaskProblem | None) -> None:
        super().__init__(problem.value if problem else "telegram unreachable")
        self.problem = problem


def parse_chat_ref(raw: str) -> int | str:
    """``@name``, ``name``, ``t.me/name`` links or a numeric chat id (``-100…``)."""
    text = raw.strip()
    if re.fullmatch(r"-?\d{1,20}", text):
        return int(text)
    for pattern in (_LINK, _NAME):
        match = pattern.match(text)
        if match:
            return f"@{match['name']}"
    raise ValidationError(
        "give the channel as @username, a t.me link or its numeric id", field="chat"
    )


async def chat_access(bot: Bot, chat: int | str) -> ChatAccess:
    """Resolve ``chat`` and the bot's rights there; never raises for a missing chat or
    missing rights (they are ``problem``), only when Telegram cannot be reached."""
    try:
        info = await bot.get_chat(chat)
    except (TelegramBadRequest, TelegramForbiddenError):
        return ChatAccess(None, None, None, None, None, TaskProblem.CHAT_NOT_FOUND)
    except (TelegramNetworkError, TelegramAPIError) as exc:
        raise UpstreamError(f"Telegram did not answer: {exc.message}") from None
    try:
        member = await bot.get_chat_member(info.id, bot.id)
        status: str | None = _status(member.status)
    except (TelegramBadRequest, TelegramForbiddenError):
        status = None
    except (TelegramNetworkError, TelegramAPIError) as exc:
        raise UpstreamError(f"Telegram did not answer: {exc.message}") from None
    problem = None if status in ADMIN_STATUSES else TaskProblem.BOT_NOT_ADMIN
    title = info.title or info.first_name
    return ChatAccess(info.id, title, info.username, info.type, status, problem)


async def require_admin_chat(bot: Bot, chat: int | str) -> ChatAccess:
    """The chat if the bot is an administrator there, else the error the panel shows."""
    access = await chat_access(bot, chat)
    if access.problem is TaskProblem.CHAT_NOT_FOUND:
        raise ChatNotFoundError(
            f"Telegram does not know this chat, or @{await _username(bot)} is not in it: "
            "add the bot to the channel as an administrator first",
            chat=str(chat),
        )
    if access.problem is TaskProblem.BOT_NOT_ADMIN:
        raise BotNotAdminError(
            f"@{await _username(bot)} is not an administrator of {access.title or chat}: "
            "make it an administrator so it can see who joined",
            chat_id=access.chat_id,
            bot_status=access.bot_status,
        )
    return access


async def _username(bot: Bot) -> str:
    try:
        me = await bot.me()
    except TelegramAPIError:
        return "the bot"
    return me.username or "the bot"


async def is_member(bot: Bot, chat_id: int, telegram_id: int) -> bool:
    """Whether the fan is in the chat now (a restricted member still counts)."""
    try:
        member = await bot.get_chat_member(chat_id, telegram_id)
    except TelegramBadRequest as exc:
        if "user not found" in exc.message.lower():
            return False
        raise ChatUnreachableError(_problem_of(exc.message)) from None
    except TelegramForbiddenError:
        raise ChatUnreachableError(TaskProblem.CHAT_NOT_FOUND) from None
    except (TelegramNetworkError, TelegramAPIError):
        raise ChatUnreachableError(None) from None
    return _status(member.status) in MEMBER_STATUSES or bool(getattr(member, "is_member", False))


def _status(value: object) -> str:
    """aiogram's ``ChatMemberStatus`` is a ``str`` enum whose ``str()`` is its qualified name."""
    return str(getattr(value, "value", value))


def _problem_of(message: str) -> TaskProblem:
    if "chat not found" in message.lower():
        return TaskProblem.CHAT_NOT_FOUND
    return TaskProblem.BOT_NOT_ADMIN
