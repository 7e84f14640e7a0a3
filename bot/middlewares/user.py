"""Inject the fan (``user``): from the Redis snapshot when it is current, else upserted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from arq.connections import ArqRedis

from bot.middlewares.database import after_commit
from bot.prefetch import Prefetch
from tenants.stats import activity
from tenants.users import resolve_user, store_snapshot


class UserMiddleware(BaseMiddleware):
    def __init__(self, redis: ArqRedis) -> None:
        self.redis = redis

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        sender = data.get("event_from_user")
        if sender is None or sender.is_bot:
            data["user"] = None
            return await handler(event, data)
        prefetched: Prefetch = data["prefetch"]
        user, written = await resolve_user(
            data["session"], data["tenant"].id, sender, prefetched.user_snapshot
        )
        if written:
            after_commit(data, partial(store_snapshot, self.redis, user))
        # issue 8: active fans per day, behind a Redis gate (no database write per update)
        await activity.track_bot_visit(
            self.redis, data["session"], data["after_commit"], user, written=written
        )
        data["user"] = user
        return await handler(event, data)
