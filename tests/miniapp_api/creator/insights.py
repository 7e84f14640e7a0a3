"""Helpers for the creator-panel tests that need real Telegram behaviour: a tenant whose bot
lives in the emulator, its owner signed in to the Mini App, fans signed in the same way, and
the API served over HTTP (the platform of the bot tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from devtools.telegram.client import BotInfo, UserInfo
from tests.bot.conftest import Platform


@dataclass
class Person:
    user: UserInfo
    token: str

    @property
    def headers(self) -> dict[str, str]:
        """No header at all for an empty token (an anonymous caller)."""
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}


@dataclass
class Panel:
    platform: Platform
    bot: BotInfo
    tenant_id: int
    owner: Person

    async def call(
        self,
        method: str,
        path: str,
        who: Person | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
    ) -> httpx.Response:
        headers = (who or self.owner).headers
        async with httpx.AsyncClient(base_url=self.platform.api_url, timeout=20) as client:
            return await client.request(
                method, f"/api/v1{path}", headers=headers, json=json, params=params
            )

    async def ok(self, method: str, path: str, who: Person | None = None, **kw: Any) -> Any:
        response = await self.call(method, path, who, **kw)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    async def fan(self, name: str = "Alice", language_code: str = "en") -> Person:
        user = await self.platform.user(name, language_code=language_code)
        await self.platform.emulator.start(self.bot, user)
        return Person(user, await sign_in(self.platform, self.bot, user))

    def set_clock(self, moment: datetime) -> None:
        self.platform.app.state.clock = lambda: moment


async def sign_in(platform: Platform, bot: BotInfo, user: UserInfo) -> str:
    init_data = await platform.emulator.web_app_init_data(bot, user)
    async with httpx.AsyncClient(base_url=platform.api_url, timeout=10) as client:
        response = await client.post(
            "/api/v1/auth/telegram", json={"bot_id": bot.id, "init_data": init_data}
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def open_panel(platform: Platform, name: str = "Art Studio", **tenant: Any) -> Panel:
    owner = await platform.user("Owner")
    bot, tenant_id = await platform.add_tenant(name, owner_telegram_id=owner.id, **tenant)
    await platform.emulator.start(bot, owner)
    return Panel(platform, bot, tenant_id, Person(owner, await sign_in(platform, bot, owner)))
