"""Where the daily numbers come from: one :class:`StatsSource` per area, pluggable.

A source turns the events of a window of UTC days into ``(tenant, day, metric, value)`` rows,
for one tenant or — the cron's case — for every tenant at once with ``GROUP BY tenant, day``, so
a run costs a fixed number of queries however many tenants there are. Areas that arrive later
add theirs with :func:`register_source` (TON payments: ``revenue.ton``) without touching the
rollup or the panel, which show whatever metrics exist.

Metrics are counts or sums for the day, except *stock* metrics (``users.total``), which are the
value at the end of the day; sources list theirs in ``stock_metrics`` so totals over a period
take the last value instead of the sum.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar, Protocol, TypeVar

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import (
    CompletionStatus,
    Job,
    JobStatus,
    Payment,
    PostUnlock,
    PostView,
    Refund,
    TaskCompletion,
    User,
    UserActivityDay,
    VipSubscription,
)
from core.models.stats import ActivitySource

StatRow = tuple[int, date, str, int]
"""(tenant id, UTC day, metric, value)"""


@dataclass(frozen=True, slots=True)
class Window:
    """UTC days ``start`` to ``end`` inclusive, for one tenant or (``tenant_id`` None) all."""

    start: date
    end: date
    tenant_id: int | None = None

    @property
    def start_at(self) -> datetime:
        return datetime.combine(self.start, time(), UTC)

    @property
    def end_at(self) -> datetime:
        """Midnight after the last day (exclusive bound)."""
        return datetime.combine(self.end + timedelta(days=1), time(), UTC)

    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


class StatsSource(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def stock_metrics(self) -> frozenset[str]:
        """Metrics that are a level at the end of the day, not a count for the day."""
        ...

    async def collect(self, session: AsyncSession, window: Window) -> Iterable[StatRow]:
        """The rows of ``window``; zero values may be left out."""
        ...


def utc_day_of(session: AsyncSession, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp column, as SQL (PostgreSQL stores aware
    timestamps, SQLite naive UTC text)."""
    if _dialect(session) == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "postgresql"


def as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


SelectT = TypeVar("SelectT", bound="Select[*tuple[Any, ...]]")


def _scoped(statement: SelectT, tenant_column: Any, window: Window) -> SelectT:
    if window.tenant_id is not None:
        statement = statement.where(tenant_column == window.tenant_id)
    return statement


async def _daily(
    session: AsyncSession,
    window: Window,
    *,
    tenant_column: Any,
    time_column: Any,
    value: Any,
    where: Sequence[Any] = (),
    group: Any = None,
) -> list[tuple[int, date, Any, int]]:
    """``value`` per (tenant, UTC day of ``time_column`` [, ``group``]) inside the window."""
    day = utc_day_of(session, time_column).label("day")
    columns = [tenant_column, day, *([group] if group is not None else []), value]
    statement = select(*columns).where(
        time_column >= window.start_at, time_column < window.end_at, *where
    )
    statement = _scoped(statement, tenant_column, window)
    group_by = [tenant_column, day, *([group] if group is not None else [])]
    rows = (await session.execute(statement.group_by(*group_by))).all()
    if group is None:
        return [(int(r[0]), as_date(r[1]), None, int(r[2] or 0)) for r in rows]
    return [(int(r[0]), as_date(r[1]), r[2], int(r[3] or 0)) for r in rows]


class UsersSource:
    """``users.new`` (fans whose row was created that day) and ``users.total`` (all fans at
    the end of the day)."""

    name = "users"
    stock_metrics: ClassVar[frozenset[str]] = frozenset({"users.total"})

    async def collect(self, session: AsyncSession, window: Window) -> Iterable[StatRow]:
        new = await _daily(
            session,
            window,
            tenant_column=User.tenant_id,
            time_column=User.created_at,
            value=func.count(),
        )
        before = _scoped(
            select(User.tenant_id, func.count())
            .where(User.created_at < window.start_at)
            .group_by(User.tenant_id),
            User.tenant_id,
            window,
        )
        totals = {int(t): int(n) for t, n in (await session.execute(before)).all()}
        per_day: dict[tuple[int, date], int] = {}
        for tenant_id, day, _, count in new:
            per_day[(tenant_id, day)] = count
            totals.setdefault(tenant_id, 0)
        rows: list[StatRow] = [(t, d, "users.new", n) for (t, d), n in per_day.items()]
        for tenant_id, running in totals.items():
            for day in window.days():
                running += per_day.get((tenant_id, day), 0)
                if running:
                    rows.append((tenant_id, day, "users.total", running))
        return rows


class ActivityDaysSource:
    """``users.active``: distinct fans seen that day (bot or app); ``users.app``: distinct
    fans who opened the Mini App."""

    name = "activity"
    stock_metrics: ClassVar[frozenset[str]] = frozenset()

    async def collect(self, session: AsyncSession, window: Window) -> Iterable[StatRow]:
        rows: list[StatRow] = []
        for metric, only_app in (("users.active", False), ("users.app", True)):
            statement = select(
                UserActivityDay.tenant_id,
                UserActivityDay.day,
                func.count(func.distinct(UserActivityDay.user_id)),
            ).where(UserActivityDay.day >= window.start, UserActivityDay.day <= window.end)
            if only_app:
                statement = statement.where(UserActivityDay.source == ActivitySource.APP.value)
            statement = _scoped(statement, UserActivityDay.tenant_id, window).group_by(
                UserActivityDay.tenant_id, UserActivityDay.day
            )
            for tenant_id, day, count in (await session.execute(statement)).all():
                rows.append((int(tenant_id), as_date(day), metric, int(count)))
        return rows


class PaymentsSource:
    """Stars by kind of sale — ``revenue.credits`` (credit packs), ``revenue.ppv``,
    ``revenue.vip``, … whatever kinds ``payments`` holds — with ``payments.<kind>`` counts, and
    ``refunds.stars`` given back that day."""

    name = "payments"
    stock_metrics: ClassVar[frozenset[str]] = frozenset()

    async def collect(self, session: AsyncSession, window: Window) -> Iterable[StatRow]:
        rows: list[StatRow] = []
        for metric, value in (("revenue", func.sum(Payment.stars)), ("payments", func.count())):
            for tenant_id, day, kind, amount in await _daily(
                session,
                window,
                tenant_column=Payment.tenant_id,
                time_column=Payment.created_at,
                value=value,
                group=Payment.kind,
            ):
                rows.append((tenant_id, day, f"{metric}.{kind}", amount))
        for tenant_id, day, _, amount in await _daily(
            session,
            window,
            tenant_column=Refund.tenant_id,
            time_column=Refund.created_at,
            value=func.sum(Refund.stars),
        ):
            rows.append((tenant_id, day, "refunds.stars", amount))
        return rows


class JobsSource:
    """Generation volume: ``jobs.created``; ``jobs.succeeded`` and ``jobs.failed`` by the day
    they ended; ``credits.spent`` (fan credits captured by succeeded jobs)."""

    name = "jobs"
    stock_metrics: ClassVar[frozenset[str]] = frozenset()

    async def collect(self, session: AsyncSession, window: Window) -> Iterable[StatRow]:
        rows: list[StatRow] = [
            (t, d, "jobs.created", n)
            for t, d, _, n in await _daily(
                session,
                window,
                tenant_column=Job.tenant_id,
                time_column=Job.created_at,
                value=func.count(),
            )
        ]
        ended = (JobStatus.SUCCEEDED.value, JobStatus.FAILED.value)
        for tenant_id, day, status, count in await _daily(
            session,
            window,
            tenant_column=Job.tenant_id,
            time_column=Job.finished_at,
            value=func.count(),
            where=[Job.status.in_(ended)],
            group=Job.status,
        ):
            rows.append((tenant_id, day, f"jobs.{status}", count))
        for tenant_id, day, _, spent in await _daily(
            session,
            window,
            tenant_column=Job.tenant_id,
            time_column=Job.finished_at,
            value=func.sum(Job.price),
            where=[Job.status == JobStatus.SUCCEEDED.value],
        ):
            rows.append((tenant_id, day, "credits.spent", spent))
        return rows


class TasksSource:
    """``tasks.completed`` and ``xp.awarded`` by the day tasks were completed."""

    name = "tasks"
    stock_metrics: ClassVar[frozenset[str]] = frozenset()

    async def collect(self, session: AsyncSession, window: Window) -> Iterable[StatRow]:
        rows: list[StatRow] = []
        completed = [TaskCompletion.status == CompletionStatus.COMPLETED.value]
        for metric, value in (
            ("tasks.completed", func.count()),
            ("xp.awarded", func.sum(TaskCompletion.xp)),
        ):
            for tenant_id, day, _, amount in await _daily(
                session,
                window,
                tenant_column=TaskCompletion.tenant_id,
                time_column=TaskCompletion.completed_at,
                value=value,
                where=completed,
            ):
                rows.append((tenant_id, day, metric, amount))
        return rows


class ContentSource:
    """``views`` (a fan's first view of a post, counted once) and ``unlocks`` with
    ``unlocks.<source>`` (ppv, vip, task, gift) by the day the unlock was granted."""

    name = "content"
    stock_metrics: ClassVar[frozenset[str]] = frozenset()

    async def collect(self, session: AsyncSession, window: Window) -> Iterable[StatRow]:
        rows: list[StatRow] = [
            (t, d, "views", n)
            for t, d, _, n in await _daily(
                session,
                window,
                tenant_column=PostView.tenant_id,
                time_column=PostView.created_at,
                value=func.count(),
            )
        ]
        totals: dict[tuple[int, date], int] = {}
        for tenant_id, day, source, count in await _daily(
            session,
            window,
            tenant_column=PostUnlock.tenant_id,
            time_column=PostUnlock.created_at,
            value=func.count(),
            group=PostUnlock.source,
        ):
            rows.append((tenant_id, day, f"unlocks.{source}", count))
            totals[(tenant_id, day)] = totals.get((tenant_id, day), 0) + count
        rows.extend((t, d, "unlocks", n) for (t, d), n in totals.items())
        return rows


class VipSource:
    """``subscribers.new`` (subscriptions started that day), ``subscribers.churned`` (expired
    that day) and the stock ``subscribers.active`` (started and not expired at the day's end)."""

    name = "vip"
    stock_metrics: ClassVar[frozenset[str]] = frozenset({"subscribers.active"})

    async def collect(self, session: AsyncSession, window: Window) -> Iterable[StatRow]:
        rows: list[StatRow] = []
        for metric, column in (
            ("subscribers.new", VipSubscription.created_at),
            ("subscribers.churned", VipSubscription.expired_at),
        ):
            rows.extend(
                (t, d, metric, n)
                for t, d, _, n in await _daily(
                    session,
                    window,
                    tenant_column=VipSubscription.tenant_id,
                    time_column=column,
                    value=func.count(),
                )
            )
        for day in window.days():
            end = datetime.combine(day + timedelta(days=1), time(), UTC)
            statement = _scoped(
                select(VipSubscription.tenant_id, func.count())
                .where(VipSubscription.created_at < end)
                .where((VipSubscription.expired_at.is_(None)) | (VipSubscription.expired_at >= end))
                .group_by(VipSubscription.tenant_id),
                VipSubscription.tenant_id,
                window,
            )
            for tenant_id, count in (await session.execute(statement)).all():
                rows.append((int(tenant_id), day, "subscribers.active", int(count)))
        return rows


SOURCES: list[StatsSource] = [
    UsersSource(),
    ActivityDaysSource(),
    PaymentsSource(),
    JobsSource(),
    TasksSource(),
    ContentSource(),
    VipSource(),
]


def register_source(source: StatsSource) -> None:
    """Add (or replace, by ``name``) a source; call it at import time of the area."""
    SOURCES[:] = [s for s in SOURCES if s.name != source.name]
    SOURCES.append(source)


def stock_metrics() -> frozenset[str]:
    return frozenset().union(*(source.stock_metrics for source in SOURCES))
