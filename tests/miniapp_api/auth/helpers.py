"""Tenants with bots and signed-in fans for Mini App API tests, without the emulator.

Launch data is signed by ``devtools.telegram.initdata.build_init_data`` exactly as Telegram
(and the emulator) sign it, so the API under test runs its real checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import crypto
from core.models import Tenant, TenantBot
from devtools.telegram.initdata import build_init_data

_ids = count(1)


@dataclass(frozen=True)
class TestBot:
    tenant_id: int
    bot_id: int
    token: str


@dataclass(frozen=True)
class Fan:
    bot: TestBot
    telegram_id: int
    token: str
    user_id: int

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def add_bot(
    factory: async_sessionmaker[AsyncSession], *, plan: str = "basic", **tenant: Any
) -> TestBot:
    n = next(_ids)
    bot_id = 7_000_000 + n
    token = f"{bot_id}:AAH{'x' * 30}{n:05d}"
    async with factory() as session:
        row = Tenant(name=f"Studio {n}", plan=plan, config={}, **tenant)
        session.add(row)
        await session.flush()
        session.add(
            TenantBot(
                tenant_id=row.id,
                telegram_bot_id=bot_id,
                username=f"studio{n}_bot",
                token_encrypted=crypto.encrypt(token),
            )
        )
        await session.commit()
        return TestBot(tenant_id=row.id, bot_id=bot_id, token=token)


def init_data(bot: TestBot, telegram_id: int, **kwargs: Any) -> str:
    user = {
        "id": telegram_id,
        "first_name": "Ada",
        "username": f"ada{telegram_id}",
        "language_code": "en",
    }
    return build_init_data(bot_id=bot.bot_id, bot_token=bot.token, user=user, **kwargs)


async def sign_in(client: httpx.AsyncClient, bot: TestBot, telegram_id: int | None = None) -> Fan:
    telegram_id = telegram_id or 100_000 + next(_ids)
    response = await client.post(
        "/api/v1/auth/telegram",
        json={"bot_id": bot.bot_id, "init_data": init_data(bot, telegram_id)},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    return Fan(bot=bot, telegram_id=telegram_id, token=body["token"], user_id=body["user"]["id"])
