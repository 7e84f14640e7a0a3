"""The worker's payment tasks against the emulator: owner notices through the manager bot."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.db import utcnow
from core.models import TenantRole
from jobs.payments_tasks import expire_plans, notify_tenant_dry, reconcile_payments
from tenants import billing
from tests.bot import conftest as bot_fixtures
from tests.bot.conftest import Platform

# The bot tests' running platform (emulator + served API), reused here.
emulator = bot_fixtures.emulator
start_platform = bot_fixtures.start_platform
platform = bot_fixtures.platform


def _ctx(platform: Platform) -> dict[str, Any]:
    return {
        "settings": platform.settings,
        "session_factory": platform.session_factory,
        "redis": platform.runtime.redis,
    }


async def test_expiry_reminds_then_downgrades_and_dry_notice(platform: Platform) -> None:
    manager, _ = await platform.add_tenant("Atelier", role=TenantRole.PLATFORM)
    owner = await platform.user("Olga", "tr")
    _, tenant_id = await platform.add_tenant("Art Studio", owner_telegram_id=owner.id)
    await platform.emulator.start(manager, owner)
    await platform.settled(manager, owner)  # the welcome first
    now = utcnow()
    async with platform.session_factory() as session:
        await billing.apply_plan_payment(session, tenant_id, "advanced", charge_id="c1", now=now)
        await session.commit()

    ctx = _ctx(platform)
    soon = (now + timedelta(days=28)).timestamp()
    assert await expire_plans(ctx, soon) == {"reminders": 1, "expired": 0, "sent": 1}
    assert await expire_plans(ctx, soon) == {"reminders": 0, "expired": 0, "sent": 0}
    ended = (now + timedelta(days=31)).timestamp()
    assert await expire_plans(ctx, ended) == {"reminders": 0, "expired": 1, "sent": 1}
    assert await notify_tenant_dry(ctx, tenant_id) is True

    texts = [e.text or "" for e in await platform.settled(manager, owner)]
    assert texts[-3].startswith("@tenant") and "Advanced planı" in texts[-3]
    assert "Basic limitlerinde" in texts[-2]
    assert "platform kredilerini tüketti" in texts[-1]
    async with platform.session_factory() as session:
        sub = await billing.subscription_of(session, tenant_id)
    assert sub is not None and sub.expired_at is not None


async def test_reconcile_task_runs_over_active_bots(platform: Platform) -> None:
    await platform.add_tenant("Art Studio")
    summary = await reconcile_payments(_ctx(platform))
    assert summary == {"bots": 1, "transactions": 0, "repaired": 0, "mismatches": 0}
