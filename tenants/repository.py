"""All SQL of the tenants area. Tenants are the root of scoping, so only bots are tenant-owned."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.models import Tenant, TenantBot


async def get_tenant(session: AsyncSession, tenant_id: int) -> Tenant | None:
    return await session.get(Tenant, tenant_id)


async def get_bot_by_telegram_id(session: AsyncSession, telegram_bot_id: int) -> TenantBot | None:
    result = await session.execute(
        select(TenantBot).where(TenantBot.telegram_bot_id == telegram_bot_id)
    )
    return result.scalar_one_or_none()


async def list_tenants_with_bots(
    session: AsyncSession, *, include_disabled: bool = True
) -> Sequence[tuple[Tenant, TenantBot | None]]:
    statement = (
        select(Tenant, TenantBot)
        .outerjoin(TenantBot, TenantBot.tenant_id == Tenant.id)
        .order_by(Tenant.id)
    )
    if not include_disabled:
        statement = statement.where(Tenant.is_active.is_(True))
    result = await session.execute(statement)
    return [(tenant, bot) for tenant, bot in result.all()]


async def list_bots_of_tenant(session: AsyncSession, tenant_id: int) -> Sequence[TenantBot]:
    result = await session.execute(tenant_select(TenantBot, tenant_id).order_by(TenantBot.id))
    return result.scalars().all()
