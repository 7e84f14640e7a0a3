"""All SQL of the Mini App wallet beyond the ledger's own (tenant-scoped)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.models import User


async def get_fan(session: AsyncSession, tenant_id: int, user_id: int) -> User | None:
    return await session.scalar(tenant_select(User, tenant_id).where(User.id == user_id))
