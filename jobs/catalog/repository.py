"""All SQL of the catalogue. Tools are platform rows; tenant settings go through
:func:`core.db.tenant_select`."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.models.catalog import TenantToolSettings, Tool


async def all_tools(session: AsyncSession, *, active_only: bool = False) -> Sequence[Tool]:
    stmt = select(Tool).order_by(Tool.sort_order, Tool.id)
    if active_only:
        stmt = stmt.where(Tool.is_active.is_(True))
    return (await session.scalars(stmt)).all()


async def tool_by_slug(session: AsyncSession, slug: str) -> Tool | None:
    return await session.scalar(select(Tool).where(Tool.slug == slug))


async def tool_by_id(session: AsyncSession, tool_id: int) -> Tool | None:
    return await session.get(Tool, tool_id)


async def tenant_settings(session: AsyncSession, tenant_id: int) -> dict[int, TenantToolSettings]:
    rows = (await session.scalars(tenant_select(TenantToolSettings, tenant_id))).all()
    return {row.tool_id: row for row in rows}


async def tenant_setting(
    session: AsyncSession, tenant_id: int, tool_id: int
) -> TenantToolSettings | None:
    stmt = tenant_select(TenantToolSettings, tenant_id).where(TenantToolSettings.tool_id == tool_id)
    return await session.scalar(stmt)
