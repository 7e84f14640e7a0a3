"""Connecting bots as tenants, through the Bot API emulator over real HTTP."""

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import crypto
from core.models import Tenant, TenantBot
from devtools.telegram.client import EmulatorClient
from devtools.telegram.testing import running_emulator
from tenants import service
from tenants.errors import BotAlreadyConnectedError, InvalidBotTokenError, TelegramUnreachableError
from tenants.plans import UnknownPlanError


@pytest.fixture
async def emulator() -> AsyncIterator[tuple[str, EmulatorClient]]:
    async with running_emulator() as (base_url, client):
        yield base_url, client


async def _count(session: AsyncSession, model: type) -> int:
    return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def test_register_stores_the_bot_with_its_token_encrypted(
    session: AsyncSession, emulator: tuple[str, EmulatorClient], caplog: pytest.LogCaptureFixture
) -> None:
    base_url, client = emulator
    created = await client.create_bot(username="art_studio_bot", first_name="Art Studio")
    caplog.set_level(logging.DEBUG)

    bot = await service.register_tenant(
        session, created.token, plan="advanced", owner_telegram_id=42, api_base=base_url
    )
    await session.commit()

    assert bot.telegram_bot_id == created.id
    assert bot.username == "art_studio_bot"
    tenant = await session.get(Tenant, bot.tenant_id)
    assert tenant is not None
    assert (tenant.name, tenant.plan, tenant.owner_telegram_id) == ("Art Studio", "advanced", 42)
    stored = (await session.execute(text("SELECT token_encrypted FROM tenant_bots"))).scalar_one()
    assert created.token not in stored
    assert crypto.decrypt(stored) == created.token == service.bot_token(bot)
    assert created.token not in caplog.text
    assert created.token.split(":")[1] not in caplog.text


@pytest.mark.parametrize("token", ["", "hello", "123:short", "abc:" + "A" * 35, "12345678 AAA"])
async def test_malformed_token_is_refused_before_any_call(
    session: AsyncSession, token: str
) -> None:
    with pytest.raises(InvalidBotTokenError, match="does not look like a bot token"):
        await service.register_tenant(session, token, api_base="http://127.0.0.1:1")
    assert await _count(session, Tenant) == 0


async def test_revoked_or_unknown_token_is_refused_and_creates_nothing(
    session: AsyncSession, emulator: tuple[str, EmulatorClient]
) -> None:
    base_url, client = emulator
    created = await client.create_bot(username="revoked_bot", first_name="Revoked")
    await client.revoke_token(created.token)
    with pytest.raises(InvalidBotTokenError, match="Telegram rejected this token"):
        await service.register_tenant(session, created.token, api_base=base_url)
    never_created = f"{created.id + 1}:{'B' * 35}"
    with pytest.raises(InvalidBotTokenError):
        await service.register_tenant(session, never_created, api_base=base_url)
    await session.rollback()
    assert await _count(session, Tenant) == 0


async def test_duplicate_token_is_refused(
    session: AsyncSession, emulator: tuple[str, EmulatorClient]
) -> None:
    base_url, client = emulator
    created = await client.create_bot(username="twice_bot", first_name="Twice")
    await service.register_tenant(session, created.token, api_base=base_url)
    await session.commit()
    with pytest.raises(BotAlreadyConnectedError, match="already connected"):
        await service.register_tenant(session, f"  {created.token} ", api_base=base_url)
    await session.rollback()
    assert await _count(session, Tenant) == 1


async def test_concurrent_registrations_of_one_bot_create_one_tenant(
    session_factory: async_sessionmaker[AsyncSession], emulator: tuple[str, EmulatorClient]
) -> None:
    base_url, client = emulator
    created = await client.create_bot(username="race_bot", first_name="Race")

    async def attempt() -> bool:
        async with session_factory() as session:
            try:
                await service.register_tenant(session, created.token, api_base=base_url)
                await session.commit()
            except BotAlreadyConnectedError:
                await session.rollback()
                return False
            return True

    outcomes = await asyncio.gather(*(attempt() for _ in range(5)))
    assert outcomes.count(True) == 1
    async with session_factory() as session:
        assert await _count(session, Tenant) == 1
        assert await _count(session, TenantBot) == 1


async def test_unreachable_telegram_is_a_clear_error(session: AsyncSession) -> None:
    with pytest.raises(TelegramUnreachableError, match="cannot reach the Telegram Bot API"):
        await service.register_tenant(
            session, "123456789:" + "A" * 35, api_base="http://127.0.0.1:1"
        )
    assert await _count(session, Tenant) == 0


async def test_unknown_plan_is_refused(session: AsyncSession) -> None:
    with pytest.raises(UnknownPlanError):
        await service.register_tenant(session, "123456789:" + "A" * 35, plan="gold")


async def test_list_disable_and_enable(
    session: AsyncSession, emulator: tuple[str, EmulatorClient]
) -> None:
    base_url, client = emulator
    first = await client.create_bot(username="first_bot", first_name="First")
    second = await client.create_bot(username="second_bot", first_name="Second")
    a = await service.register_tenant(session, first.token, api_base=base_url)
    await service.register_tenant(session, second.token, api_base=base_url, plan="premium")

    await service.set_tenant_active(session, a.tenant_id, active=False)
    rows = await service.list_tenants(session)
    assert [(r.bot_username, r.plan, r.is_active) for r in rows] == [
        ("first_bot", "basic", False),
        ("second_bot", "premium", True),
    ]
    tenant = await service.set_tenant_active(session, a.tenant_id, active=True)
    assert tenant.is_active and tenant.disabled_at is None
