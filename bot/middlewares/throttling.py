"""Per-fan rate limit: over the limit, one polite notice, then silence until the window ends.

The counter is read in the update's prefetch round trip (:mod:`bot.prefetch`); the limit comes
from the tenant's config (``{"throttle": {"limit": 20, "window": 10}}``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import CallbackQuery, Message, TelegramObject, Update

from bot.prefetch import Prefetch

logger = logging.getLogger(__name__)


class ThrottlingMiddleware(BaseMiddleware):
    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        prefetched: Prefetch = data["prefetch"]
        if not prefetched.hits:
            return await handler(event, data)
        limit = data["tenant"].throttle.limit
        if prefetched.hits <= limit:
            return await handler(event, data)
        if prefetched.hits > limit + 1:
            return None  # silence until the window passes
        logger.info("fan throttled", extra={"tenant_id": data["tenant"].id})
        assert isinstance(event, Update)
        notice = data["texts"]("throttle.notice")
        if isinstance(event.callback_query, CallbackQuery):
            return AnswerCallbackQuery(callback_query_id=event.callback_query.id, text=notice)
        if isinstance(event.message, Message):
            return SendMessage(chat_id=event.message.chat.id, text=notice)
        return None
