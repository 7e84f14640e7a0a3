"""Wallet routes: the fan's credits, their ledger history, and credit packs bought with Stars."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from core import ledger
from core.ledger import history
from miniapp_api.auth.deps import UserDep
from miniapp_api.deps import SessionDep
from miniapp_api.tasks.deps import RuntimeDep
from miniapp_api.wallet import service
from miniapp_api.wallet.schemas import (
    EntryOut,
    HistoryOut,
    InvoiceLinkOut,
    PackOut,
    PacksOut,
    WalletOut,
)

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


@router.get("/packs")
async def wallet_packs(user: UserDep, session: SessionDep, runtime: RuntimeDep) -> PacksOut:
    """The bot's credit packs, cheapest first, in the fan's language."""
    offers = await service.pack_offers(session, runtime, user)
    return PacksOut(
        packs=[
            PackOut(
                id=offer.pack.id,
                title=offer.title,
                label=offer.label,
                credits=offer.pack.credits,
                bonus=offer.pack.bonus,
                total_credits=offer.pack.total_credits,
                stars=offer.pack.stars,
            )
            for offer in offers
        ]
    )


@router.post("/packs/{pack_id}/invoice")
async def wallet_pack_invoice(
    user: UserDep,
    session: SessionDep,
    runtime: RuntimeDep,
    pack_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
) -> InvoiceLinkOut:
    """A Stars invoice link for the pack (a fresh order each time). Paying it credits the
    wallet when the bot receives Telegram's ``successful_payment``; this call credits nothing."""
    return InvoiceLinkOut(
        invoice_link=await service.pack_invoice_link(session, runtime, user, pack_id)
    )
