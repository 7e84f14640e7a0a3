"""All SQL of broadcasts. Every statement starts from the tenant (``tenant_select`` or an
explicit ``tenant_id`` filter); the sender's statements also carry its lease token, so a
sender that lost its lease changes nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, bindparam, case, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from core.db import tenant_select, utcnow
from core.models import Broadcast, BroadcastDelivery, BroadcastStatus, DeliveryStatus, User

ACTIVE = (BroadcastStatus.RUNNING, BroadcastStatus.PAUSED, BroadcastStatus.LIMITED)
COUNTERS = {
    DeliveryStatus.SENT: "sent",
    DeliveryStatus.FAILED: "failed",
    DeliveryStatus.BLOCKED: "blocked",
    DeliveryStatus.UNCONFIRMED: "unconfirmed",
}


@dataclass(frozen=True, slots=True)
class Recipient:
    delivery_id: int
    user_id: int
    telegram_id: int
    attempts: int = 0


@dataclass(frozen=True, slots=True)
class Result:
    """What became of one claimed delivery (``PENDING``: not delivered, to be tried again)."""

    delivery_id: int
    status: DeliveryStatus
    message_id: int | None = None
    error: str | None = None


async def get(session: AsyncSession, tenant_id: int, broadcast_id: int) -> Broadcast | None:
    return await session.scalar(
        tenant_select(Broadcast, tenant_id).where(Broadcast.id == broadcast_id)
    )


async def get_locked(session: AsyncSession, tenant_id: int, broadcast_id: int) -> Broadcast | None:
    """The row, locked until commit (PostgreSQL; SQLite serialises writers anyway)."""
    return await session.scalar(
        tenant_select(Broadcast, tenant_id)
        .where(Broadcast.id == broadcast_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


async def page(
    session: AsyncSession, tenant_id: int, *, before: int | None, limit: int
) -> Sequence[Broadcast]:
    statement = tenant_select(Broadcast, tenant_id)
    if before is not None:
        statement = statement.where(Broadcast.id < before)
    result = await session.scalars(statement.order_by(Broadcast.id.desc()).limit(limit))
    return result.all()


async def active_of_tenant(
    session: AsyncSession, tenant_id: int, *, other_than: int
) -> Broadcast | None:
    return await session.scalar(
        tenant_select(Broadcast, tenant_id)
        .where(Broadcast.status.in_(ACTIVE), Broadcast.id != other_than)
        .limit(1)
    )


def _audience(
    tenant_id: int, where: Sequence[ColumnElement[bool]], after: int, upto: int | None
) -> list[ColumnElement[bool]]:
    window = [User.tenant_id == tenant_id, User.is_blocked.is_(False), User.id > after]
    if upto is not None:
        window.append(User.id <= upto)
    return [*window, *where]


async def count_audience(
    session: AsyncSession,
    tenant_id: int,
    where: Sequence[ColumnElement[bool]],
    *,
    after: int = 0,
    upto: int | None = None,
) -> int:
    statement = (
        select(func.count()).select_from(User).where(*_audience(tenant_id, where, after, upto))
    )
    return int(await session.scalar(statement) or 0)


async def max_user_id(session: AsyncSession, tenant_id: int) -> int:
    value = await session.scalar(select(func.max(User.id)).where(User.tenant_id == tenant_id))
    return int(value or 0)


async def materialise(
    session: AsyncSession,
    broadcast: Broadcast,
    where: Sequence[ColumnElement[bool]],
    *,
    lease: str,
    limit: int,
) -> int | None:
    """Turn the next ``limit`` recipients after the cursor into ``pending`` deliveries and move
    the cursor past them, in the caller's transaction. Returns how many users were walked
    (0: the walk is over), or None when the lease is gone."""
    rows = (
        await session.execute(
            select(User.id, User.telegram_id)
            .where(*_audience(broadcast.tenant_id, where, broadcast.cursor, broadcast.max_user_id))
            .order_by(User.id)
            .limit(limit)
        )
    ).all()
    if not rows:
        return 0
    values = [
        {
            "tenant_id": broadcast.tenant_id,
            "broadcast_id": broadcast.id,
            "user_id": row.id,
            "telegram_id": row.telegram_id,
            "status": DeliveryStatus.PENDING,
            "attempts": 0,
        }
        for row in rows
    ]
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    await session.execute(
        insert(BroadcastDelivery)
        .values(values)
        .on_conflict_do_nothing(index_elements=["broadcast_id", "user_id"])
    )
    moved = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.tenant_id == broadcast.tenant_id,
            Broadcast.id == broadcast.id,
            Broadcast.lease_token == lease,
        )
        .values(cursor=rows[-1].id)
    )
    if not moved.rowcount:  # type: ignore[attr-defined]
        return None
    broadcast.cursor = rows[-1].id
    return len(rows)


async def pending(
    session: AsyncSession, tenant_id: int, broadcast_id: int, *, limit: int
) -> list[Recipient]:
    rows = await session.execute(
        select(
            BroadcastDelivery.id,
            BroadcastDelivery.user_id,
            BroadcastDelivery.telegram_id,
            BroadcastDelivery.attempts,
        )
        .where(
            BroadcastDelivery.tenant_id == tenant_id,
            BroadcastDelivery.broadcast_id == broadcast_id,
            BroadcastDelivery.status == DeliveryStatus.PENDING,
        )
        .order_by(BroadcastDelivery.user_id)
        .limit(limit)
    )
    return [Recipient(row.id, row.user_id, row.telegram_id, row.attempts) for row in rows]


_CLAIM = (
    update(BroadcastDelivery)
    .where(
        BroadcastDelivery.tenant_id == bindparam("b_tenant"),
        BroadcastDelivery.id == bindparam("b_delivery"),
        BroadcastDelivery.status == DeliveryStatus.PENDING,
    )
    .values(status=DeliveryStatus.SENDING, attempts=BroadcastDelivery.attempts + 1)
)


async def claim_delivery(engine: AsyncEngine, tenant_id: int, delivery_id: int) -> bool:
    """``pending → sending``: the intent, durable when this returns (one autocommitted
    statement: the sender's hot path, one round trip per message)."""
    async with engine.connect() as connection:
        autocommit = await connection.execution_options(isolation_level="AUTOCOMMIT")
        result = await autocommit.execute(
            _CLAIM, {"b_tenant": tenant_id, "b_delivery": delivery_id}
        )
    return bool(result.rowcount)


async def record(
    session: AsyncSession, tenant_id: int, broadcast_id: int, results: Sequence[Result]
) -> dict[DeliveryStatus, int]:
    """Write the outcome of claimed deliveries (only rows still ``sending`` change) and add
    them to the broadcast's counters in the same transaction: a counter moves exactly when a
    row does."""
    moved: dict[DeliveryStatus, int] = {}
    now = utcnow()
    for status in {r.status for r in results}:
        group = [r for r in results if r.status is status]
        ids = [r.delivery_id for r in group]
        values: dict[str, Any] = {"status": status}
        if status is DeliveryStatus.SENT:
            values["sent_at"] = now
            values["message_id"] = case(
                {r.delivery_id: r.message_id for r in group}, value=BroadcastDelivery.id
            )
        errors = {r.delivery_id: r.error for r in group if r.error}
        if errors:
            values["error"] = case(errors, value=BroadcastDelivery.id, else_=None)
        changed = await session.execute(
            update(BroadcastDelivery)
            .where(
                BroadcastDelivery.tenant_id == tenant_id,
                BroadcastDelivery.id.in_(ids),
                BroadcastDelivery.status == DeliveryStatus.SENDING,
            )
            .values(**values)
            .returning(BroadcastDelivery.id)
        )
        moved[status] = len(changed.all())
    await add_counters(session, tenant_id, broadcast_id, moved)
    return moved


async def add_counters(
    session: AsyncSession,
    tenant_id: int,
    broadcast_id: int,
    moved: Mapping[DeliveryStatus, int],
    *,
    throttled: int = 0,
) -> None:
    values: dict[str, Any] = {
        COUNTERS[status]: getattr(Broadcast, COUNTERS[status]) + n
        for status, n in moved.items()
        if n and status in COUNTERS
    }
    if throttled:
        values["throttled"] = Broadcast.throttled + throttled
    if values:
        await session.execute(
            update(Broadcast)
            .where(Broadcast.tenant_id == tenant_id, Broadcast.id == broadcast_id)
            .values(**values)
        )


async def settle_in_doubt(session: AsyncSession, tenant_id: int, broadcast_id: int) -> int:
    """Deliveries left ``sending`` by a sender that died: Telegram may or may not have the
    message, and a second copy is the worse mistake, so they become ``unconfirmed``."""
    changed = await session.execute(
        update(BroadcastDelivery)
        .where(
            BroadcastDelivery.tenant_id == tenant_id,
            BroadcastDelivery.broadcast_id == broadcast_id,
            BroadcastDelivery.status == DeliveryStatus.SENDING,
        )
        .values(status=DeliveryStatus.UNCONFIRMED, error="sender stopped before the result")
        .returning(BroadcastDelivery.id)
    )
    count = len(changed.all())
    await add_counters(session, tenant_id, broadcast_id, {DeliveryStatus.UNCONFIRMED: count})
    return count


async def claim_lease(
    session: AsyncSession, tenant_id: int, broadcast_id: int, lease: str, stale_before: datetime
) -> bool:
    now = utcnow()
    result = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.tenant_id == tenant_id,
            Broadcast.id == broadcast_id,
            Broadcast.status == BroadcastStatus.RUNNING,
            (Broadcast.lease_token.is_(None)) | (Broadcast.heartbeat_at < stale_before),
        )
        .values(lease_token=lease, heartbeat_at=now, updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def beat(
    session: AsyncSession, tenant_id: int, broadcast_id: int, lease: str
) -> BroadcastStatus | None:
    """Keep the lease; the broadcast's status now (None: the lease is someone else's)."""
    status = await session.scalar(
        update(Broadcast)
        .where(
            Broadcast.tenant_id == tenant_id,
            Broadcast.id == broadcast_id,
            Broadcast.lease_token == lease,
        )
        .values(heartbeat_at=utcnow())
        .returning(Broadcast.status)
    )
    return BroadcastStatus(status) if status is not None else None


async def release(
    session: AsyncSession,
    tenant_id: int,
    broadcast_id: int,
    lease: str,
    *,
    status: BroadcastStatus | None = None,
) -> bool:
    """Give the lease back; with ``status``, move a still-running broadcast there too."""
    now = utcnow()
    values: dict[str, Any] = {"lease_token": None, "updated_at": now}
    if status is not None:
        values["status"] = case(
            (Broadcast.status == BroadcastStatus.RUNNING, status), else_=Broadcast.status
        )
        if status.final:
            values["finished_at"] = now
    result = await session.execute(
        update(Broadcast)
        .where(
            Broadcast.tenant_id == tenant_id,
            Broadcast.id == broadcast_id,
            Broadcast.lease_token == lease,
        )
        .values(**values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def stalled(
    session: AsyncSession, *, stale_before: datetime, idle_before: datetime, limit: int
) -> list[tuple[int, int, BroadcastStatus]]:
    """Running broadcasts whose sender died (stale heartbeat) or whose job was lost (no lease
    for a while), and limited ones to check for quota — across tenants, for the sweep."""
    rows = await session.execute(
        select(Broadcast.tenant_id, Broadcast.id, Broadcast.status)
        .where(
            (
                (Broadcast.status == BroadcastStatus.RUNNING)
                & (
                    (Broadcast.heartbeat_at < stale_before)
                    | (Broadcast.lease_token.is_(None) & (Broadcast.updated_at < idle_before))
                )
            )
            | (Broadcast.status == BroadcastStatus.LIMITED)
        )
        .order_by(Broadcast.id)
        .limit(limit)
    )
    return [(row.tenant_id, row.id, BroadcastStatus(row.status)) for row in rows]


async def purge_deliveries(session: AsyncSession, finished_before: datetime, batch: int) -> int:
    """Delete up to ``batch`` delivery rows of broadcasts that finished (completed or
    cancelled) before ``finished_before``; the broadcasts and their totals stay. A batch per
    call keeps each transaction short."""
    finished = select(Broadcast.id).where(
        Broadcast.status.in_([BroadcastStatus.COMPLETED.value, BroadcastStatus.CANCELLED.value]),
        Broadcast.finished_at < finished_before,
    )
    doomed = (
        select(BroadcastDelivery.id)
        .where(BroadcastDelivery.broadcast_id.in_(finished))
        .limit(batch)
    )
    result = await session.execute(
        delete(BroadcastDelivery).where(BroadcastDelivery.id.in_(doomed.scalar_subquery()))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
