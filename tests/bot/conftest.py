"""A running platform for bot tests: the Telegram emulator and the API, both over real HTTP.

One emulator per test process (fresh bots and users per test); one API app per test, served by
uvicorn on a free port so the emulator can deliver webhooks to it, on the real PostgreSQL and
Redis of the test settings. Helpers poll transcripts with a short timeout instead of sleeping.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from itertools import count
from typing import Any

import httpx
import pytest
from aiogram import Router
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.runtime import BotRuntime
from core.models import Tenant, TenantBot, TenantRole
from core.settings import Settings
from devtools.serving import serve_app
from devtools.telegram import EmulatorClient, EmulatorSettings, Limits, running_emulator
from devtools.telegram.client import BotInfo, TranscriptEntry, UserInfo
from miniapp_api.app import create_app
from tenants import service as tenants_service
from tenants.webhooks import SECRET_HEADER

_names = count(1)


def fast_emulator_settings() -> EmulatorSettings:
    return EmulatorSettings(
        limits=Limits(
            private_burst=1000,
            private_per_second=1000,
            bot_burst=1000,
            bot_per_second=1000,
        ),
        webhook_retry_delays=(0.05, 0.1, 0.2),
        webhook_timeout=10.0,
    )


@dataclass
class Platform:
    """The emulator plus a served API; ``secrets`` remembers each bot's webhook secret."""

    emulator: EmulatorClient
    emulator_url: str
    api_url: str
    app: FastAPI
    settings: Settings
    session_factory: async_sessionmaker[AsyncSession]
    secrets: dict[int, str] = field(default_factory=dict)

    @property
    def runtime(self) -> BotRuntime:
        runtime: BotRuntime = self.app.state.bot_runtime
        return runtime

    async def add_tenant(
        self,
        name: str = "Art Studio",
        *,
        role: TenantRole = TenantRole.CREATOR,
        config: dict[str, Any] | None = None,
        default_language: str = "en",
        owner_telegram_id: int | None = None,
    ) -> tuple[BotInfo, int]:
        """A bot in the emulator, connected as a tenant with its webhook set; returns the
        emulator's bot and the tenant id."""
        n = next(_names)
        info = await self.emulator.create_bot(username=f"tenant{n}_bot", first_name=name)
        async with self.session_factory() as session:
            bot_row = await tenants_service.register_tenant(
                session,
                info.token,
                role=role,
                owner_telegram_id=owner_telegram_id,
                api_base=self.emulator_url,
            )
            tenant = await session.get(Tenant, bot_row.tenant_id)
            assert tenant is not None
            tenant.config = config or {}
            tenant.default_language = default_language
            await session.flush()
            self.secrets[info.id] = await self.runtime.configure_bot(session, bot_row, tenant)
            await session.commit()
            return info, bot_row.tenant_id

    async def user(self, first_name: str = "Alice", language_code: str | None = "en") -> UserInfo:
        return await self.emulator.create_user(
            first_name, username=f"{first_name.lower()}{next(_names)}", language_code=language_code
        )

    async def post_update(
        self, bot_id: int, update: dict[str, Any], *, secret: str | None = None
    ) -> httpx.Response:
        headers = {} if secret is None else {SECRET_HEADER: secret}
        async with httpx.AsyncClient(base_url=self.api_url, timeout=10) as client:
            return await client.post(f"/tg/{bot_id}", json=update, headers=headers)

    async def replies(
        self,
        bot: BotInfo | int,
        user: UserInfo | int,
        at_least: int,
        *,
        within: float = 5.0,
    ) -> list[TranscriptEntry]:
        """The bot's messages in the chat, once there are ``at_least`` of them."""
        return await wait_until(
            lambda: self.emulator.transcript(bot, user, from_bot_only=True),
            lambda entries: len(entries) >= at_least,
            within=within,
        )

    async def settled(self, bot: BotInfo | int, user: UserInfo | int) -> list[TranscriptEntry]:
        """The bot's messages once every queued update was handled. The emulator removes an
        update from the queue only after our webhook answered it and it ran the reply in the
        response; our handlers finish (sends, after-commit notifications) before answering."""
        await wait_until(
            lambda: self.emulator.bot_details(bot),
            lambda details: details["pending_update_count"] == 0,
        )
        return await self.emulator.transcript(bot, user, from_bot_only=True)


async def wait_until(
    probe: Callable[[], Any],
    ready: Callable[[Any], bool],
    *,
    within: float = 5.0,
    interval: float = 0.02,
) -> Any:
    deadline = time.monotonic() + within
    while True:
        value = await probe()
        if ready(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s; last value: {value!r}")
        await asyncio.sleep(interval)


@pytest.fixture(scope="session")
async def emulator() -> AsyncIterator[tuple[str, EmulatorClient]]:
    async with running_emulator(fast_emulator_settings()) as (base_url, client):
        yield base_url, client


PlatformFactory = Callable[..., Any]


@pytest.fixture
def start_platform(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    emulator: tuple[str, EmulatorClient],
    redis_url: str,
) -> PlatformFactory:
    """``async with start_platform(extra_routers=[...]) as platform`` — a fresh API (and bot
    runtime) each time, as after a restart; the database and Redis stay."""

    @asynccontextmanager
    async def _start(extra_routers: Sequence[Router] = ()) -> AsyncIterator[Platform]:
        emulator_url, client = emulator
        app = create_app(settings)
        async with serve_app(app) as api_url:
            app.state.settings = settings.model_copy(
                update={"public_base_url": api_url, "telegram_api_base": emulator_url}
            )
            async with app.router.lifespan_context(app):
                if extra_routers:
                    runtime = app.state.bot_runtime
                    app.state.bot_runtime = BotRuntime(
                        app.state.settings,
                        app.state.session_factory,
                        app.state.redis,
                        extra_routers=extra_routers,
                    )
                    await runtime.close()
                yield Platform(
                    emulator=client,
                    emulator_url=emulator_url,
                    api_url=api_url,
                    app=app,
                    settings=app.state.settings,
                    session_factory=session_factory,
                )

    return _start


@pytest.fixture
async def platform(start_platform: PlatformFactory) -> AsyncIterator[Platform]:
    async with start_platform() as running:
        yield running


__all__ = ["Platform", "PlatformFactory", "TenantBot", "wait_until"]
