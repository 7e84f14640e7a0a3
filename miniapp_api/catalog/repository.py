"""All SQL of the Mini App tool store: the fan's favourites and language (tenant-scoped)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.models import Tool, ToolFavourite, User


async def user_language(session: AsyncSession, tenant_id: int, user_id: int) -> str | None:
    """The fan's chosen language, else the one Telegram reports."""
    stmt = tenant_select(User, tenant_id).where(User.id == user_id)
    user = await session.scalar(stmt)
    return None if user is None else (user.language or user.language_code)


async def favourite_slugs(session: AsyncSession, tenant_id: int, user_id: int) -> set[str]:
    favourites = (
        tenant_select(ToolFavourite, tenant_id)
        .where(ToolFavourite.user_id == user_id)
        .with_only_columns(ToolFavourite.tool_id)
    )
    return set((await session.scalars(select(Tool.slug).where(Tool.id.in_(favourites)))).all())


async def add_favourite(session: AsyncSession, tenant_id: int, user_id: int, tool_id: int) -> None:
    """Idempotent: a second add (even a concurrent one) leaves the one row there is."""
    existing = await session.scalar(
        tenant_select(ToolFavourite, tenant_id).where(
            ToolFavourite.user_id == user_id, ToolFavourite.tool_id == tool_id
        )
    )
    if existing is not None:
        return
    try:
        async with session.begin_nested():
            session.add(ToolFavourite(tenant_id=tenant_id, user_id=user_id, tool_id=tool_id))
    except IntegrityError:
        pass  # added by a concurrent request meanwhile


async def remove_favourite(
    session: AsyncSession, tenant_id: int, user_id: int, tool_id: int
) -> None:
    await session.execute(
        delete(ToolFavourite).where(
            ToolFavourite.tenant_id == tenant_id,
            ToolFavourite.user_id == user_id,
            ToolFavourite.tool_id == tool_id,
        )
    )
