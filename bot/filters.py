"""Filters shared by routers — all ``async``, on purpose.

aiogram 3.31 runs every *sync* callable it is given — magic filters (``F.text...``) included —
through ``asyncio.to_thread``: a thread hop for each filter on each update, which costs more
than the rest of the routing together. These small async filters do the same checks inline.
"""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, TelegramObject

from bot.routing import TenantInfo


class PlatformBot(Filter):
    """Only in the platform's manager bot (the tenant with role ``platform``)."""

    async def __call__(self, event: TelegramObject, tenant: TenantInfo) -> bool:
        return tenant.is_platform


class CallbackIs(Filter):
    """``callback_data`` equal to ``data``, or starting with it when ``prefix=True``."""

    def __init__(self, data: str, *, prefix: bool = False) -> None:
        self.data = data
        self.prefix = prefix

    async def __call__(self, callback: CallbackQuery) -> bool:
        value = callback.data or ""
        return value.startswith(self.data) if self.prefix else value == self.data


class SlashText(Filter):
    """A text message that looks like a command (``/something``), known or not."""

    def __init__(self, *, negate: bool = False) -> None:
        self.negate = negate

    async def __call__(self, message: Message) -> bool:
        text = message.text
        if text is None:
            return False
        return text.startswith("/") != self.negate


class PrivateChat(Filter):
    async def __call__(self, event: ChatMemberUpdated) -> bool:
        return event.chat.type == "private"
