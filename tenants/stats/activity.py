"""Which fans were active on which UTC day, written at most once per fan, source and day.

The bot's hot path must not write the database on every update, so a day is recorded behind a
Redis gate (``SET NX``): the first update of a fan's day inserts one ``user_activity_days`` row,
every later one costs nothing — not even the gate's round trip, because the middleware only asks
when it writes the fan's row anyway (``last_seen_at``, at most every five minutes) or when the
cached snapshot is from an earlier day (:func:`bot_visit_due`).

The gate is first set for a minute (*pending*) and made to last two days only once the
transaction that inserted the row committed (:func:`confirm_visit`, an after-commit step): a
rolled-back update leaves the day unrecorded for at most a minute instead of for good.

Days are UTC days everywhere (stats, streaks): one definition for every tenant and fan, with no
time-zone data to keep; a fan far from Greenwich sees their day change at a fixed local hour.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.models import ActivitySource, UserActivityDay
from tenants.users import BotUser

PENDING_TTL = 60
GATE_TTL = 2 * 24 * 3600


def utc_day(moment: datetime | float) -> date:
    """The UTC calendar day of a timestamp (aware datetime or epoch seconds)."""
    if isinstance(moment, datetime):
        return moment.astimezone(UTC).date()
    return datetime.fromtimestamp(moment, UTC).date()


def gate_key(tenant_id: int, user_id: int, source: ActivitySource, day: date) -> str:
    return f"act:{tenant_id}:{user_id}:{source.value}:{day:%Y%m%d}"


def bot_visit_due(seen: float, written: bool, now: float) -> bool:
    """Whether this update may be the fan's first of the day: their row was just written
    (which happens at least every five minutes of activity), or the snapshot that spared the
    write is from an earlier UTC day."""
    return written or utc_day(seen) != utc_day(now)


async def note_visit(
    redis: Redis,
    session: AsyncSession,
    *,
    tenant_id: int,
    user_id: int,
    source: ActivitySource,
    day: date,
) -> bool:
    """Record the day unless the gate says it is (being) recorded; True when a row was
    written in ``session`` and :func:`confirm_visit` should follow its commit."""
    if not await redis.set(
        gate_key(tenant_id, user_id, source, day), b"p", nx=True, ex=PENDING_TTL
    ):
        return False
    await insert_day(session, tenant_id=tenant_id, user_id=user_id, source=source, day=day)
    return True


async def confirm_visit(
    redis: Redis, tenant_id: int, user_id: int, source: ActivitySource, day: date
) -> None:
    await redis.set(gate_key(tenant_id, user_id, source, day), b"1", ex=GATE_TTL)


async def track_bot_visit(
    redis: Redis,
    session: AsyncSession,
    after_commit: list[Callable[[], Awaitable[Any]]],
    user: BotUser,
    *,
    written: bool,
    now: float | None = None,
) -> None:
    """The user middleware's one call: a cheap in-process check, then the gated insert; the
    gate is confirmed by an ``after_commit`` step of the update."""
    now = time.time() if now is None else now
    if not bot_visit_due(user.seen, written, now):
        return
    day = utc_day(now)
    source = ActivitySource.BOT
    tenant_id, user_id = user.tenant_id, user.id
    if await note_visit(
        redis, session, tenant_id=tenant_id, user_id=user_id, source=source, day=day
    ):
        after_commit.append(partial(confirm_visit, redis, tenant_id, user_id, source, day))


async def insert_day(
    session: AsyncSession, *, tenant_id: int, user_id: int, source: ActivitySource, day: date
) -> None:
    """Insert the (fan, source, day) row; an existing one is left alone."""
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(UserActivityDay)
        .values(tenant_id=tenant_id, user_id=user_id, day=day, source=source.value)
        .on_conflict_do_nothing(index_elements=["tenant_id", "user_id", "source", "day"])
    )


async def app_streak(
    session: AsyncSession, *, tenant_id: int, user_id: int, today: date, longest: int
) -> int:
    """Consecutive UTC days with a Mini App open, ending today — or yesterday, so a fan who
    has not opened the app yet today keeps their streak until the day is over. Counts at most
    ``longest`` days (a task only needs to know whether its target is reached)."""
    since = today - timedelta(days=longest + 1)  # a streak may end yesterday
    statement = (
        tenant_select(UserActivityDay, tenant_id)
        .with_only_columns(UserActivityDay.day)
        .where(
            UserActivityDay.user_id == user_id,
            UserActivityDay.source == ActivitySource.APP.value,
            UserActivityDay.day > since,
            UserActivityDay.day <= today,
        )
    )
    days = set((await session.execute(statement)).scalars())
    cursor = today if today in days else today - timedelta(days=1)
    streak = 0
    while cursor in days and streak < longest:
        streak += 1
        cursor -= timedelta(days=1)
    return streak
