"""Daily rollups of a tenant's numbers, and the report the panel and ``/stats`` show.

Rollups are rebuilt from events — never incremented — so running one twice, late or over
days already done gives the same rows: the arq cron rebuilds yesterday and today every ten
minutes (today incrementally, yesterday once more after midnight so late events land), and a
backfill rebuilds any range in chunks. The report reads only the rollup table (one index range
scan per request), so the panel costs the same for a tenant with ten fans or a million.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import session_scope
from tenants.stats import repository as repo
from tenants.stats.sources import SOURCES, StatRow, StatsSource, Window, stock_metrics

logger = logging.getLogger(__name__)

PERIODS = (7, 30, 90)
BACKFILL_CHUNK_DAYS = 31
REVENUE_PREFIX = "revenue."


async def rollup(
    session: AsyncSession,
    start: date,
    end: date,
    *,
    tenant_id: int | None = None,
    sources: Sequence[StatsSource] | None = None,
) -> int:
    """Rebuild the rollup rows of days ``start``..``end`` (one tenant or all); returns how
    many rows now describe the window."""
    window = Window(start, end, tenant_id)
    rows: list[StatRow] = []
    for source in SOURCES if sources is None else sources:
        rows.extend(row for row in await source.collect(session, window) if row[3])
    await repo.replace_window(session, window, rows)
    return len(rows)


async def rollup_recent(session: AsyncSession, now: datetime, tenant_id: int | None = None) -> int:
    """The cron's run: yesterday (late events, the final figure) and today (so far)."""
    today = now.date()
    return await rollup(session, today - timedelta(days=1), today, tenant_id=tenant_id)


async def backfill(
    factory: async_sessionmaker[AsyncSession],
    *,
    days: int,
    today: date,
    tenant_id: int | None = None,
) -> int:
    """Rebuild the last ``days`` days, a chunk of days per transaction (short locks, and a
    failure loses one chunk only)."""
    rows = 0
    end = today
    first = today - timedelta(days=days - 1)
    while end >= first:
        start = max(first, end - timedelta(days=BACKFILL_CHUNK_DAYS - 1))
        async with session_scope(factory) as session:
            rows += await rollup(session, start, end, tenant_id=tenant_id)
        logger.info("stats backfilled %s..%s", start, end, extra={"tenant_id": tenant_id})
        end = start - timedelta(days=1)
    return rows


# -- the report ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyNumbers:
    total_users: int
    new_users: int
    active_today: int
    active_average: int
    revenue: int  # Stars, every kind of sale
    refunds: int
    jobs: int
    credits_spent: int
    tasks_completed: int


@dataclass(frozen=True, slots=True)
class StatsReport:
    days: list[date]
    series: dict[str, list[int]]  # metric -> one value per day (zero-filled)
    totals: dict[str, int]  # metric -> sum over the period (last value for stock metrics)
    key: KeyNumbers
    previous: KeyNumbers  # the same numbers for the period just before
    revenue_by_source: dict[str, int] = field(default_factory=dict)
    updated_at: datetime | None = None

    def values(self, metric: str) -> list[int]:
        return self.series.get(metric, [0] * len(self.days))


async def report(session: AsyncSession, tenant_id: int, *, days: int, today: date) -> StatsReport:
    """Series and key numbers of the last ``days`` days (today included) and the period
    before, from the rollups alone."""
    start = today - timedelta(days=days - 1)
    earlier = start - timedelta(days=days)
    rows = await repo.read(session, tenant_id, earlier, today)
    current = _period(rows, start, today)
    before = _period(rows, earlier, start - timedelta(days=1))
    totals = _totals(current)
    return StatsReport(
        days=_days(start, today),
        series={metric: values for metric, values in current.items()},
        totals=totals,
        key=_key_numbers(current, totals),
        previous=_key_numbers(before, _totals(before)),
        revenue_by_source={
            metric.removeprefix(REVENUE_PREFIX): value
            for metric, value in sorted(totals.items())
            if metric.startswith(REVENUE_PREFIX)
        },
        updated_at=await repo.updated_at(session, tenant_id, earlier),
    )


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _period(rows: Iterable[tuple[date, str, int]], start: date, end: date) -> dict[str, list[int]]:
    days = _days(start, end)
    index = {day: n for n, day in enumerate(days)}
    series: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    for day, metric, value in rows:
        if day in index:
            series[metric][index[day]] = value
    return dict(series)


def _totals(series: dict[str, list[int]]) -> dict[str, int]:
    stocks = stock_metrics()
    totals = {}
    for metric, values in series.items():
        if metric in stocks:
            totals[metric] = next((v for v in reversed(values) if v), 0)
        else:
            totals[metric] = sum(values)
    return totals


def _key_numbers(series: dict[str, list[int]], totals: dict[str, int]) -> KeyNumbers:
    active = series.get("users.active", [])
    return KeyNumbers(
        total_users=totals.get("users.total", 0),
        new_users=totals.get("users.new", 0),
        active_today=active[-1] if active else 0,
        active_average=round(sum(active) / len(active)) if active else 0,
        revenue=sum(v for m, v in totals.items() if m.startswith(REVENUE_PREFIX)),
        refunds=totals.get("refunds.stars", 0),
        jobs=totals.get("jobs.created", 0),
        credits_spent=totals.get("credits.spent", 0),
        tasks_completed=totals.get("tasks.completed", 0),
    )
