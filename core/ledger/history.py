"""A fan's ledger history: their account's entries, newest first, one keyset page at a time.

Kept apart from the movement code (:mod:`core.ledger.service`): it only reads. Entries are
append-only and their ids grow, so paging on ``id`` alone is stable while new entries arrive
(the newest page just gets longer) and each page is one index range scan on
``ledger_entries.account_id``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.models.ledger import AccountKind, EntryKind, LedgerAccount, LedgerEntry

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    id: int
    kind: EntryKind
    amount: int
    """Signed change to the balance (a hold changes ``reserved_delta`` only)."""
    reserved_delta: int
    balance_after: int
    reserved_after: int
    reason: str | None
    meta: dict[str, Any]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class HistoryPage:
    entries: Sequence[HistoryEntry]
    next_cursor: int | None
    """Pass back as ``before_id`` for the next (older) page; ``None`` on the last page."""


def _entry(row: LedgerEntry) -> HistoryEntry:
    return HistoryEntry(
        id=row.id,
        kind=EntryKind(row.kind),
        amount=row.amount,
        reserved_delta=row.reserved_delta,
        balance_after=row.balance_after,
        reserved_after=row.reserved_after,
        reason=row.reason,
        meta=dict(row.meta or {}),
        created_at=row.created_at,
    )


async def user_history(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    before_id: int | None = None,
    limit: int = 50,
    kind: AccountKind = AccountKind.FAN,
) -> HistoryPage:
    """The entries of the fan's account in this tenant, newest first (empty without one)."""
    limit = max(1, min(limit, MAX_PAGE))
    account = (
        tenant_select(LedgerAccount, tenant_id)
        .where(LedgerAccount.kind == kind.value, LedgerAccount.owner_key == user_id)
        .with_only_columns(LedgerAccount.id)
        .scalar_subquery()
    )
    stmt = tenant_select(LedgerEntry, tenant_id).where(LedgerEntry.account_id == account)
    if before_id is not None:
        stmt = stmt.where(LedgerEntry.id < before_id)
    rows = (await session.scalars(stmt.order_by(LedgerEntry.id.desc()).limit(limit + 1))).all()
    page = [_entry(row) for row in rows[:limit]]
    return HistoryPage(entries=page, next_cursor=page[-1].id if len(rows) > limit else None)
