"""All SQL on the rollup table."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select, utcnow
from core.models import TenantDailyStat
from tenants.stats.sources import StatRow, Window, as_date

BATCH = 500


async def replace_window(session: AsyncSession, window: Window, rows: Sequence[StatRow]) -> None:
    """Make the window's rows exactly ``rows``: delete what is there, then upsert (an upsert,
    not a plain insert, so two runs over the same days — the cron and a backfill — can
    overlap without a unique violation; the later commit wins with the same numbers)."""
    statement = delete(TenantDailyStat).where(
        TenantDailyStat.day >= window.start, TenantDailyStat.day <= window.end
    )
    if window.tenant_id is not None:
        statement = statement.where(TenantDailyStat.tenant_id == window.tenant_id)
    await session.execute(statement)
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    insert: Any = pg_insert if dialect == "postgresql" else sqlite_insert
    now = utcnow()
    for offset in range(0, len(rows), BATCH):
        values = [
            {"tenant_id": t, "day": d, "metric": m, "value": v, "updated_at": now}
            for t, d, m, v in rows[offset : offset + BATCH]
        ]
        upsert = insert(TenantDailyStat).values(values)
        await session.execute(
            upsert.on_conflict_do_update(
                index_elements=["tenant_id", "day", "metric"],
                set_={"value": upsert.excluded.value, "updated_at": upsert.excluded.updated_at},
            )
        )


async def read(
    session: AsyncSession, tenant_id: int, start: date, end: date
) -> list[tuple[date, str, int]]:
    """The tenant's rollup rows from ``start`` to ``end`` inclusive (one index range scan)."""
    statement = (
        tenant_select(TenantDailyStat, tenant_id)
        .with_only_columns(TenantDailyStat.day, TenantDailyStat.metric, TenantDailyStat.value)
        .where(TenantDailyStat.day >= start, TenantDailyStat.day <= end)
    )
    rows = (await session.execute(statement)).all()
    return [(as_date(day), str(metric), int(value)) for day, metric, value in rows]


async def updated_at(session: AsyncSession, tenant_id: int, start: date) -> datetime | None:
    statement = (
        tenant_select(TenantDailyStat, tenant_id)
        .with_only_columns(func.max(TenantDailyStat.updated_at))
        .where(TenantDailyStat.day >= start)
    )
    value = await session.scalar(statement)
    return value if isinstance(value, datetime) else None
