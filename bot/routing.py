"""Which tenant an update belongs to: the routing data of each bot, cached in the process.

Every update needs its bot's tenant, token, secret hash and text overrides. Reading three
tables per update would dominate the webhook, so entries are cached here (LRU, so 10,000
registered but idle tenants cost nothing) and reloaded when:

- the bot's version in Redis (``tenants.webhooks.route_version_key``) differs from the one the
  entry was loaded with — bumped after commit by whoever disables, enables, re-keys or edits
  texts, and read in the same Redis round trip as the update's de-duplication, so a change is
  seen by the next update of every process;
- the offered secret does not match and the version moved (the webhook was re-set), or, with
  an unchanged version, at most once per bot every :data:`FORCED_RELOAD_INTERVAL` seconds, so a
  flood of wrong secrets cannot hammer the database;
- the entry is older than ``max_age`` (60 seconds: the bound for a change made without a version
  bump, e.g. a row edited by hand), or is a "no such bot" entry older than ``negative_ttl``
  (2 seconds).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import SUPPORTED_LANGUAGES, enabled_languages
from bot.prefetch import Throttle
from core.models import Tenant, TenantBot, TenantRole
from tenants.service import bot_token
from tenants.texts import load_overrides

FORCED_RELOAD_INTERVAL = 2.0


@dataclass(frozen=True, slots=True)
class TenantInfo:
    """The tenant as handlers see it (injected as ``tenant``): a snapshot, not an ORM row."""

    id: int
    name: str
    role: TenantRole
    plan: str
    owner_telegram_id: int | None
    default_language: str
    config: dict[str, Any]
    is_active: bool
    throttle: Throttle = field(default_factory=Throttle)
    languages: tuple[str, ...] = SUPPORTED_LANGUAGES

    @property
    def is_platform(self) -> bool:
        return self.role == TenantRole.PLATFORM


@dataclass(frozen=True, slots=True)
class BotRoute:
    tenant: TenantInfo
    bot_row_id: int
    telegram_bot_id: int
    username: str
    token: str
    secret_hash: str | None
    bot_active: bool
    texts: dict[tuple[str, str], str]
    version: bytes | None
    loaded_at: float = field(default_factory=time.monotonic)

    @property
    def active(self) -> bool:
        return self.tenant.is_active and self.bot_active


_MISSING = object()


async def load_route(
    session: AsyncSession, telegram_bot_id: int, version: bytes | None
) -> BotRoute | None:
    row = (
        await session.execute(
            select(TenantBot, Tenant)
            .join(Tenant, Tenant.id == TenantBot.tenant_id)
            .where(TenantBot.telegram_bot_id == telegram_bot_id)
        )
    ).one_or_none()
    if row is None:
        return None
    bot, tenant = row
    return BotRoute(
        tenant=TenantInfo(
            id=tenant.id,
            name=tenant.name,
            role=TenantRole(tenant.role),
            plan=tenant.plan,
            owner_telegram_id=tenant.owner_telegram_id,
            default_language=tenant.default_language,
            config=dict(tenant.config or {}),
            is_active=tenant.is_active,
            throttle=Throttle.from_config(tenant.config or {}),
            languages=enabled_languages(tenant.config),
        ),
        bot_row_id=bot.id,
        telegram_bot_id=bot.telegram_bot_id,
        username=bot.username,
        token=bot_token(bot),
        secret_hash=bot.webhook_secret_hash,
        bot_active=bot.is_active,
        texts=await load_overrides(session, tenant.id),
        version=version,
    )


class RouteCache:
    """LRU of :class:`BotRoute` by Telegram bot id, loading each missing bot once at a time."""

    def __init__(
        self,
        session_factory: async_sessionmaker[AsyncSession],
        *,
        maxsize: int = 10_000,
        max_age: float = 60.0,
        negative_ttl: float = 2.0,
    ) -> None:
        self._factory = session_factory
        self._maxsize = maxsize
        self._max_age = max_age
        self._negative_ttl = negative_ttl
        self._entries: OrderedDict[int, tuple[float, BotRoute | None]] = OrderedDict()
        self._loading: dict[int, asyncio.Future[BotRoute | None]] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def peek(self, telegram_bot_id: int) -> BotRoute | object | None:
        """The fresh cached entry (a route or None for "no such bot"), else ``_MISSING``."""
        entry = self._entries.get(telegram_bot_id)
        if entry is None:
            return _MISSING
        loaded_at, route = entry
        ttl = self._max_age if route is not None else self._negative_ttl
        if time.monotonic() - loaded_at > ttl:
            return _MISSING
        self._entries.move_to_end(telegram_bot_id)
        return route

    async def get(
        self,
        telegram_bot_id: int,
        *,
        version: bytes | None = None,
        force: bool = False,
    ) -> BotRoute | None:
        if not force:
            cached = self.peek(telegram_bot_id)
            if cached is not _MISSING:
                return cached  # type: ignore[return-value]
        return await self._load(telegram_bot_id, version)

    async def refresh_if_changed(self, route: BotRoute, version: bytes | None) -> BotRoute | None:
        """The route again if its Redis version moved since it was loaded."""
        if route.version == version:
            return route
        return await self._load(route.telegram_bot_id, version)

    async def reload_for_secret(self, route: BotRoute, version: bytes | None) -> BotRoute | None:
        """A secret mismatch may mean a re-set webhook: reload when the bot's version moved,
        otherwise at most every :data:`FORCED_RELOAD_INTERVAL` seconds per bot (so a flood of
        wrong secrets cannot hammer the database)."""
        if route.version != version:
            return await self._load(route.telegram_bot_id, version)
        if time.monotonic() - route.loaded_at < FORCED_RELOAD_INTERVAL:
            return route
        return await self._load(route.telegram_bot_id, version)

    def invalidate(self, telegram_bot_id: int) -> None:
        self._entries.pop(telegram_bot_id, None)

    def clear(self) -> None:
        self._entries.clear()

    async def _load(self, telegram_bot_id: int, version: bytes | None) -> BotRoute | None:
        pending = self._loading.get(telegram_bot_id)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[BotRoute | None] = asyncio.get_running_loop().create_future()
        self._loading[telegram_bot_id] = future
        try:
            async with self._factory() as session:
                route = await load_route(session, telegram_bot_id, version)
            self._store(telegram_bot_id, route)
            future.set_result(route)
            return route
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # marked retrieved: nobody else may be waiting
            raise
        except BaseException:
            future.cancel()
            raise
        finally:
            del self._loading[telegram_bot_id]

    def _store(self, telegram_bot_id: int, route: BotRoute | None) -> None:
        self._entries[telegram_bot_id] = (time.monotonic(), route)
        self._entries.move_to_end(telegram_bot_id)
        while len(self._entries) > self._maxsize:
            self._entries.popitem(last=False)


MISSING = _MISSING
