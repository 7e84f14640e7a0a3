"""Fixtures for the Telegram emulator tests: one emulator per test session, fresh bots per test.

Flood limits are loosened for the shared instance; tests about limits tighten them for their
own bot only, so tests never wait and never disturb each other.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import count

import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from PIL import Image

from devtools.telegram import EmulatorClient, EmulatorSettings, Limits, running_emulator
from devtools.telegram.client import BotInfo, UserInfo

_names = count(1)


def fast_settings(**overrides: object) -> EmulatorSettings:
    settings = EmulatorSettings(
        limits=Limits(private_burst=1000, bot_burst=1000, group_burst=1000, bot_per_second=1000),
        webhook_retry_delays=(0.05, 0.1, 0.2),
        webhook_timeout=5.0,
        pre_checkout_timeout=3.0,
    )
    for key, value in overrides.items():
        setattr(settings, key, value)
    return settings


@dataclass
class Emu:
    base_url: str
    client: EmulatorClient

    def bot(self, token: str) -> Bot:
        session = AiohttpSession(api=TelegramAPIServer.from_base(self.base_url))
        return Bot(token, session=session)


@pytest.fixture(scope="session")
async def emu() -> AsyncIterator[Emu]:
    async with running_emulator(fast_settings()) as (base_url, client):
        yield Emu(base_url, client)


@pytest.fixture
async def client(emu: Emu) -> EmulatorClient:
    return emu.client


@pytest.fixture
async def bot_info(emu: Emu) -> BotInfo:
    n = next(_names)
    return await emu.client.create_bot(username=f"test{n}_bot", first_name=f"Test Bot {n}")


@pytest.fixture
async def bot(emu: Emu, bot_info: BotInfo) -> AsyncIterator[Bot]:
    instance = emu.bot(bot_info.token)
    yield instance
    await instance.session.close()


@pytest.fixture
async def user(emu: Emu, bot_info: BotInfo) -> UserInfo:
    """A user who has already started the bot (so the bot may write to them)."""
    created = await emu.client.create_user("Alice", username=f"alice{next(_names)}")
    await emu.client.start(bot_info, created)
    return created


def png_bytes(width: int = 64, height: int = 48, color: str = "purple") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()
