"""Stars payments as money rules: credit packs, orders, pre-checkout checks, recording a charge
exactly once, refunds and reconciliation with Telegram's own transaction list.

Shared by the bot (``bot.payments``, ``bot.plans``), the Mini App API (``miniapp_api.wallet``)
and the worker (``jobs.payments_tasks``), so it lives below all three; invoices are made with
the tenant's aiogram ``Bot``, which each caller passes in. Only ``flush()`` here; the edge commits.

Exactly once, twice over: a charge is a row with a UNIQUE ``telegram_payment_charge_id``
(inserted with ``ON CONFLICT DO NOTHING``, so concurrent duplicates wait for the first and then
find it), and the ledger movement it causes is keyed by the same id.

An invoice payload is ``atl:<order id>:<nonce>``. The nonce is random and stored with the
order, so a payload cannot be guessed or edited into another order. Pre-checkout accepts only a
pending order of that tenant and user for exactly its amount. Should Telegram still report a
charge that pre-checkout would refuse today (a second charge of a paid order, a subscription
renewal), the Stars were taken: it is recorded and credited as its own payment, never dropped.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import LabeledPrice, StarTransaction, TransactionPartnerUser
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core import ledger
from core.db import tenant_select, utcnow
from core.errors import (
    AtelierError,
    ConflictError,
    InsufficientFundsError,
    NotFoundError,
    UpstreamError,
)
from core.models import Tenant, User
from core.models.payments import (
    CreditPack,
    Order,
    OrderKind,
    OrderStatus,
    Payment,
    PaymentSource,
    ReconciliationReport,
    Refund,
)
from tenants import billing

logger = logging.getLogger(__name__)

CURRENCY = "XTR"
PAYLOAD_PREFIX = "atl"
DEFAULT_PACKS: tuple[tuple[int, int, int], ...] = ((50, 100, 0), (250, 500, 50), (500, 1200, 0))
"""(Stars, credits, bonus) seeded for a tenant that has no packs yet; the creator edits them."""
TRANSACTIONS_PAGE = 100  # getStarTransactions' maximum ``limit``
ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"
INVOICE_TITLE_LIMIT = 32
INVOICE_DESCRIPTION_LIMIT = 255
REFUNDABLE = (OrderKind.CREDITS, OrderKind.PPV)
"""Fan purchases ``/refund`` takes back: credits (debited again) and pay-per-view posts (the
unlock is revoked). VIP charges are not refunded here: cancel the subscription instead."""


class Refusal(StrEnum):
    """Why pre-checkout says no; each has a fan-facing text ``payments.refused.<value>``."""

    UNKNOWN_ORDER = "unknown_order"
    NOT_YOURS = "not_yours"
    ALREADY_PAID = "already_paid"
    AMOUNT_MISMATCH = "amount_mismatch"
    UNAVAILABLE = "unavailable"


class PaymentRefusedError(AtelierError):
    code = "payment_refused"

    def __init__(self, reason: Refusal, message: str, **details: Any) -> None:
        super().__init__(message, reason=reason.value, **details)
        self.reason = reason


class RefundRefusedError(ConflictError):
    """The fan already spent part of the credits: Telegram refunds whole charges only."""

    code = "refund_refused"


class AlreadyRefundedError(ConflictError):
    code = "already_refunded"


# -- packs and orders ----------------------------------------------------------------------------


async def list_packs(session: AsyncSession, tenant_id: int) -> Sequence[CreditPack]:
    """The tenant's active packs, cheapest first; the defaults are seeded on first use (the
    tenant row is locked meanwhile, so two first buyers cannot seed twice)."""
    packs = await _active_packs(session, tenant_id)
    if packs:
        return packs
    await session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update())
    if not (await session.execute(tenant_select(CreditPack, tenant_id).limit(1))).first():
        for position, (stars, credits, bonus) in enumerate(DEFAULT_PACKS):
            session.add(
                CreditPack(
                    tenant_id=tenant_id,
                    stars=stars,
                    credits=credits,
                    bonus=bonus,
                    position=position,
                    is_active=True,
                )
            )
        await session.flush()
    return await _active_packs(session, tenant_id)


async def _active_packs(session: AsyncSession, tenant_id: int) -> Sequence[CreditPack]:
    statement = (
        tenant_select(CreditPack, tenant_id)
        .where(CreditPack.is_active.is_(True))
        .order_by(CreditPack.stars, CreditPack.position, CreditPack.id)
    )
    return (await session.execute(statement)).scalars().all()


async def create_order(
    session: AsyncSession,
    tenant_id: int,
    *,
    kind: OrderKind,
    user_id: int,
    telegram_user_id: int,
    stars: int,
    credits: int = 0,
    pack_id: int | None = None,
    plan: str | None = None,
    target_tenant_id: int | None = None,
    post_id: int | None = None,
    vip_package_id: int | None = None,
) -> Order:
    order = Order(
        tenant_id=tenant_id,
        kind=kind,
        status=OrderStatus.PENDING,
        nonce=secrets.token_urlsafe(12),
        user_id=user_id,
        telegram_user_id=telegram_user_id,
        stars=stars,
        credits=credits,
        pack_id=pack_id,
        plan=plan,
        target_tenant_id=target_tenant_id,
        post_id=post_id,
        vip_package_id=vip_package_id,
    )
    session.add(order)
    await session.flush()
    return order


async def create_pack_order(
    session: AsyncSession, tenant_id: int, *, user_id: int, telegram_user_id: int, pack_id: int
) -> tuple[Order, CreditPack]:
    """An order for one of the tenant's active packs (another tenant's pack is not found)."""
    pack = (
        await session.execute(
            tenant_select(CreditPack, tenant_id).where(
                CreditPack.id == pack_id, CreditPack.is_active.is_(True)
            )
        )
    ).scalar_one_or_none()
    if pack is None:
        raise NotFoundError("credit pack not found", pack_id=pack_id)
    order = await create_order(
        session,
        tenant_id,
        kind=OrderKind.CREDITS,
        user_id=user_id,
        telegram_user_id=telegram_user_id,
        stars=pack.stars,
        credits=pack.total_credits,
        pack_id=pack.id,
    )
    return order, pack


def payload_of(order: Order) -> str:
    return f"{PAYLOAD_PREFIX}:{order.id}:{order.nonce}"


def parse_payload(payload: str) -> tuple[int, str] | None:
    parts = payload.split(":")
    if len(parts) != 3 or parts[0] != PAYLOAD_PREFIX or not parts[1].isdigit() or not parts[2]:
        return None
    return int(parts[1]), parts[2]


# -- invoices ------------------------------------------------------------------------------------


class TextLookup(Protocol):
    """A fan's texts in their language (``bot.i18n.Texts`` is one); the keys are registered in
    :mod:`tenants.texts`, so this layer can name them without importing the bot."""

    def __call__(self, key: str, **variables: Any) -> str: ...


def invoice_fields(order: Order, title: str, description: str) -> dict[str, Any]:
    """What Telegram requires of a Stars invoice: currency ``XTR``, an empty provider token,
    exactly one price, and the payload naming the order written first."""
    return {
        "title": title[:INVOICE_TITLE_LIMIT],
        "description": description[:INVOICE_DESCRIPTION_LIMIT],
        "payload": payload_of(order),
        "currency": CURRENCY,
        "provider_token": "",
        "prices": [LabeledPrice(label=title[:INVOICE_TITLE_LIMIT], amount=order.stars)],
    }


async def create_invoice_link(
    bot: Bot, order: Order, title: str, description: str, *, subscription: bool = False
) -> str:
    """A ``createInvoiceLink`` URL (the Mini App opens it with ``Telegram.WebApp.openInvoice``;
    plans use it as a 30-day subscription). Money is only ever credited from the bot's
    ``successful_payment`` update, never from whoever asked for the link."""
    fields = invoice_fields(order, title, description)
    if subscription:
        fields["subscription_period"] = billing.SUBSCRIPTION_PERIOD_SECONDS
    return await bot.create_invoice_link(**fields)


def pack_invoice_texts(texts: TextLookup, credits: int) -> tuple[str, str]:
    """Title and description of a credit pack's invoice, in the fan's language."""
    return (
        texts("payments.invoice_title", credits=credits),
        texts("payments.invoice_description", credits=credits),
    )


async def pack_invoice_link(
    session: AsyncSession,
    bot: Bot,
    texts: TextLookup,
    tenant_id: int,
    *,
    user_id: int,
    telegram_user_id: int,
    pack_id: int,
) -> str:
    """A fresh order for one of the tenant's packs and its invoice link, made with the
    tenant's ``bot``. The link may leave before the caller commits: the order is flushed, and
    a fan paying a link whose order never committed is refused at pre-checkout."""
    order, _ = await create_pack_order(
        session, tenant_id, user_id=user_id, telegram_user_id=telegram_user_id, pack_id=pack_id
    )
    title, description = pack_invoice_texts(texts, order.credits)
    return await create_invoice_link(bot, order, title, description)


async def order_for_payload(session: AsyncSession, tenant_id: int, payload: str) -> Order | None:
    """The tenant's order a payload names, or None (malformed, tampered, another tenant's)."""
    parsed = parse_payload(payload)
    if parsed is None:
        return None
    order_id, nonce = parsed
    order = (
        await session.execute(tenant_select(Order, tenant_id).where(Order.id == order_id))
    ).scalar_one_or_none()
    if order is None or not secrets.compare_digest(order.nonce, nonce):
        return None
    return order


async def check_pre_checkout(
    session: AsyncSession,
    tenant_id: int,
    *,
    telegram_user_id: int,
    payload: str,
    currency: str,
    total_amount: int,
) -> Order:
    """The order a pre-checkout query may pay, or :class:`PaymentRefusedError` with the reason."""
    tenant = await session.get(Tenant, tenant_id)
    if tenant is None or not tenant.is_active:
        raise PaymentRefusedError(Refusal.UNAVAILABLE, "this bot is not taking payments")
    order = await order_for_payload(session, tenant_id, payload)
    if order is None:
        raise PaymentRefusedError(Refusal.UNKNOWN_ORDER, "no such order")
    if order.telegram_user_id != telegram_user_id:
        raise PaymentRefusedError(Refusal.NOT_YOURS, "the order belongs to someone else")
    if order.status != OrderStatus.PENDING:
        raise PaymentRefusedError(Refusal.ALREADY_PAID, "the order is already paid")
    if currency != CURRENCY or total_amount != order.stars:
        raise PaymentRefusedError(Refusal.AMOUNT_MISMATCH, "the amount does not match the order")
    if order.kind != OrderKind.CREDITS and order.target_tenant_id is not None:
        target = await session.get(Tenant, order.target_tenant_id)
        if target is None:
            raise PaymentRefusedError(Refusal.UNKNOWN_ORDER, "the bot of this order is gone")
    await _check_offer(session, order)
    return order


async def _check_offer(session: AsyncSession, order: Order) -> None:
    """What a premium-content order sells must still be on offer to this fan."""
    if order.kind == OrderKind.PPV:
        from tenants.content import service as content  # content builds on this module

        await content.check_ppv_order(session, order, utcnow())
    elif order.kind == OrderKind.VIP:
        from tenants.vip import service as vip

        await vip.check_vip_order(session, order, utcnow())


# -- recording a charge --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChargeOutcome:
    """What recording a charge did. ``created`` False: the charge was known (a duplicate)."""

    payment_id: int
    created: bool
    kind: OrderKind
    credits: int
    order: Order | None
    balance: int | None = None  # the wallet's available balance after the credit
    problem: str | None = None  # why it could not be applied (unknown order, amount)


async def record_charge(
    session: AsyncSession,
    tenant_id: int,
    *,
    charge_id: str,
    payload: str,
    currency: str,
    stars: int,
    telegram_user_id: int,
    is_recurring: bool = False,
    source: PaymentSource = PaymentSource.UPDATE,
    now: datetime | None = None,
) -> ChargeOutcome:
    """Record one Telegram charge and apply it (fan credits, plan period or top-up) once."""
    now = now or utcnow()
    order = await order_for_payload(session, tenant_id, payload)
    problem = None
    if order is None:
        problem = "unknown order"
    elif currency != CURRENCY or stars != order.stars:
        problem = f"amount {stars} {currency} does not match the order's {order.stars} XTR"
    applies = order is not None and problem is None
    kind = OrderKind(order.kind) if order is not None else OrderKind.CREDITS
    credits = order.credits if order is not None and applies else 0
    user_id = (
        order.user_id if order is not None else await _user_id(session, tenant_id, telegram_user_id)
    )
    payment_id = await _insert_payment(
        session,
        {
            "tenant_id": tenant_id,
            "telegram_payment_charge_id": charge_id,
            "order_id": order.id if order is not None else None,
            "kind": kind.value,
            "user_id": user_id,
            "telegram_user_id": telegram_user_id,
            "stars": stars,
            "credits": credits,
            "payload": payload[:128],
            "source": source.value,
            "is_recurring": is_recurring,
            "created_at": now,
        },
    )
    if payment_id is None:
        existing = await payment_by_charge(session, tenant_id, charge_id)
        return ChargeOutcome(
            payment_id=existing.id if existing else 0,
            created=False,
            kind=kind,
            credits=existing.credits if existing else 0,
            order=order,
        )
    if not applies or order is None:
        logger.error(
            "stars charge %s of tenant %d not applied: %s",
            charge_id,
            tenant_id,
            problem,
            extra={"tenant_id": tenant_id, "event": "payment_unmatched", "stars": stars},
        )
        return ChargeOutcome(payment_id, True, kind, 0, order, problem=problem)
    if order.status == OrderStatus.PENDING:
        order.status = OrderStatus.PAID
        order.paid_at = now
    balance = await _apply(session, order, charge_id, now)
    await session.flush()
    logger.info(
        "stars charge recorded",
        extra={"tenant_id": tenant_id, "order_id": order.id, "kind": kind.value, "stars": stars},
    )
    return ChargeOutcome(payment_id, True, kind, credits, order, balance=balance)


async def _apply(session: AsyncSession, order: Order, charge_id: str, now: datetime) -> int | None:
    if order.kind in (OrderKind.PPV, OrderKind.VIP):
        await _apply_content(session, order, charge_id, now)
        return None
    if order.kind == OrderKind.CREDITS:
        account = await ledger.get_or_create_account(
            session, order.tenant_id, user_id=order.user_id
        )
        result = await ledger.credit(
            session,
            order.tenant_id,
            account.id,
            order.credits,
            idempotency_key=f"stars:{charge_id}",
            reason="stars purchase",
            meta={"order_id": order.id, "charge_id": charge_id},
        )
        return result.available_after
    assert order.target_tenant_id is not None
    if order.kind == OrderKind.PLAN:
        assert order.plan is not None
        await billing.apply_plan_payment(
            session, order.target_tenant_id, order.plan, charge_id=charge_id, now=now
        )
    else:
        await billing.top_up(session, order.target_tenant_id, order.credits, charge_id=charge_id)
    return (await billing.platform_balance(session, order.target_tenant_id)).available


async def _apply_content(
    session: AsyncSession, order: Order, charge_id: str, now: datetime
) -> None:
    """A pay-per-view unlock or 30 more VIP days (``tenants.content``, ``tenants.vip``)."""
    from tenants.content import service as content  # both build on this module
    from tenants.vip import service as vip

    if order.kind == OrderKind.PPV:
        await content.apply_ppv_payment(session, order, charge_id)
    else:
        await vip.apply_vip_payment(session, order, charge_id, now)


async def _insert_payment(session: AsyncSession, values: dict[str, Any]) -> int | None:
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = (
        insert(Payment)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["telegram_payment_charge_id"])
        .returning(Payment.id)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def _user_id(session: AsyncSession, tenant_id: int, telegram_user_id: int) -> int | None:
    return (
        await session.execute(
            select(User.id).where(User.tenant_id == tenant_id, User.telegram_id == telegram_user_id)
        )
    ).scalar_one_or_none()


async def payment_by_charge(
    session: AsyncSession, tenant_id: int, charge_id: str
) -> Payment | None:
    return (
        await session.execute(
            tenant_select(Payment, tenant_id).where(Payment.telegram_payment_charge_id == charge_id)
        )
    ).scalar_one_or_none()


# -- refunds -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RefundOutcome:
    charge_id: str
    credits: int
    stars: int
    telegram_user_id: int
    already_refunded_in_telegram: bool
    kind: OrderKind = OrderKind.CREDITS


async def refund_charge(
    session: AsyncSession,
    bot: Bot,
    tenant_id: int,
    charge_id: str,
    *,
    requested_by: int | None,
    now: datetime | None = None,
) -> RefundOutcome:
    """Take a fan purchase back: the credits first (refused when the fan spent some: Telegram
    refunds whole charges only), then ``refundStarPayment``. ``CHARGE_ALREADY_REFUNDED`` means
    Telegram refunded it before (another tool, or an attempt whose commit failed): the credits
    are taken back here once all the same — the UNIQUE refund row sees to "once"."""
    payment = await payment_by_charge(session, tenant_id, charge_id)
    if payment is None or payment.kind not in REFUNDABLE:
        raise NotFoundError("no such payment in this bot", charge_id=charge_id)
    if payment.refunded_at is not None:
        raise AlreadyRefundedError("this payment was already refunded", charge_id=charge_id)
    if payment.kind == OrderKind.PPV:
        from tenants.content import service as content

        await content.revoke_ppv_payment(session, payment, now=now)
    await reverse_credits(session, payment, requested_by=requested_by, now=now)
    already = False
    try:
        await bot.refund_star_payment(
            user_id=payment.telegram_user_id, telegram_payment_charge_id=charge_id
        )
    except TelegramBadRequest as exc:
        if ALREADY_REFUNDED not in exc.message:
            raise UpstreamError(f"Telegram refused the refund: {exc.message}") from None
        already = True
    return RefundOutcome(
        charge_id,
        payment.credits,
        payment.stars,
        payment.telegram_user_id,
        already,
        OrderKind(payment.kind),
    )


async def reverse_credits(
    session: AsyncSession, payment: Payment, *, requested_by: int | None, now: datetime | None
) -> None:
    """Debit the payment's credits (key ``refund:<charge id>``) and write its refund row."""
    if payment.credits > 0 and payment.user_id is not None:
        account = await ledger.get_or_create_account(
            session, payment.tenant_id, user_id=payment.user_id
        )
        available = (await ledger.balance_of(session, payment.tenant_id, account.id)).available
        if available < payment.credits:
            raise RefundRefusedError(
                "the fan already spent part of these credits",
                credits=payment.credits,
                spent=payment.credits - available,
            )
        try:
            await ledger.debit(
                session,
                payment.tenant_id,
                account.id,
                payment.credits,
                idempotency_key=f"refund:{payment.telegram_payment_charge_id}",
                reason="stars refund",
                meta={"payment_id": payment.id},
            )
        except InsufficientFundsError as exc:  # spent in the meantime
            raise RefundRefusedError(
                "the fan already spent part of these credits",
                credits=payment.credits,
                spent=payment.credits - int(exc.details.get("available", 0)),
            ) from None
    session.add(
        Refund(
            tenant_id=payment.tenant_id,
            payment_id=payment.id,
            credits=payment.credits,
            stars=payment.stars,
            requested_by=requested_by,
        )
    )
    payment.refunded_at = now or utcnow()
    await session.flush()


# -- reconciliation ------------------------------------------------------------------------------


@dataclass(slots=True)
class Reconciliation:
    tenant_id: int
    transactions: int = 0
    repaired: list[str] = field(default_factory=list)
    mismatches: list[dict[str, Any]] = field(default_factory=list)


async def reconcile_tenant(
    session: AsyncSession,
    bot: Bot,
    tenant_id: int,
    *,
    page_size: int = TRANSACTIONS_PAGE,
    now: datetime | None = None,
) -> Reconciliation:
    """Read every Stars transaction of the tenant's bot (page by page) and compare: a charge
    without a payment row (a missed update) is recorded and applied now; a refund Telegram made
    that the ledger never took back, or a payment Telegram does not know, is a mismatch —
    logged as an ERROR and kept in a :class:`ReconciliationReport` for the tenant admin."""
    report = Reconciliation(tenant_id)
    seen: set[str] = set()
    offset = 0
    while True:
        page = (await bot.get_star_transactions(offset=offset, limit=page_size)).transactions
        report.transactions += len(page)
        await _reconcile_page(session, tenant_id, page, report, seen, now)
        if len(page) < page_size:
            break
        offset += len(page)
    known = (
        await session.execute(
            select(Payment.telegram_payment_charge_id).where(Payment.tenant_id == tenant_id)
        )
    ).scalars()
    for charge_id in known:
        if charge_id not in seen:
            report.mismatches.append({"charge_id": charge_id, "problem": "unknown to Telegram"})
    for mismatch in report.mismatches:
        logger.error(
            "stars reconciliation mismatch in tenant %d: %s",
            tenant_id,
            mismatch["problem"],
            extra={"tenant_id": tenant_id, "event": "payment_mismatch", **mismatch},
        )
    session.add(
        ReconciliationReport(
            tenant_id=tenant_id,
            transactions=report.transactions,
            repaired=len(report.repaired),
            mismatches=report.mismatches,
        )
    )
    await session.flush()
    return report


async def _reconcile_page(
    session: AsyncSession,
    tenant_id: int,
    page: Sequence[StarTransaction],
    report: Reconciliation,
    seen: set[str],
    now: datetime | None,
) -> None:
    ids = [tx.id for tx in page]
    rows = (
        await session.execute(
            tenant_select(Payment, tenant_id).where(Payment.telegram_payment_charge_id.in_(ids))
        )
    ).scalars()
    payments = {row.telegram_payment_charge_id: row for row in rows}
    for tx in page:
        if isinstance(tx.source, TransactionPartnerUser):
            seen.add(tx.id)
            if tx.id in payments:
                continue
            outcome = await record_charge(
                session,
                tenant_id,
                charge_id=tx.id,
                payload=tx.source.invoice_payload or "",
                currency=CURRENCY,
                stars=tx.amount,
                telegram_user_id=tx.source.user.id,
                is_recurring=tx.source.subscription_period is not None,
                source=PaymentSource.RECONCILIATION,
                now=now,
            )
            if outcome.created and outcome.problem is None:
                report.repaired.append(tx.id)
            elif outcome.problem is not None:
                report.mismatches.append({"charge_id": tx.id, "problem": outcome.problem})
        elif isinstance(tx.receiver, TransactionPartnerUser):
            payment = payments.get(tx.id)
            if payment is not None and payment.refunded_at is None:
                report.mismatches.append(
                    {"charge_id": tx.id, "problem": "refunded in Telegram, not in the ledger"}
                )


async def latest_reports(
    session: AsyncSession, tenant_id: int, limit: int = 10
) -> Sequence[ReconciliationReport]:
    """The tenant admin view: the last reconciliation passes, newest first."""
    statement = (
        tenant_select(ReconciliationReport, tenant_id)
        .order_by(ReconciliationReport.id.desc())
        .limit(limit)
    )
    return (await session.execute(statement)).scalars().all()
