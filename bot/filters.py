"""Filters shared by routers: cheap checks that never leave the event loop.

aiogram 3.31 runs every *sync* callable it is given — magic filters (``F.text...``) included —
through ``asyncio.to_thread``: a thread hop for each filter on each update, which costs more
than the rest of the routing together. These small filters do the same checks inline: each is
an :class:`InlineFilter`, a pure synchronous test behind an ``async`` ``__call__`` that aiogram
awaits like any other filter.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, TelegramObject

from tenants import admins


class InlineFilter(Filter):
    """A filter whose answer is a plain ``test`` of the event and the middleware data: no I/O,
    no side effects, no data added for the handler."""

    @abstractmethod
    def test(self, event: Any, data: dict[str, Any]) -> bool:
        """True when the handler applies to ``event``."""

    async def __call__(self, event: TelegramObject, **data: Any) -> bool:
        return self.test(event, data)


class PlatformBot(InlineFilter):
    """Only in the platform's manager bot (the tenant with role ``platform``)."""

    def test(self, event: TelegramObject, data: dict[str, Any]) -> bool:
        return bool(data["tenant"].is_platform)


class CallbackIs(InlineFilter):
    """``callback_data`` equal to ``data``, or starting with it when ``prefix=True``."""

    def __init__(self, data: str, *, prefix: bool = False) -> None:
        self.data = data
        self.prefix = prefix

    def test(self, callback: CallbackQuery, data: dict[str, Any]) -> bool:
        value = callback.data or ""
        return value.startswith(self.data) if self.prefix else value == self.data


class SlashText(InlineFilter):
    """A text message that looks like a command (``/something``), known or not."""

    def __init__(self, *, negate: bool = False) -> None:
        self.negate = negate

    def test(self, message: Message, data: dict[str, Any]) -> bool:
        text = message.text
        if text is None:
            return False
        return text.startswith("/") != self.negate


class CommandLike(InlineFilter):
    """A message aiogram's ``Command`` filter could match: text or caption starting with "/"."""

    def test(self, message: Message, data: dict[str, Any]) -> bool:
        text = message.text or message.caption
        return text is not None and text.startswith("/")


class PrivateChat(InlineFilter):
    def test(self, event: ChatMemberUpdated, data: dict[str, Any]) -> bool:
        return event.chat.type == "private"


class TenantAdminOnly(Filter):
    """Only the tenant's owner or one of its co-admins. It reads the database, so put it after
    the cheap filters (a command filter first) and it runs only for the admin commands."""

    async def __call__(self, event: TelegramObject, **data: Any) -> bool:
        sender = getattr(event, "from_user", None)
        if sender is None:
            return False
        role = await admins.role_of(data["session"], data["tenant"], sender.id)
        return role is not admins.Role.FAN
