"""Wallet routes: the fan's credits and their ledger history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from core import ledger
from core.ledger import history
from miniapp_api.auth.deps import UserDep
from miniapp_api.deps import SessionDep
from miniapp_api.wallet.schemas import EntryOut, HistoryOut, WalletOut

router = APIRouter()


@router.get("")
async def wallet(user: UserDep, session: SessionDep) -> WalletOut:
    found = await ledger.user_balance(session, user.tenant_id, user.user_id)
    return WalletOut(balance=found.balance, reserved=found.reserved, available=found.available)


def _entry_out(entry: history.HistoryEntry) -> EntryOut:
    job_id, tool = entry.meta.get("job_id"), entry.meta.get("tool")
    return EntryOut(
        id=entry.id,
        kind=entry.kind,
        amount=entry.amount,
        reserved_delta=entry.reserved_delta,
        balance_after=entry.balance_after,
        reason=entry.reason,
        job_id=job_id if isinstance(job_id, int) else None,
        tool=tool if isinstance(tool, str) else None,
        created_at=entry.created_at,
    )


@router.get("/history")
async def wallet_history(
    user: UserDep,
    session: SessionDep,
    cursor: Annotated[str | None, Query(pattern=r"^[1-9][0-9]{0,18}$")] = None,
    limit: Annotated[int, Query(ge=1, le=history.MAX_PAGE)] = 50,
) -> HistoryOut:
    """The fan's ledger entries, newest first; pass ``next_cursor`` back as ``cursor``."""
    page = await history.user_history(
        session,
        user.tenant_id,
        user.user_id,
        before_id=int(cursor) if cursor else None,
        limit=limit,
    )
    return HistoryOut(
        entries=[_entry_out(e) for e in page.entries],
        next_cursor=None if page.next_cursor is None else str(page.next_cursor),
    )
