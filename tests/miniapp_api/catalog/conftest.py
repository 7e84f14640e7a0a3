"""Fixtures shared by the catalogue, jobs and wallet API tests: the seeded catalogue (plus the
generation tests' own tools), two tenants with funded fans, and the app in-process."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import ledger
from core.db import session_scope
from jobs.catalog.service import sync_catalog
from tests.jobs.generation import providers
from tests.jobs.generation.conftest import TEST_TOOLS, _test_tool
from tests.miniapp_api.auth.helpers import Fan, TestBot, add_bot, sign_in

Factory = async_sessionmaker[AsyncSession]


@dataclass
class Fans:
    alice: Fan
    bob: Fan  # same tenant as alice
    carol: Fan  # another tenant


@pytest.fixture(autouse=True)
def test_providers() -> Iterator[None]:
    providers.register()
    yield
    providers.unregister()


@pytest.fixture
async def store(session_factory: Factory) -> None:
    async with session_scope(session_factory) as session:
        await sync_catalog(session)
        session.add_all([_test_tool(spec) for spec in TEST_TOOLS])


async def fund(factory: Factory, fan: Fan, credits: int) -> None:
    async with session_scope(factory) as session:
        account = await ledger.get_or_create_account(
            session, fan.bot.tenant_id, user_id=fan.user_id
        )
        await ledger.credit(
            session,
            fan.bot.tenant_id,
            account.id,
            credits,
            idempotency_key=f"test:{fan.user_id}:{credits}",
            reason="test top-up",
        )


async def fund_tenant(factory: Factory, bot: TestBot, credits: int = 10_000) -> None:
    async with session_scope(factory) as session:
        account = await ledger.get_or_create_account(
            session, bot.tenant_id, kind=ledger.AccountKind.TENANT
        )
        await ledger.credit(
            session, bot.tenant_id, account.id, credits, idempotency_key=f"test:tenant:{credits}"
        )


@pytest.fixture
async def fans(client: httpx.AsyncClient, session_factory: Factory, store: None) -> Fans:
    first = await add_bot(session_factory)
    second = await add_bot(session_factory)
    for bot in (first, second):
        await fund_tenant(session_factory, bot)
    found = Fans(
        alice=await sign_in(client, first),
        bob=await sign_in(client, first),
        carol=await sign_in(client, second),
    )
    for fan in (found.alice, found.bob, found.carol):
        await fund(session_factory, fan, 1000)
    return found
