"""Steps of the premium-content chat tests: a creator who writes posts through the Mini App
API (signed in with the emulator's initData), fans in chat, and the real worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from devtools.telegram.client import BotInfo, TranscriptEntry, UserInfo
from tests.bot.conftest import Platform, wait_until
from tests.jobs.conftest import run_burst_worker


@dataclass
class Creator:
    bot: BotInfo
    tenant_id: int
    owner: UserInfo
    token: str


async def sign_in(platform: Platform, bot: BotInfo, user: UserInfo) -> str:
    init_data = await platform.emulator.web_app_init_data(bot, user)
    async with httpx.AsyncClient(base_url=platform.api_url, timeout=10) as client:
        response = await client.post(
            "/api/v1/auth/telegram", json={"bot_id": bot.id, "init_data": init_data}
        )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


async def creator(platform: Platform, name: str = "Art Studio") -> Creator:
    owner = await platform.user("Olga")
    bot, tenant_id = await platform.add_tenant(name, owner_telegram_id=owner.id)
    return Creator(bot, tenant_id, owner, await sign_in(platform, bot, owner))


async def api(
    platform: Platform,
    method: str,
    path: str,
    token: str | None = None,
    *,
    expect: int | None = 200,
    **kwargs: Any,
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=platform.api_url, timeout=20) as client:
        response = await client.request(method, path, headers=headers, **kwargs)
    if expect is not None:
        assert response.status_code == expect, response.text
    return response.json() if response.content else None


async def upload(platform: Platform, who: Creator, name: str, data: bytes) -> int:
    body = await api(
        platform,
        "POST",
        "/api/v1/drive/files",
        who.token,
        expect=201,
        params={"name": name},
        content=data,
    )
    return int(body["id"])


async def run_worker(platform: Platform) -> None:
    """Every queued job (previews, deliveries) with the real worker, then stop."""
    await run_burst_worker(platform.settings)


async def bot_messages(
    platform: Platform, bot: BotInfo, user: UserInfo, at_least: int, within: float = 10.0
) -> list[TranscriptEntry]:
    entries: list[TranscriptEntry] = await wait_until(
        lambda: platform.emulator.transcript(bot, user, from_bot_only=True),
        lambda items: len(items) >= at_least,
        within=within,
    )
    return entries


async def file_bytes(platform: Platform, entry: TranscriptEntry) -> bytes:
    """What the fan received: the file behind a media message, from the emulator."""
    assert entry.media is not None, entry
    async with httpx.AsyncClient(base_url=platform.emulator_url, timeout=10) as client:
        response = await client.get(f"/_emulator/files/{entry.media['file_id']}")
    assert response.status_code == 200
    return response.content
