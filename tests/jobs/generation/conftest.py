"""Fixtures for generation tests: a seeded catalogue (plus test tools), a funded fan, and the
real arq worker run in burst mode with fast runner timings."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from arq.worker import Worker
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import ledger
from core.db import session_scope
from core.models import LedgerEntry, Tenant, Tool, User
from core.settings import Settings
from core.storage import Storage, create_storage
from jobs.catalog.service import sync_catalog
from jobs.generation.runner import GenerationConfig
from tests.jobs.conftest import run_burst_worker
from tests.jobs.generation import providers

Factory = async_sessionmaker[AsyncSession]

FAST = GenerationConfig(
    heartbeat_interval=0.2,
    stale_after=1.0,
    requeue_after=60.0,
    max_attempts=3,
    backoff_base=0.05,
    backoff_max=0.2,
    progress_interval=0.1,
    cancel_poll_interval=0.05,
)

TEST_TOOLS: list[dict[str, Any]] = [
    {
        "slug": "test-slow-image",
        "category": "image",
        "kind": "text_to_image",
        "provider": "slow",
        "names": {"en": "Slow image", "tr": "Yavaş görsel", "ru": "Медленная", "ar": "بطيئة"},
        "price": 5,
        "base_cost": 2,
    },
    {
        "slug": "test-failing",
        "category": "audio",
        "kind": "text_to_audio",
        "provider": "failing",
        "names": {"en": "Failing", "tr": "Hatalı", "ru": "Сбойный", "ar": "فاشل"},
        "price": 3,
        "base_cost": 1,
    },
]


def _test_tool(spec: dict[str, Any]) -> Tool:
    output = "image" if spec["kind"] == "text_to_image" else "audio"
    return Tool(
        descriptions={lang: "test tool" for lang in ("en", "tr", "ru", "ar")},
        params_schema={
            "type": "object",
            "properties": {
                "prompt": {"type": "string", "minLength": 1},
                "size": {"type": "string", "default": "64x64"},
            },
            "required": ["prompt"],
            "additionalProperties": False,
        },
        preset={},
        input_types=[],
        output_types=[output],
        pricing_model="per_use",
        examples=[],
        is_active=True,
        timeout_s=60,
        sort_order=100,
        model=None,
        **spec,
    )


@pytest.fixture(autouse=True)
def test_providers() -> Iterator[None]:
    providers.register()
    yield
    providers.unregister()


@pytest.fixture
async def catalog(session_factory: Factory) -> None:
    async with session_scope(session_factory) as session:
        await sync_catalog(session)
        session.add_all([_test_tool(spec) for spec in TEST_TOOLS])


@dataclass(frozen=True)
class Fan:
    tenant_id: int
    user_id: int


async def make_fan(
    factory: Factory,
    *,
    credits: int = 1000,
    platform_credits: int = 1000,
    plan: str = "basic",
    telegram_id: int = 1001,
) -> Fan:
    async with session_scope(factory) as session:
        tenant = Tenant(name="Creator", plan=plan)
        session.add(tenant)
        await session.flush()
        user = User(tenant_id=tenant.id, telegram_id=telegram_id, first_name="Fan")
        session.add(user)
        await session.flush()
        if credits:
            account = await ledger.get_or_create_account(session, tenant.id, user_id=user.id)
            await ledger.credit(
                session, tenant.id, account.id, credits, idempotency_key=f"seed:{user.id}"
            )
        if platform_credits:
            platform = await ledger.get_or_create_account(
                session, tenant.id, kind=ledger.AccountKind.TENANT
            )
            await ledger.credit(
                session, tenant.id, platform.id, platform_credits, idempotency_key="seed:tenant"
            )
        return Fan(tenant.id, user.id)


@pytest.fixture
async def fan(session_factory: Factory, catalog: None) -> Fan:
    return await make_fan(session_factory)


@pytest.fixture
def storage(settings: Settings) -> Storage:
    return create_storage(settings)


async def run_jobs(settings: Settings, **overrides: Any) -> Worker:
    """Run every queued job (and those they enqueue) with the real worker, then stop."""
    options: dict[str, Any] = {
        "ctx": {"settings": settings, "generation_config": FAST},
        **overrides,
    }
    return await run_burst_worker(settings, **options)


@dataclass(frozen=True)
class Money:
    fan_balance: int
    fan_reserved: int
    platform_balance: int
    platform_reserved: int
    captures: int
    releases: int


async def money(factory: Factory, who: Fan) -> Money:
    async with factory() as session:
        fan_balance = await ledger.user_balance(session, who.tenant_id, who.user_id)
        platform = await ledger.get_or_create_account(
            session, who.tenant_id, kind=ledger.AccountKind.TENANT
        )
        platform_balance = await ledger.balance_of(session, who.tenant_id, platform.id)

        async def count(kind: str) -> int:
            stmt = select(func.count()).where(
                LedgerEntry.tenant_id == who.tenant_id, LedgerEntry.kind == kind
            )
            return int(await session.scalar(stmt) or 0)

        return Money(
            fan_balance=fan_balance.balance,
            fan_reserved=fan_balance.reserved,
            platform_balance=platform_balance.balance,
            platform_reserved=platform_balance.reserved,
            captures=await count("capture"),
            releases=await count("release"),
        )
