"""Setting a tenant's webhook in the emulator: URL, secret (stored as a keyed hash), commands."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis_asyncio
from aiogram import Bot
from aiogram.types import BotCommand
from sqlalchemy.ext.asyncio import AsyncSession

from core import crypto
from devtools.telegram.client import EmulatorClient
from devtools.telegram.testing import running_emulator
from tenants import service, webhooks
from tenants.errors import TelegramUnreachableError
from tenants.telegram import make_session


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[str, EmulatorClient]]:
    async with running_emulator() as (base_url, client):
        yield base_url, client


async def test_configure_webhook(
    session: AsyncSession, emulator: tuple[str, EmulatorClient]
) -> None:
    base_url, client = emulator
    created = await client.create_bot(username="hooked_bot", first_name="Hooked")
    row = await service.register_tenant(session, created.token, api_base=base_url)
    bot = Bot(created.token, session=make_session(base_url))
    setup = webhooks.BotSetup(
        allowed_updates=["message", "callback_query"],
        commands={"": [BotCommand(command="help", description="Help")]},
        menu_button_text="Open app",
        menu_button_url="https://example.com/app/?bot=1",
    )
    try:
        secret = await webhooks.configure_webhook(
            session, row, bot, setup, public_base_url="https://atelier.example/"
        )
    finally:
        await bot.session.close()

    assert row.webhook_secret_hash == crypto.fingerprint(secret) != secret
    assert webhooks.secret_matches(row.webhook_secret_hash, secret, secret_key=_key())
    assert not webhooks.secret_matches(row.webhook_secret_hash, secret + "x", secret_key=_key())
    assert not webhooks.secret_matches(row.webhook_secret_hash, None, secret_key=_key())
    details = await client.bot_details(created)
    assert details["webhook_url"] == f"https://atelier.example/tg/{created.id}"
    assert details["commands"] == [{"command": "help", "description": "Help"}]
    assert details["menu_button"]["web_app"]["url"] == "https://example.com/app/?bot=1"


async def test_telegram_refusal_is_a_typed_error(
    session: AsyncSession, emulator: tuple[str, EmulatorClient]
) -> None:
    base_url, client = emulator
    created = await client.create_bot(username="refused_bot", first_name="Refused")
    row = await service.register_tenant(session, created.token, api_base=base_url)
    bot = Bot(created.token, session=make_session(base_url))
    try:
        with pytest.raises(TelegramUnreachableError):
            await webhooks.configure_webhook(
                session,
                row,
                bot,
                webhooks.BotSetup(allowed_updates=["message"]),
                public_base_url="not a url",
            )
    finally:
        await bot.session.close()


async def test_route_changes_are_published_after_commit(
    session: AsyncSession, redis_url: str
) -> None:
    client = redis_asyncio.from_url(redis_url)
    try:
        webhooks.mark_route_changed(session, 42)
        webhooks.mark_route_changed(session, 42)
        assert await webhooks.publish_route_changes(session, client) == [42]  # type: ignore[arg-type]
        assert await webhooks.publish_route_changes(session, client) == []  # type: ignore[arg-type]
        assert await client.get(webhooks.route_version_key(42)) == b"1"
    finally:
        await client.aclose()


def _key() -> str:
    from core.settings import get_settings

    return get_settings().secret_key
