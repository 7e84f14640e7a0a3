"""Creator payouts in TON: earnings, payout requests, and sending them from the platform wallet
without ever sending one twice.

**Earnings** (:func:`earnings`): the creator's share of every paid TON invoice of the tenant —
``amount_due`` minus ``TON_PLATFORM_FEE_BPS``, fixed when the invoice was paid — minus payouts
confirmed or still under way. Nanotons throughout.

**Requests** (:func:`request_payout`, the owner only — the endpoint checks): to the owner's own
linked wallet (``ton_wallets``, proved with ``ton_proof``; there is no free-form address, so a
stolen session cannot redirect money), at least ``TON_PAYOUT_MIN``, at most what is available,
and at most ``TON_PAYOUT_DAILY_CAP`` in any 24 hours. The tenant row is locked meanwhile, so two
requests cannot both spend the same earnings.

**Sending** (:func:`run_payouts`, the worker; one platform wallet, one seqno at a time):

1. *settle* the payout in flight, if any: look on the chain for its message (the platform
   wallet's transactions whose incoming external message has our hash). Found with our
   transfer among its out-messages → ``confirmed``; found without it (the wallet skipped it,
   e.g. no funds) → ``failed`` and the amount is released. Not found: if the wallet's seqno is
   still ours, the message can still be applied — re-send *the same* message while it is valid
   (harmless: one seqno applies once), or, once it has expired for sure, sign it again with the
   same seqno. If the seqno moved on without our message, something else used it: after a grace
   period the payout goes to ``review`` and the amount stays held — a human decides, because
   re-signing with a new seqno is exactly how money is sent twice;
2. *sign* the next requested payout: the seqno from ``runGetMethod seqno``, ``valid_until`` a
   couple of minutes ahead, a unique comment — and **commit** the signed message (its hash,
   seqno, BoC) before it is sent;
3. *send* it (``POST /api/v3/message``, no automatic retries: a timeout may hide a message that
   was applied), then settle again a few times.

A worker that dies anywhere leaves a signed payout the next run settles from the chain first.
``UNIQUE (wallet, seqno)`` keeps two payouts off one seqno; a conditional update keeps two
workers from signing one payout differently; a Redis lock keeps them from working at once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from arq.connections import ArqRedis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import utcnow
from core.errors import ConflictError, ValidationError
from core.models import TonPayout
from core.models.ton_payments import PayoutStatus
from core.queue import defer_job, unit_of_work
from core.settings import Settings
from core.ton.address import parse_address
from core.ton.paylinks import new_payout_comment
from core.ton.platform import PlatformWallet, SignedTransfer
from core.ton.toncenter import TonApiError, ToncenterClient
from core.ton.transactions import ChainTransaction
from tenants.ton import payments_repository as repo
from tenants.ton import service as wallets

logger = logging.getLogger(__name__)

PROCESS_JOB = "process_ton_payouts"
MESSAGE_TTL_S = 120  # a signed payout is valid this long
SEND_MARGIN_S = 10  # do not re-send a message this close to its expiry
EXPIRY_MARGIN_S = 60  # chain clocks differ: re-sign only this long after valid_until
REVIEW_AFTER_S = 600  # seqno moved on and our message nowhere this long after expiry
LOOKBACK_S = 120  # search the wallet's transactions from this long before signing (clocks)
LOCK_KEY = "ton:payouts:lock"
LOCK_TTL_S = 300
MAX_PAYOUTS_PER_RUN = 20
SCAN_PAGE = 100
HELD = (PayoutStatus.REQUESTED, PayoutStatus.SIGNED, PayoutStatus.REVIEW)


class PayoutsUnavailableError(ConflictError):
    code = "ton_payouts_unavailable"


class WalletRequiredError(ConflictError):
    code = "ton_wallet_required"


class PayoutTooSmallError(ValidationError):
    code = "ton_payout_too_small"


class PayoutExceedsEarningsError(ConflictError):
    code = "ton_payout_exceeds_earnings"


class DailyCapError(ConflictError):
    code = "ton_payout_daily_cap"


# -- earnings and requests -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Earnings:
    invoices: int
    gross: int  # paid invoices' amounts
    fees: int  # the platform's cut
    net: int  # the creator's share
    paid_out: int  # confirmed payouts
    in_flight: int  # requested, signed or under review
    available: int


async def earnings(session: AsyncSession, tenant_id: int) -> Earnings:
    count, gross, net = await repo.paid_totals(session, tenant_id)
    totals = await repo.payout_totals(session, tenant_id)
    paid_out = totals.get(PayoutStatus.CONFIRMED, 0)
    in_flight = sum(totals.get(status, 0) for status in HELD)
    return Earnings(count, gross, gross - net, net, paid_out, in_flight, net - paid_out - in_flight)


async def request_payout(
    session: AsyncSession,
    settings: Settings,
    *,
    tenant_id: int,
    user_id: int,
    telegram_id: int,
    amount: int | None,
    now: datetime | None = None,
) -> TonPayout:
    """Reserve a payout of ``amount`` nanotons (everything available when ``None``)."""
    wallet = PlatformWallet.from_settings(settings)
    if wallet is None:
        raise PayoutsUnavailableError("TON payouts are not set up on this platform")
    await repo.lock_tenant(session, tenant_id)
    destination = await wallets.get_wallet(session, tenant_id, user_id)
    if destination is None:
        raise WalletRequiredError("link your TON wallet first: payouts go to it")
    available = (await earnings(session, tenant_id)).available
    amount = available if amount is None else amount
    await _check_limits(session, settings, tenant_id, amount, available, now or utcnow())
    payout = TonPayout(
        tenant_id=tenant_id,
        requested_by=telegram_id,
        destination=destination.address_raw,
        destination_friendly=destination.address,
        amount=amount,
        comment=new_payout_comment(),
        status=PayoutStatus.REQUESTED,
        sends=0,
    )
    session.add(payout)
    await session.flush()
    defer_job(session, PROCESS_JOB)
    logger.info("ton payout requested", extra={"tenant_id": tenant_id, "payout_id": payout.id})
    return payout


async def _check_limits(
    session: AsyncSession,
    settings: Settings,
    tenant_id: int,
    amount: int,
    available: int,
    now: datetime,
) -> None:
    minimum, cap = settings.ton_payout_min_nano, settings.ton_payout_daily_cap_nano
    if amount < minimum:
        raise PayoutTooSmallError("below the minimum payout", minimum=str(minimum))
    if amount > available:
        raise PayoutExceedsEarningsError("more than your available earnings", available=available)
    recent = await repo.paid_out_since(session, tenant_id, now - timedelta(days=1))
    if recent + amount > cap:
        raise DailyCapError("over the daily payout limit", left_today=str(max(cap - recent, 0)))


async def list_payouts(session: AsyncSession, tenant_id: int) -> list[TonPayout]:
    return list(await repo.payouts(session, tenant_id))


# -- sending -------------------------------------------------------------------------------------

Factory = async_sessionmaker[AsyncSession]


class Settled(StrEnum):
    CONFIRMED = "confirmed"
    FAILED = "failed"
    REVIEW = "review"
    WAITING = "waiting"  # not on the chain yet; sent (again) or to be looked at later


_SETTLED = {
    PayoutStatus.CONFIRMED: Settled.CONFIRMED,
    PayoutStatus.FAILED: Settled.FAILED,
    PayoutStatus.REVIEW: Settled.REVIEW,
}


@dataclass(slots=True)
class PayoutRun:
    signed: int = 0
    sends: int = 0
    confirmed: int = 0
    failed: int = 0
    review: int = 0
    waiting: bool = False
    locked_out: bool = False


@dataclass(frozen=True, slots=True)
class Payouts:
    """What the sending steps need: the database, Redis (enqueue and the lock), the chain."""

    factory: Factory
    redis: ArqRedis
    client: ToncenterClient
    wallet: PlatformWallet
    clock: Callable[[], float] = time.time


async def run_payouts(
    ctx: Payouts, *, confirm_polls: int = 5, confirm_interval: float = 1.0
) -> PayoutRun:
    """Settle what is in flight, then sign, send and settle the requested payouts in order."""
    run = PayoutRun()
    async with _exclusive(ctx.redis) as acquired:
        if not acquired:
            run.locked_out = True
            return run
        for _ in range(MAX_PAYOUTS_PER_RUN):
            state = await _settle_in_flight(ctx, run, allow_send=True)
            if state is Settled.WAITING:
                state = await _poll(ctx, run, confirm_polls, confirm_interval)
            if state is Settled.WAITING:
                run.waiting = True
                break
            payout_id = await sign_next(ctx)
            if payout_id is None:
                break
            run.signed += 1
            await broadcast(ctx, payout_id)
            run.sends += 1
            state = await _poll(ctx, run, confirm_polls, confirm_interval)
            if state is Settled.WAITING:
                run.waiting = True
                break
    return run


async def _poll(ctx: Payouts, run: PayoutRun, polls: int, interval: float) -> Settled | None:
    state: Settled | None = Settled.WAITING
    for attempt in range(max(polls, 1)):
        if attempt:
            await asyncio.sleep(interval)
        state = await _settle_in_flight(ctx, run, allow_send=False)
        if state is not Settled.WAITING:
            break
    return state


async def _settle_in_flight(ctx: Payouts, run: PayoutRun, *, allow_send: bool) -> Settled | None:
    async with ctx.factory() as session:
        payout = await repo.payout_in_flight(session)
    if payout is None:
        return None
    state = await settle(ctx, payout.id, allow_send=allow_send, run=run)
    if state is Settled.CONFIRMED:
        run.confirmed += 1
    elif state is Settled.FAILED:
        run.failed += 1
    elif state is Settled.REVIEW:
        run.review += 1
    return state


@asynccontextmanager
async def _exclusive(redis: ArqRedis) -> AsyncIterator[bool]:
    """One payout runner at a time (a lease in Redis, released only by its holder)."""
    token = secrets.token_hex(8)
    acquired = bool(await redis.set(LOCK_KEY, token, nx=True, ex=LOCK_TTL_S))
    try:
        yield acquired
    finally:
        if acquired:
            held = await redis.get(LOCK_KEY)
            if held is not None and (held.decode() if isinstance(held, bytes) else held) == token:
                await redis.delete(LOCK_KEY)


async def sign_next(ctx: Payouts) -> int | None:
    """Sign the oldest requested payout and commit the signed message; its id, or None."""
    async with ctx.factory() as session:
        payout = await repo.next_requested_payout(session)
    if payout is None:
        return None
    seqno = await ctx.client.seqno(ctx.wallet.address)
    signed = _sign(ctx, payout, seqno)
    if await _store_signature(ctx, payout.id, None, signed):
        return payout.id
    return None


def _sign(ctx: Payouts, payout: TonPayout, seqno: int) -> SignedTransfer:
    return ctx.wallet.transfer(
        seqno=seqno,
        destination=parse_address(payout.destination),
        amount=payout.amount,
        comment=payout.comment,
        valid_until=int(ctx.clock()) + MESSAGE_TTL_S,
    )


async def _store_signature(
    ctx: Payouts, payout_id: int, expected: str | None, signed: SignedTransfer
) -> bool:
    """Commit the signed message before anyone sends it. False: another worker got there
    first, or the seqno already belongs to another payout."""
    values = {
        "status": PayoutStatus.SIGNED,
        "wallet": ctx.wallet.address.raw,
        "seqno": signed.seqno,
        "valid_until": signed.valid_until,
        "message_hash": signed.hash_hex,
        "message_hash_norm": signed.normalized_hash_hex,
        "message_boc": signed.boc_b64,
        "signed_at": utcnow(),
    }
    try:
        async with unit_of_work(ctx.factory, ctx.redis) as session:
            claimed = await repo.claim_payout(session, payout_id, expected, values)
    except IntegrityError:
        logger.error("ton payout %d: seqno %d is taken", payout_id, signed.seqno)
        return False
    if claimed:
        logger.info("ton payout signed", extra={"payout_id": payout_id, "seqno": signed.seqno})
    return claimed


async def broadcast(ctx: Payouts, payout_id: int) -> bool:
    """Send the stored message as it is (never a new one). False when the API refused or timed
    out — the message may still have been applied; only the chain can tell."""
    async with unit_of_work(ctx.factory, ctx.redis) as session:
        payout = await session.get(TonPayout, payout_id)
        if payout is None or payout.message_boc is None:
            return False
        payout.sends += 1
        boc = payout.message_boc
    try:
        await ctx.client.send_boc(boc)
    except TonApiError as exc:
        logger.warning("ton payout %d: sending failed (%s); the chain decides", payout_id, exc)
        return False
    return True


async def find_on_chain(ctx: Payouts, payout: TonPayout) -> ChainTransaction | None:
    """The platform wallet's transaction that processed our message, if the chain has it."""
    wanted = {payout.message_hash, payout.message_hash_norm} - {None}
    since = int((payout.signed_at or utcnow()).timestamp()) - LOOKBACK_S
    start_lt: int | None = None
    while True:
        page = await ctx.client.transactions(
            ctx.wallet.address, start_lt=start_lt, start_utime=since, limit=SCAN_PAGE
        )
        for tx in page:
            if tx.in_msg is not None and tx.in_msg.source is None and tx.in_msg.hash_hex in wanted:
                return tx if tx.is_final else None
        if len(page) < SCAN_PAGE:
            return None
        start_lt = page[-1].lt + 1


async def settle(
    ctx: Payouts, payout_id: int, *, allow_send: bool = True, run: PayoutRun | None = None
) -> Settled:
    """Decide a signed payout from the chain (see the module doc, step 1)."""
    async with ctx.factory() as session:
        payout = await session.get(TonPayout, payout_id)
    if payout is None:
        return Settled.FAILED
    if payout.status != PayoutStatus.SIGNED:
        return _SETTLED.get(PayoutStatus(payout.status), Settled.WAITING)
    tx = await find_on_chain(ctx, payout)
    if tx is not None:
        return await _record_result(ctx, payout, tx)
    seqno = await ctx.client.seqno(ctx.wallet.address)
    if seqno == payout.seqno:
        if allow_send:
            await _send_again(ctx, payout, seqno, run or PayoutRun())
        return Settled.WAITING
    return await _not_on_chain(ctx, payout, seqno)


async def _not_on_chain(ctx: Payouts, payout: TonPayout, seqno: int) -> Settled:
    """The wallet's seqno moved on and our message is not on the chain (yet)."""
    now = ctx.clock()
    assert payout.valid_until is not None
    if now <= payout.valid_until + REVIEW_AFTER_S:
        return Settled.WAITING  # most likely ours, not indexed (or not final) yet
    await _finish(ctx, payout, PayoutStatus.REVIEW, failure=f"seqno is {seqno}, message not found")
    logger.error(
        "ton payout %d needs review: the wallet's seqno moved on without it",
        payout.id,
        extra={"tenant_id": payout.tenant_id, "event": "ton_payout_review"},
    )
    return Settled.REVIEW


async def _send_again(ctx: Payouts, payout: TonPayout, seqno: int, run: PayoutRun) -> None:
    """The wallet still waits for this seqno: re-send the same message while it is valid; once
    it has surely expired, sign the same seqno again (still one transfer) and send that."""
    assert payout.valid_until is not None
    now = ctx.clock()
    if now < payout.valid_until - SEND_MARGIN_S:
        await broadcast(ctx, payout.id)
        run.sends += 1
    elif now > payout.valid_until + EXPIRY_MARGIN_S:
        signed = _sign(ctx, payout, seqno)
        if await _store_signature(ctx, payout.id, payout.message_hash, signed):
            run.signed += 1
            await broadcast(ctx, payout.id)
            run.sends += 1


async def _record_result(ctx: Payouts, payout: TonPayout, tx: ChainTransaction) -> Settled:
    destination = parse_address(payout.destination)
    sent = any(
        out.destination == destination and out.value == payout.amount and not out.bounced
        for out in tx.out_msgs
    )
    if sent:
        await _finish(ctx, payout, PayoutStatus.CONFIRMED, tx_hash=tx.hash_hex)
        logger.info("ton payout confirmed", extra={"tenant_id": payout.tenant_id})
        return Settled.CONFIRMED
    reason = "the platform wallet did not send it (not enough balance?)"
    await _finish(ctx, payout, PayoutStatus.FAILED, tx_hash=tx.hash_hex, failure=reason)
    logger.error(
        "ton payout %d failed on chain: %s",
        payout.id,
        reason,
        extra={"tenant_id": payout.tenant_id, "event": "ton_payout_failed"},
    )
    return Settled.FAILED


async def _finish(
    ctx: Payouts,
    payout: TonPayout,
    status: PayoutStatus,
    *,
    tx_hash: str | None = None,
    failure: str | None = None,
) -> None:
    values: dict[str, object] = {"status": status, "failure": failure}
    if tx_hash is not None:
        values["tx_hash"] = tx_hash
    if status is PayoutStatus.CONFIRMED:
        values["confirmed_at"] = utcnow()
    async with unit_of_work(ctx.factory, ctx.redis) as session:
        await repo.claim_payout(session, payout.id, payout.message_hash, values)
