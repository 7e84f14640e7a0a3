"""VIP charges under races: distinct charges of one fan all count (30 days each, none lost to a
concurrent write), duplicates of a charge count once, and the period is never shortened."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import session_scope, utcnow
from core.models import Payment, Tenant, User, VipSubscription
from tenants import payments
from tenants.vip import service as vip
from tenants.vip.service import PackageDraft

Factory = async_sessionmaker[AsyncSession]


async def test_racing_charges_add_up_and_duplicates_count_once(session_factory: Factory) -> None:
    async with session_scope(session_factory) as session:
        tenant = Tenant(name="studio")
        session.add(tenant)
        await session.flush()
        fan = User(tenant_id=tenant.id, telegram_id=77)
        session.add(fan)
        await session.flush()
        package = await vip.create_package(
            session, tenant.id, PackageDraft(name="Gold", price_stars=300)
        )
        order, _ = await vip.create_vip_order(
            session, tenant.id, user_id=fan.id, telegram_user_id=77, package_id=package.id
        )
        payload = payments.payload_of(order)
    start = utcnow()

    async def charge(charge_id: str) -> bool:
        async with session_scope(session_factory) as session:
            outcome = await payments.record_charge(
                session,
                tenant.id,
                charge_id=charge_id,
                payload=payload,
                currency="XTR",
                stars=300,
                telegram_user_id=77,
                is_recurring=True,
            )
            return outcome.created

    ids = [f"stx{n}" for n in range(8)]
    created = await asyncio.gather(*(charge(i) for i in ids + ids[:4]))
    assert created.count(True) == 8
    async with session_factory() as session:
        sub = (await session.execute(select(VipSubscription))).scalar_one()
        count = await session.scalar(select(func.count()).select_from(Payment))
    assert count == 8
    assert abs(sub.period_end - (start + timedelta(days=240))) < timedelta(minutes=1)
    assert sub.status == "active" and sub.is_recurring
    assert sub.subscription_charge_id in ids and sub.last_charge_id in ids
