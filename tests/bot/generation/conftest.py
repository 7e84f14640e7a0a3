"""Chat-level generation tests: the API + emulator platform (tests/bot), a seeded catalogue,
funded fans, and the real arq worker (burst mode) talking to the emulator through the
tenant's bot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from arq.worker import Worker
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import ledger
from core.db import session_scope
from core.ledger.service import Balance
from core.models import User
from core.settings import Settings
from devtools.telegram.client import BotInfo, TranscriptEntry, UserInfo
from jobs.catalog.service import sync_catalog
from tests.bot.conftest import Platform, wait_until
from tests.jobs.conftest import run_burst_worker
from tests.jobs.generation.conftest import FAST

Factory = async_sessionmaker[AsyncSession]


@pytest.fixture
async def catalog(session_factory: Factory) -> None:
    async with session_scope(session_factory) as session:
        await sync_catalog(session)


@dataclass
class Fan:
    bot: BotInfo
    user: UserInfo
    tenant_id: int
    user_id: int


async def fan_of(
    platform: Platform,
    *,
    credits: int = 100,
    platform_credits: int = 1000,
    language: str = "en",
) -> Fan:
    """A tenant bot and a fan who started it, with ``credits`` (and the tenant funded)."""
    bot, tenant_id = await platform.add_tenant()
    user = await platform.user(language_code=language)
    await platform.emulator.start(bot, user)
    await platform.replies(bot, user, 1)
    async with session_scope(platform.session_factory) as session:
        user_id = await session.scalar(
            select(User.id).where(User.tenant_id == tenant_id, User.telegram_id == user.id)
        )
        assert user_id is not None
        if credits:
            account = await ledger.get_or_create_account(session, tenant_id, user_id=user_id)
            await ledger.credit(
                session, tenant_id, account.id, credits, idempotency_key=f"test:{user_id}"
            )
        tenant_account = await ledger.get_or_create_account(
            session, tenant_id, kind=ledger.AccountKind.TENANT
        )
        await ledger.credit(
            session, tenant_id, tenant_account.id, platform_credits, idempotency_key="test:tenant"
        )
    return Fan(bot, user, tenant_id, user_id)


async def balance(platform: Platform, fan: Fan) -> Balance:
    async with platform.session_factory() as session:
        return await ledger.user_balance(session, fan.tenant_id, fan.user_id)


async def run_jobs(settings: Settings, **overrides: Any) -> Worker:
    """Every queued job (and the steps they start) with the real worker, then stop."""
    ctx = {"settings": settings, "generation_config": FAST, "notify_edit_interval": 0.05}
    return await run_burst_worker(settings, ctx=ctx, **overrides)


async def bot_messages(
    platform: Platform, fan: Fan, ready: Any, within: float = 10.0
) -> list[TranscriptEntry]:
    entries: list[TranscriptEntry] = await wait_until(
        lambda: platform.emulator.transcript(fan.bot, fan.user, from_bot_only=True),
        ready,
        within=within,
    )
    return entries


def with_text(entries: list[TranscriptEntry], part: str) -> list[TranscriptEntry]:
    return [e for e in entries if part in (e.text or e.caption or "")]


def media_of(entries: list[TranscriptEntry], kind: str) -> list[TranscriptEntry]:
    return [e for e in entries if e.media and e.media.get("kind") == kind]
