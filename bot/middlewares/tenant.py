"""Resolve the tenant of an update; drop duplicates and updates of disabled tenants.

Under the webhook the route and the prefetched Redis answers arrive with the update (the
endpoint needed them for the secret check and de-duplication). In polling mode this middleware
does the same lookups itself, so both paths run the same stack.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update

from bot.prefetch import describe
from bot.routing import BotRoute
from tenants.chatlog import record as chatlog

if TYPE_CHECKING:
    from bot.runtime import BotRuntime


class TenantMiddleware(BaseMiddleware):
    def __init__(self, runtime: BotRuntime) -> None:
        self.runtime = runtime

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        route: BotRoute | None = data.get("route")
        if route is None:
            assert isinstance(event, Update)
            route = await self._resolve(event, data)
            if route is None:
                return None
        data["tenant"] = route.tenant
        return await handler(event, data)

    async def _resolve(self, update: Update, data: dict[str, Any]) -> BotRoute | None:
        bot = data["bot"]
        route = await self.runtime.routes.get(bot.id)
        if route is None:
            return None
        sender = data.get("event_from_user")
        message = None
        if chatlog.recording(route.tenant.config):  # polling (development): cost is no concern
            raw = update.model_dump(mode="json", by_alias=True, exclude_none=True)
            message = chatlog.incoming(bot.id, describe(raw).update_type, raw)
        prefetched = await self.runtime.prefetch(
            route, update.update_id, sender.id if sender else None, update.event_type, None, message
        )
        if not prefetched.fresh:
            return None
        route = await self.runtime.routes.refresh_if_changed(route, prefetched.route_version)
        if route is None or not route.active:
            return None
        data["route"] = route
        data["prefetch"] = prefetched
        return route
