"""A platform whose bots talk TON: the Telegram emulator, the API (with its bot runtime) and
the TON stand-in (toncenter API, TON Connect bridge, test wallet), all over real HTTP."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import TonWallet
from core.settings import Settings
from devtools.serving import serve_app
from devtools.telegram import EmulatorClient
from devtools.telegram.client import BotInfo, TranscriptEntry, UserInfo
from devtools.ton import TonClient, running_ton
from miniapp_api.app import create_app
from tenants.ton.tonconnect import ReconnectPolicy
from tests.bot.conftest import Platform, wait_until

FAST_POLICY = ReconnectPolicy(base_delay=0.02, max_delay=0.1, max_failures=4, healthy_after=5)

TonPlatformFactory = Callable[..., Any]


@dataclass
class Ton:
    base_url: str
    client: TonClient


@pytest.fixture
async def ton() -> AsyncIterator[Ton]:
    async with running_ton() as (base_url, client):
        yield Ton(base_url, client)


@pytest.fixture
def start_ton_platform(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    emulator: tuple[str, EmulatorClient],
    redis_url: str,
    ton: Ton,
) -> TonPlatformFactory:
    """``async with start_ton_platform(**settings) as platform`` — a fresh API each time (as
    after a restart) pointed at the emulator and the TON stand-in; the database and Redis stay."""

    @asynccontextmanager
    async def _start(**overrides: Any) -> AsyncIterator[Platform]:
        emulator_url, client = emulator
        app = create_app(settings)
        async with serve_app(app) as api_url:
            app.state.settings = settings.model_copy(
                update={
                    "public_base_url": api_url,
                    "telegram_api_base": emulator_url,
                    "ton_api_base": ton.base_url,
                    "ton_connect_wallets_url": ton.client.wallets_list_url,
                    **overrides,
                }
            )
            async with app.router.lifespan_context(app):
                app.state.bot_runtime.ton_waits.deps.policy = FAST_POLICY
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
async def ton_platform(start_ton_platform: TonPlatformFactory) -> AsyncIterator[Platform]:
    async with start_ton_platform() as running:
        yield running


async def press(
    platform: Platform, bot: BotInfo, user: UserInfo, entry: TranscriptEntry, data: str
) -> None:
    await platform.emulator.press_button(bot, user, entry.message_id, data)


async def open_connect_link(
    platform: Platform, bot: BotInfo, user: UserInfo
) -> tuple[TranscriptEntry, str]:
    """``/wallet``, pick the (only) wallet, and return the QR message and its link."""
    await platform.emulator.send_command(bot, user, "wallet")
    menu = (await platform.settled(bot, user))[-1]
    await press(platform, bot, user, menu, menu.buttons[0]["callback_data"])
    entries = await wait_until(
        lambda: platform.emulator.transcript(bot, user, from_bot_only=True),
        lambda items: bool(items) and items[-1].message.get("photo") is not None,
    )
    photo: TranscriptEntry = entries[-1]
    return photo, str(photo.buttons[0]["url"])


async def caption_of(
    platform: Platform, bot: BotInfo, user: UserInfo, message_id: int, *, within: float = 10.0
) -> str:
    """The caption of ``message_id`` once it was edited (the wait's outcome)."""

    async def probe() -> TranscriptEntry | None:
        entries = await platform.emulator.transcript(bot, user, from_bot_only=True)
        return next((e for e in entries if e.message_id == message_id), None)

    entry = await wait_until(probe, lambda e: e is not None and e.edit_date, within=within)
    return str(entry.caption)


async def read_qr(platform: Platform, entry: TranscriptEntry) -> list[str]:
    """What a wallet app reads from the photo's QR code."""
    file_id = entry.message["photo"][-1]["file_id"]
    async with httpx.AsyncClient(base_url=platform.emulator_url, timeout=10) as http:
        response = await http.get(f"/_emulator/files/{file_id}")
    response.raise_for_status()
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    return [result.text for result in zxingcpp.read_barcodes(image)]


async def linked_wallets(platform: Platform) -> list[tuple[int, int, str]]:
    async with platform.session_factory() as session:
        rows = (await session.scalars(select(TonWallet).order_by(TonWallet.id))).all()
    return [(row.tenant_id, row.user_id, row.address_raw) for row in rows]
