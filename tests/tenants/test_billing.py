"""The tenant platform balance: plan periods on a controllable clock, the ran-dry notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis.asyncio as redis_asyncio
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Tenant
from tenants import billing

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


async def test_plan_period_reminder_once_then_downgrade(session: AsyncSession) -> None:
    tenant = Tenant(name="Art Studio", plan="basic", owner_telegram_id=42, config={})
    session.add(tenant)
    await session.flush()
    sub = await billing.apply_plan_payment(session, tenant.id, "premium", charge_id="c1", now=T0)
    assert sub.period_end == T0 + timedelta(days=30) and tenant.plan == "premium"
    assert (await billing.platform_balance(session, tenant.id)).balance == 20_000

    assert await billing.run_plan_expiry(session, T0 + timedelta(days=26)) == []
    notices = await billing.run_plan_expiry(session, T0 + timedelta(days=27, hours=1))
    assert [(n.expired, n.plan, n.owner_telegram_id) for n in notices] == [(False, "premium", 42)]
    assert await billing.run_plan_expiry(session, T0 + timedelta(days=28)) == []  # once
    assert tenant.plan == "premium"

    notices = await billing.run_plan_expiry(session, T0 + timedelta(days=30, seconds=1))
    assert [n.expired for n in notices] == [True]
    assert tenant.plan == "basic"
    assert await billing.run_plan_expiry(session, T0 + timedelta(days=31)) == []

    # Renewing after the lapse starts a fresh period from "now"; the same charge grants once.
    later = T0 + timedelta(days=40)
    sub = await billing.apply_plan_payment(
        session, tenant.id, "advanced", charge_id="c2", now=later
    )
    assert sub.period_end == later + timedelta(days=30) and tenant.plan == "advanced"
    await billing.grant(session, tenant.id, 5_000, key="plan:c2", reason="plan allowance")
    assert (await billing.platform_balance(session, tenant.id)).balance == 25_000


async def test_ran_dry_is_told_once_a_day(redis_url: str) -> None:
    redis = redis_asyncio.from_url(redis_url)  # type: ignore[no-untyped-call]
    try:
        assert await billing.tenant_ran_dry(redis, 7, now=T0) is True
        for _ in range(5):
            assert await billing.tenant_ran_dry(redis, 7, now=T0 + timedelta(hours=1)) is False
        assert await billing.tenant_ran_dry(redis, 8, now=T0) is True  # another tenant
        assert await billing.tenant_ran_dry(redis, 7, now=T0 + timedelta(days=1)) is True
    finally:
        await redis.aclose()
