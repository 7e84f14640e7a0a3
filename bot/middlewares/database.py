"""The bot's edge of "commit only at the edge": one unit of work per update.

Handlers and services only flush. When the handler returns, the session commits, deferred
arq jobs are sent (:func:`core.queue.unit_of_work`), routing changes are published, and then
the ``after_commit`` callbacks run — cache writes and notifications that must never describe
a transaction that rolled back.

Most updates (a returning fan asking for help) never touch the database. Their session runs no
statement, so committing and closing it has nothing to do — but each still costs a greenlet
hop in SQLAlchemy's asyncio layer, and leaving ``async with session`` runs ``close()`` in a
task of its own (shielded from cancellation), which costs a task and a turn of the event loop.
:class:`IdleSafeSession` skips all three when no transaction ever began and it holds no
objects, which is exactly when they would do nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.queue import unit_of_work
from tenants.webhooks import publish_route_changes

if TYPE_CHECKING:
    from bot.runtime import BotRuntime

logger = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[Any]]


class IdleSafeSession(AsyncSession):
    """An ``AsyncSession`` whose commit and close return at once when it never began."""

    async def commit(self) -> None:
        if not self.in_transaction():
            return
        await super().commit()

    def _idle(self) -> bool:
        return not self.in_transaction() and not self.sync_session.identity_map

    async def close(self) -> None:
        if self._idle():
            return
        await super().close()

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        if self._idle():
            return
        await super().__aexit__(type_, value, traceback)


def unit_factory(
    factory: async_sessionmaker[AsyncSession],
) -> async_sessionmaker[AsyncSession]:
    """The app's session factory (same engine and options), making :class:`IdleSafeSession`."""
    return async_sessionmaker(class_=IdleSafeSession, **factory.kw)


def after_commit(data: dict[str, Any], callback: AfterCommit) -> None:
    """Run ``callback`` once this update's transaction committed (never after a rollback).

    Handlers get the same list injected as ``after_commit`` and simply ``append`` to it.
    """
    data["after_commit"].append(callback)


class DatabaseMiddleware(BaseMiddleware):
    def __init__(
        self,
        factory: async_sessionmaker[AsyncSession],
        redis: ArqRedis,
        runtime: BotRuntime,
    ) -> None:
        self.factory = unit_factory(factory)
        self.redis = redis
        self.runtime = runtime

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        callbacks: list[AfterCommit] = []
        data["after_commit"] = callbacks
        async with unit_of_work(self.factory, self.redis) as session:
            data["session"] = session
            result = await handler(event, data)
        if session.info:
            for telegram_bot_id in await publish_route_changes(session, self.redis):
                self.runtime.routes.invalidate(telegram_bot_id)
        for callback in callbacks:
            try:
                await callback()
            except Exception:
                logger.exception("after-commit callback failed")
        return result
