"""All SQL of the chat history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.models import ChatMessage, Tenant, TenantBot, User


async def tenants_of_bots(
    session: AsyncSession, telegram_bot_ids: Iterable[int]
) -> dict[int, tuple[int, dict[str, Any]]]:
    """Telegram bot id → (tenant id, tenant config)."""
    rows = await session.execute(
        select(TenantBot.telegram_bot_id, Tenant.id, Tenant.config)
        .join(Tenant, Tenant.id == TenantBot.tenant_id)
        .where(TenantBot.telegram_bot_id.in_(list(telegram_bot_ids)))
    )
    return {bot_id: (tenant_id, config or {}) for bot_id, tenant_id, config in rows}


async def fan_ids(
    session: AsyncSession, pairs: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    """(tenant id, Telegram id) → the fan's row id, for the fans that exist."""
    wanted = list(set(pairs))
    if not wanted:
        return {}
    rows = await session.execute(
        select(User.tenant_id, User.telegram_id, User.id).where(
            tuple_(User.tenant_id, User.telegram_id).in_(wanted)
        )
    )
    return {(tenant_id, telegram_id): user_id for tenant_id, telegram_id, user_id in rows}


async def insert_new(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert the rows whose ``stream_id`` is not stored yet; how many went in."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(ChatMessage)
    result = await session.execute(
        insert.on_conflict_do_nothing(index_elements=["stream_id"]).returning(ChatMessage.id),
        list(rows),
    )
    return len(result.all())


async def page(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    before: tuple[datetime, int] | None,
    limit: int,
) -> Sequence[ChatMessage]:
    statement = tenant_select(ChatMessage, tenant_id).where(ChatMessage.user_id == user_id)
    if before is not None:
        statement = statement.where(
            tuple_(ChatMessage.created_at, ChatMessage.id) < tuple_(*before)
        )
    statement = statement.order_by(ChatMessage.created_at.desc(), ChatMessage.id.desc())
    return (await session.execute(statement.limit(limit))).scalars().all()


async def delete_older_than(session: AsyncSession, cutoff: datetime) -> int:
    """Every tenant's messages older than ``cutoff`` (retention is platform-wide)."""
    result = await session.execute(delete(ChatMessage).where(ChatMessage.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
