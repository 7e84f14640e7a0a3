"""Money in Telegram Stars: credit packs, orders, payments, refunds, reconciliation reports and
tenant plan subscriptions.

What the database itself guarantees:

- a Telegram charge is recorded once: UNIQUE ``payments.telegram_payment_charge_id`` (charge ids
  are global in Telegram, so the constraint is too); the ledger credit it causes is keyed by the
  same id, so a duplicated ``successful_payment`` can neither insert a second row nor credit twice;
- a payment is refunded at most once: UNIQUE ``refunds.payment_id``;
- a tenant has one subscription row: UNIQUE ``tenant_subscriptions.tenant_id``;
- an order's payload nonce is unique, so a payload names exactly one order.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntId, TenantOwned, TimestampMixin


class OrderKind(StrEnum):
    CREDITS = "credits"  # a fan buys a credit pack in a tenant's bot
    PLAN = "plan"  # a creator buys or renews a plan in the manager bot (a subscription)
    TOPUP = "topup"  # a creator tops up the platform balance in the manager bot
    PPV = "ppv"  # a fan unlocks one pay-per-view post (``post_id``)
    VIP = "vip"  # a fan subscribes to a VIP package (``vip_package_id``), 30 days per charge


class OrderStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"


class PaymentSource(StrEnum):
    UPDATE = "update"  # the bot's successful_payment update
    RECONCILIATION = "reconciliation"  # found in getStarTransactions, the update was missed


class CreditPack(TenantOwned, TimestampMixin, Base):
    """A pack fans can buy in one tenant's bot: ``stars`` for ``credits`` plus ``bonus``."""

    __tablename__ = "credit_packs"
    __table_args__ = (
        CheckConstraint("stars > 0", name="stars_positive"),
        CheckConstraint("credits > 0", name="credits_positive"),
        CheckConstraint("bonus >= 0", name="bonus_non_negative"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    stars: Mapped[int] = mapped_column(Integer)
    credits: Mapped[int] = mapped_column(Integer)
    bonus: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer, default=0)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def total_credits(self) -> int:
        return self.credits + self.bonus


class Order(TenantOwned, TimestampMixin, Base):
    """What an invoice sells, written before the invoice is sent. ``tenant_id`` is the tenant
    whose bot takes the Stars (the platform for plans and top-ups); ``target_tenant_id`` is the
    creator's tenant a plan or top-up is for."""

    __tablename__ = "payment_orders"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    kind: Mapped[OrderKind] = mapped_column(String(16))
    status: Mapped[OrderStatus] = mapped_column(String(16), default=OrderStatus.PENDING)
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    stars: Mapped[int] = mapped_column(Integer)
    credits: Mapped[int] = mapped_column(BigInteger, default=0)
    pack_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("credit_packs.id", ondelete="SET NULL")
    )
    plan: Mapped[str | None] = mapped_column(String(32))
    target_tenant_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("tenants.id", ondelete="CASCADE")
    )
    paid_at: Mapped[datetime | None]
    post_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("posts.id", ondelete="SET NULL"), index=True
    )
    vip_package_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("vip_packages.id", ondelete="SET NULL"), index=True
    )


class Payment(TenantOwned, TimestampMixin, Base):
    """One Stars charge as Telegram reported it (update or reconciliation)."""

    __tablename__ = "payments"
    # A tenant's payments by time: the stats rollups' windows and the panel's history pages.
    __table_args__ = (Index("ix_payments_tenant_id_created_at", "tenant_id", "created_at"),)
    tenant_id_indexed = False  # (tenant_id, created_at) leads with it

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    telegram_payment_charge_id: Mapped[str] = mapped_column(String(256), unique=True)
    order_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("payment_orders.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[OrderKind] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    telegram_user_id: Mapped[int] = mapped_column(BigInteger)
    stars: Mapped[int] = mapped_column(Integer)
    credits: Mapped[int] = mapped_column(BigInteger, default=0)
    payload: Mapped[str] = mapped_column(String(128))
    source: Mapped[PaymentSource] = mapped_column(String(16), default=PaymentSource.UPDATE)
    is_recurring: Mapped[bool] = mapped_column(Boolean, default=False)
    refunded_at: Mapped[datetime | None]


class Refund(TenantOwned, TimestampMixin, Base):
    """A refunded payment; the UNIQUE ``payment_id`` makes the ledger reversal happen once."""

    __tablename__ = "payment_refunds"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        BigIntId, ForeignKey("payments.id", ondelete="CASCADE"), unique=True
    )
    credits: Mapped[int] = mapped_column(BigInteger)
    stars: Mapped[int] = mapped_column(Integer)
    requested_by: Mapped[int | None] = mapped_column(BigInteger)  # the admin's Telegram id


class ReconciliationReport(TenantOwned, TimestampMixin, Base):
    """One pass of :func:`bot.payments.reconcile.reconcile_tenant` over a bot's transactions."""

    __tablename__ = "payment_reconciliations"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    transactions: Mapped[int] = mapped_column(Integer, default=0)
    repaired: Mapped[int] = mapped_column(Integer, default=0)
    mismatches: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class TenantSubscription(TenantOwned, TimestampMixin, Base):
    """A creator's paid plan period. Expiry downgrades the tenant at ``period_end``; a reminder
    goes out three days before (``reminded_for`` = the period end it was sent for, so once)."""

    __tablename__ = "tenant_subscriptions"
    tenant_id_indexed = False  # UNIQUE (tenant_id) is the index
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    plan: Mapped[str] = mapped_column(String(32))
    period_end: Mapped[datetime] = mapped_column(index=True)
    last_charge_id: Mapped[str | None] = mapped_column(String(256))
    reminded_for: Mapped[datetime | None]
    expired_at: Mapped[datetime | None]
