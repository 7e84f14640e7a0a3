"""All SQL of TON payments: prices, invoices, the merchant wallet's transactions, the watcher's
cursor and payouts.

Tenant-owned tables (prices, invoices, payouts) are read through :func:`core.db.tenant_select`.
Three statements are platform-wide on purpose, and only the watcher and the payout worker call
them: finding invoices by their (globally unique) comments, the cursor, and the payout queue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.models import Tenant, TonInvoice, TonPayout, TonPrice, TonTransaction, TonWatchCursor
from core.models.ton_payments import TON_ASSET, InvoiceStatus, PayoutStatus


def _insert(session: AsyncSession) -> Any:
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    return pg_insert if dialect == "postgresql" else sqlite_insert


# -- prices --------------------------------------------------------------------------------------


async def prices(
    session: AsyncSession, tenant_id: int, kind: str | None = None
) -> Sequence[TonPrice]:
    statement = tenant_select(TonPrice, tenant_id).order_by(
        TonPrice.item_kind, TonPrice.item_id, TonPrice.asset
    )
    if kind is not None:
        statement = statement.where(TonPrice.item_kind == kind)
    return (await session.execute(statement)).scalars().all()


async def price(
    session: AsyncSession, tenant_id: int, kind: str, item_id: int, asset: str = TON_ASSET
) -> TonPrice | None:
    return await session.scalar(
        tenant_select(TonPrice, tenant_id).where(
            TonPrice.item_kind == kind, TonPrice.item_id == item_id, TonPrice.asset == asset
        )
    )


# -- invoices ------------------------------------------------------------------------------------


async def invoice(session: AsyncSession, tenant_id: int, invoice_id: int) -> TonInvoice | None:
    return await session.scalar(
        tenant_select(TonInvoice, tenant_id).where(TonInvoice.id == invoice_id)
    )


async def invoices_by_comment(
    session: AsyncSession, comments: Iterable[str]
) -> dict[str, TonInvoice]:
    """Platform-wide (comments are unique across tenants), locked for the watcher's update."""
    wanted = sorted(set(comments))
    if not wanted:
        return {}
    rows = await session.scalars(
        select(TonInvoice).where(TonInvoice.comment.in_(wanted)).with_for_update()
    )
    return {row.comment: row for row in rows}


async def expire_invoices(session: AsyncSession, now: datetime) -> int:
    """Pending invoices past their expiry become ``expired`` (platform-wide sweep)."""
    result = await session.execute(
        update(TonInvoice)
        .where(TonInvoice.status == InvoiceStatus.PENDING, TonInvoice.expires_at < now)
        .values(status=InvoiceStatus.EXPIRED)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# -- the merchant wallet's transactions ----------------------------------------------------------


async def insert_transactions(session: AsyncSession, rows: list[dict[str, Any]]) -> set[str]:
    """Insert what is new; the hashes of the rows actually inserted (UNIQUE ``tx_hash``).

    One cached statement executed for many rows (SQLAlchemy batches them into multi-row
    INSERTs with RETURNING), not a freshly compiled statement per page."""
    if not rows:
        return set()
    statement = (
        _insert(session)(TonTransaction)
        .on_conflict_do_nothing(index_elements=["tx_hash"])
        .returning(TonTransaction.tx_hash)
    )
    return set((await session.execute(statement, rows)).scalars())


async def set_outcome(session: AsyncSession, tx_hash: str, outcome: str) -> None:
    await session.execute(
        update(TonTransaction).where(TonTransaction.tx_hash == tx_hash).values(outcome=outcome)
    )


# -- the cursor ----------------------------------------------------------------------------------


async def lock_cursor(session: AsyncSession, account: str) -> TonWatchCursor:
    """The account's cursor row, created at 0 on first use and locked until commit, so two
    watchers read one page after the other, never the same page at once."""
    await session.execute(
        _insert(session)(TonWatchCursor)
        .values(account=account, last_lt=0)
        .on_conflict_do_nothing(index_elements=["account"])
    )
    cursor = await session.scalar(
        select(TonWatchCursor)
        .where(TonWatchCursor.account == account)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert cursor is not None
    return cursor


# -- earnings and payouts ------------------------------------------------------------------------


async def lock_tenant(session: AsyncSession, tenant_id: int) -> None:
    await session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())


async def paid_totals(session: AsyncSession, tenant_id: int) -> tuple[int, int, int]:
    """(invoices, gross, creator share) of the tenant's paid TON invoices."""
    statement = select(
        func.count(TonInvoice.id),
        func.coalesce(func.sum(TonInvoice.amount_due), 0),
        func.coalesce(func.sum(TonInvoice.creator_amount), 0),
    ).where(
        TonInvoice.tenant_id == tenant_id,
        TonInvoice.status == InvoiceStatus.PAID,
        TonInvoice.asset == TON_ASSET,
    )
    count, gross, share = (await session.execute(statement)).one()
    return int(count), int(gross), int(share)


async def payout_totals(session: AsyncSession, tenant_id: int) -> dict[str, int]:
    """Sum of payout amounts per status."""
    statement = (
        select(TonPayout.status, func.coalesce(func.sum(TonPayout.amount), 0))
        .where(TonPayout.tenant_id == tenant_id)
        .group_by(TonPayout.status)
    )
    return {str(status): int(total) for status, total in (await session.execute(statement)).all()}


async def paid_out_since(session: AsyncSession, tenant_id: int, since: datetime) -> int:
    """What the tenant's payouts requested since ``since`` add up to (failed ones excluded)."""
    statement = select(func.coalesce(func.sum(TonPayout.amount), 0)).where(
        TonPayout.tenant_id == tenant_id,
        TonPayout.created_at >= since,
        TonPayout.status != PayoutStatus.FAILED,
    )
    return int((await session.execute(statement)).scalar_one())


async def payouts(session: AsyncSession, tenant_id: int, limit: int = 50) -> Sequence[TonPayout]:
    statement = tenant_select(TonPayout, tenant_id).order_by(TonPayout.id.desc()).limit(limit)
    return (await session.execute(statement)).scalars().all()


async def payout_in_flight(session: AsyncSession) -> TonPayout | None:
    """The oldest signed, unconfirmed payout (platform-wide: one wallet, one seqno at a time)."""
    return await session.scalar(
        select(TonPayout)
        .where(TonPayout.status == PayoutStatus.SIGNED)
        .order_by(TonPayout.id)
        .limit(1)
    )


async def next_requested_payout(session: AsyncSession) -> TonPayout | None:
    return await session.scalar(
        select(TonPayout)
        .where(TonPayout.status == PayoutStatus.REQUESTED)
        .order_by(TonPayout.id)
        .limit(1)
    )


async def claim_payout(
    session: AsyncSession, payout_id: int, expected: str | None, values: dict[str, Any]
) -> bool:
    """Write ``values`` only if the payout's message hash is still ``expected`` (``None``: not
    signed yet and still requested) — the second of two racing workers writes nothing."""
    condition = (
        TonPayout.message_hash.is_(None) & (TonPayout.status == PayoutStatus.REQUESTED)
        if expected is None
        else TonPayout.message_hash == expected
    )
    result = await session.execute(
        update(TonPayout).where(TonPayout.id == payout_id, condition).values(**values)
    )
    return bool(getattr(result, "rowcount", 0))
