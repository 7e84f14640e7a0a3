"""The payment watcher: reads the merchant wallet's transactions from the chain and pays the
invoices they match — each transaction once, each invoice once.

One page is one database transaction (:func:`scan_page`):

1. lock the account's cursor row (``ton_watch_cursors``; a second watcher waits here);
2. ``GET /api/v3/transactions?account=<merchant>&start_lt=<cursor + 1>&sort=asc&limit=N``;
3. keep the *final* prefix of the page (``mc_block_seqno`` set) — a transaction that is not
   final yet is left for a later run, and so is everything after it;
4. record every incoming internal transfer in ``ton_transactions`` (``INSERT … ON CONFLICT
   (tx_hash) DO NOTHING``) and act only on the rows that were new;
5. for each new transfer whose value stayed with us (:func:`core.ton.transactions.verdict_of`)
   and whose comment names an invoice of the asset TON: add the amount to what the invoice
   received. Not enough yet → ``underpaid`` (the fan is told, nothing granted; a second transfer
   with the same comment can complete it). Enough → ``paid``: the item is granted
   (:func:`tenants.ton.invoices.fulfil`), the excess is recorded as ``overpaid``, the paying
   transaction's hash is stored (UNIQUE), and the creator's share is fixed with the platform fee
   of the day. An invoice already paid records the transfer as ``already_paid`` (refund by hand);
6. move the cursor to the last final transaction — in the same commit as all of the above.

A crash anywhere before the commit leaves nothing behind, so the next run reads the same page
again; a transaction recorded before is never acted on again (UNIQUE ``tx_hash``), whatever the
cursor says. Fans hear about their invoice (``paid``/``underpaid``) through jobs deferred until
the commit (``notify_ton_invoice``).

**Late payments.** A payment that arrives after the invoice expired still pays it — the fan sent
the exact comment and amount they were quoted, and the money is ours — and the invoice is
flagged ``paid_late``. (TON Connect's ``validUntil`` stops wallets from sending after expiry;
late payments come from the deep link or a hand-typed transfer.)

Usage (the worker's cron, :mod:`jobs.ton.tasks`)::

    run = await watch(factory, redis, client, merchant, page_size=256, fee_bps=500)
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utcnow
from core.errors import AtelierError
from core.models import TonInvoice
from core.models.ton_payments import TON_ASSET, InvoiceStatus, TxOutcome
from core.queue import defer_job, unit_of_work
from core.ton.address import TonAddress
from core.ton.paylinks import INVOICE_COMMENT_PREFIX, normalize_comment
from core.ton.toncenter import ToncenterClient
from core.ton.transactions import ChainTransaction, IncomingTransfer, Verdict, incoming_transfer
from tenants.ton import invoices
from tenants.ton import payments_repository as repo

logger = logging.getLogger(__name__)

MAX_COMMENT_CHARS = 128
NOTIFY_JOB = "notify_ton_invoice"


@dataclass(slots=True)
class PageResult:
    """What one page did; ``done`` when there is nothing more to read right now."""

    fetched: int = 0
    final: int = 0
    recorded: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    last_lt: int = 0
    done: bool = True


@dataclass(slots=True)
class WatchRun:
    pages: int = 0
    scanned: int = 0
    recorded: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    last_lt: int = 0

    def add(self, page: PageResult) -> None:
        self.pages += 1
        self.scanned += page.final
        self.recorded += page.recorded
        self.outcomes.update(page.outcomes)
        self.last_lt = max(self.last_lt, page.last_lt)


async def watch(
    factory: async_sessionmaker[AsyncSession],
    redis: ArqRedis,
    client: ToncenterClient,
    merchant: TonAddress,
    *,
    page_size: int,
    fee_bps: int,
    max_pages: int = 100,
) -> WatchRun:
    """Read pages until the chain has nothing final left for us (or ``max_pages``)."""
    run = WatchRun()
    for _ in range(max_pages):
        async with unit_of_work(factory, redis) as session:
            page = await scan_page(session, client, merchant, page_size=page_size, fee_bps=fee_bps)
        run.add(page)
        if page.done:
            break
    return run


async def scan_page(
    session: AsyncSession,
    client: ToncenterClient,
    merchant: TonAddress,
    *,
    page_size: int,
    fee_bps: int,
    now: datetime | None = None,
) -> PageResult:
    """One page, recorded and applied in ``session`` (the caller commits)."""
    cursor = await repo.lock_cursor(session, merchant.raw)
    txs = await client.transactions(merchant, start_lt=cursor.last_lt + 1, limit=page_size)
    final: list[ChainTransaction] = []
    for tx in txs:
        if not tx.is_final or tx.lt <= cursor.last_lt:
            break
        final.append(tx)
    result = PageResult(fetched=len(txs), final=len(final))
    result.done = len(txs) < page_size or len(final) < len(txs)
    if final:
        await record(session, merchant, final, fee_bps=fee_bps, now=now, result=result)
        cursor.last_lt, cursor.last_hash = final[-1].lt, final[-1].hash_hex
        cursor.updated_at = utcnow()
        result.last_lt = final[-1].lt
    await session.flush()
    return result


async def record(
    session: AsyncSession,
    merchant: TonAddress,
    txs: list[ChainTransaction],
    *,
    fee_bps: int,
    now: datetime | None,
    result: PageResult,
) -> None:
    """Record the page's incoming transfers once and apply the new ones to their invoices."""
    transfers = [
        t for tx in txs if tx.account == merchant and (t := incoming_transfer(tx)) is not None
    ]
    comments = {c for t in transfers if (c := _comment(t)) is not None}
    matched = await repo.invoices_by_comment(session, comments)
    invoice_of = [matched.get(_comment(t) or "") for t in transfers]
    decided = [_decided(t, invoice) for t, invoice in zip(transfers, invoice_of, strict=True)]
    rows = [
        _row(merchant, t, invoice, outcome or TxOutcome.UNMATCHED.value)
        for t, invoice, outcome in zip(transfers, invoice_of, decided, strict=True)
    ]
    new = await repo.insert_transactions(session, rows)
    result.recorded = len(new)
    for transfer, invoice, outcome in zip(transfers, invoice_of, decided, strict=True):
        if transfer.tx_hash not in new:
            continue
        if outcome is None and invoice is not None:
            outcome = await apply(session, invoice, transfer, fee_bps=fee_bps, now=now)
            await repo.set_outcome(session, transfer.tx_hash, outcome)
        result.outcomes[str(outcome)] += 1


def _comment(transfer: IncomingTransfer) -> str | None:
    """The comment as invoices are looked up by; ``None`` for anything no invoice can have."""
    comment = normalize_comment(transfer.comment)
    if comment is None or len(comment) > MAX_COMMENT_CHARS:
        return None
    return comment if comment.startswith(INVOICE_COMMENT_PREFIX) else None


def _decided(transfer: IncomingTransfer, invoice: TonInvoice | None) -> str | None:
    """The outcome when no invoice has to decide it: rejected (no value stayed) or unmatched."""
    if transfer.verdict is not Verdict.OK:
        return TxOutcome.REJECTED.value
    if invoice is None or invoice.asset != TON_ASSET:
        return TxOutcome.UNMATCHED.value
    return None


def _row(
    merchant: TonAddress, transfer: IncomingTransfer, invoice: TonInvoice | None, outcome: str
) -> dict[str, Any]:
    return {
        "tx_hash": transfer.tx_hash,
        "account": merchant.raw,
        "lt": transfer.lt,
        "utime": transfer.utime,
        "source": transfer.source.raw,
        "amount": transfer.amount,
        "comment": (transfer.comment or "")[:MAX_COMMENT_CHARS] or None,
        "verdict": transfer.verdict.value,
        "outcome": outcome,
        "tenant_id": invoice.tenant_id if invoice is not None else None,
        "invoice_id": invoice.id if invoice is not None else None,
        "created_at": utcnow(),
    }


async def apply(
    session: AsyncSession,
    invoice: TonInvoice,
    transfer: IncomingTransfer,
    *,
    fee_bps: int,
    now: datetime | None = None,
) -> str:
    """Add one final, kept transfer to its invoice; the outcome for ``ton_transactions``."""
    if invoice.status == InvoiceStatus.PAID:
        invoice.overpaid += transfer.amount
        logger.warning(
            "ton invoice %d was already paid; transfer %s recorded for a refund",
            invoice.id,
            transfer.tx_hash,
            extra={"tenant_id": invoice.tenant_id, "event": "ton_already_paid"},
        )
        return TxOutcome.ALREADY_PAID.value
    invoice.amount_received += transfer.amount
    if invoice.amount_received < invoice.amount_due:
        invoice.status = InvoiceStatus.UNDERPAID
        _notify(session, invoice, "underpaid")
        return TxOutcome.UNDERPAID.value
    _mark_paid(invoice, transfer, fee_bps, now or utcnow())
    outcome = TxOutcome.PAID.value
    try:
        async with session.begin_nested():
            await invoices.fulfil(session, invoice, transfer.tx_hash)
    except AtelierError as exc:
        outcome = TxOutcome.UNFULFILLED.value
        logger.error(
            "ton invoice %d paid but not fulfilled: %s",
            invoice.id,
            exc.message,
            extra={"tenant_id": invoice.tenant_id, "event": "ton_unfulfilled"},
        )
    if outcome == TxOutcome.PAID.value:
        _notify(session, invoice, "paid")
    logger.info(
        "ton invoice paid",
        extra={"tenant_id": invoice.tenant_id, "invoice_id": invoice.id, "late": invoice.paid_late},
    )
    return outcome


def _mark_paid(
    invoice: TonInvoice, transfer: IncomingTransfer, fee_bps: int, now: datetime
) -> None:
    invoice.status = InvoiceStatus.PAID
    invoice.paid_tx_hash = transfer.tx_hash
    invoice.paid_at = now
    invoice.paid_late = transfer.utime > invoice.expires_at.astimezone(UTC).timestamp()
    invoice.overpaid = invoice.amount_received - invoice.amount_due
    invoice.creator_amount = invoice.amount_due * (10_000 - fee_bps) // 10_000


def _notify(session: AsyncSession, invoice: TonInvoice, event: str) -> None:
    defer_job(session, NOTIFY_JOB, invoice.id, event, invoice.amount_received)


async def expire(session: AsyncSession, now: datetime | None = None) -> int:
    """Mark pending invoices past their expiry as expired (a late payment still pays them)."""
    return await repo.expire_invoices(session, now or utcnow())
