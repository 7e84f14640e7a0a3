"""The middleware stack, outermost first: tenant → database → user → i18n → throttling.

``setup_middlewares`` installs them on the Dispatcher's ``update`` observer, inside aiogram's
own error, user-context and FSM middlewares, so the error handler sees every failure. They are
installed as one :class:`MiddlewareStack`: aiogram re-wraps each registered middleware on every
update with ``functools.update_wrapper``, which for five of them costs more than their work.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject

from bot.middlewares.database import DatabaseMiddleware
from bot.middlewares.i18n import LocaleMiddleware
from bot.middlewares.tenant import TenantMiddleware
from bot.middlewares.throttling import ThrottlingMiddleware
from bot.middlewares.user import UserMiddleware

if TYPE_CHECKING:
    from aiogram import Dispatcher

    from bot.runtime import BotRuntime


Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


class MiddlewareStack(BaseMiddleware):
    """Several middlewares run as one, in order (the first is the outermost)."""

    def __init__(self, *middlewares: BaseMiddleware) -> None:
        self.middlewares = middlewares

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        chain = handler
        for middleware in reversed(self.middlewares):
            chain = partial(middleware, chain)
        return await chain(event, data)


def setup_middlewares(dp: Dispatcher, runtime: BotRuntime) -> None:
    dp.update.outer_middleware(
        MiddlewareStack(
            TenantMiddleware(runtime),
            DatabaseMiddleware(runtime.session_factory, runtime.redis, runtime),
            UserMiddleware(runtime.redis),
            LocaleMiddleware(runtime.i18n, runtime.settings.public_base_url),
            ThrottlingMiddleware(),
        )
    )


__all__ = [
    "DatabaseMiddleware",
    "LocaleMiddleware",
    "MiddlewareStack",
    "TenantMiddleware",
    "ThrottlingMiddleware",
    "UserMiddleware",
    "setup_middlewares",
]
