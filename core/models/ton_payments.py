"""Money in TON: prices, invoices paid on-chain, the merchant wallet's transactions as the
watcher saw them, the watcher's cursor, and creator payouts from the platform wallet.

Rules (:mod:`tenants.ton.invoices`, :mod:`tenants.ton.watcher`, :mod:`tenants.ton.payouts`);
what the database itself guarantees:

- a price names any sellable thing by ``(item_kind, item_id)`` — ``credits`` (a credit pack),
  ``ppv`` (a post), ``vip`` (a VIP package) — and an ``asset``: ``TON`` or a jetton master
  address, the amount in that asset's minimal units (nanotons; 10⁻⁶ USDT). New kinds and assets
  need no schema change. UNIQUE (tenant, kind, item, asset);
- an invoice's comment is UNIQUE (the watcher finds an invoice by it, across tenants), and so is
  the hash of the transaction that paid it: one transaction pays one invoice, once;
- every incoming transaction of the merchant wallet is recorded once: UNIQUE ``tx_hash`` — a
  duplicate, a re-read page or a second watcher inserts nothing and therefore credits nothing;
- a payout's signed message hash is UNIQUE, and so is ``(wallet, seqno)``: one seqno of the
  platform wallet belongs to one payout, and the chain applies a seqno once — so a payout can
  never be sent twice, not even as two different messages.

Amounts are ``BigInteger`` minimal units (TON's whole supply in nanotons fits; so do USDT's).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import SERVER_NOW, Base, BigIntId, TenantOwned, TimestampMixin, utcnow

TON_ASSET = "TON"


class TonItemKind(StrEnum):
    CREDITS = "credits"  # item_id: credit_packs.id
    PPV = "ppv"  # item_id: posts.id
    VIP = "vip"  # item_id: vip_packages.id


class InvoiceStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"
    UNDERPAID = "underpaid"  # some value arrived, less than due; not fulfilled
    EXPIRED = "expired"  # nothing arrived before expires_at (a late payment still pays it)


class TxOutcome(StrEnum):
    """What the watcher did with one incoming transaction."""

    PAID = "paid"  # completed its invoice (exact, over, or topping up an under-payment)
    UNDERPAID = "underpaid"  # matched an invoice, not enough (yet)
    ALREADY_PAID = "already_paid"  # matched an invoice that was paid before: refund by hand
    UNFULFILLED = "unfulfilled"  # paid its invoice, but the item could not be granted
    UNMATCHED = "unmatched"  # no invoice has this comment (or no comment): refund by hand
    REJECTED = "rejected"  # bounced, bounced back or failed: no value stayed with us


class PayoutStatus(StrEnum):
    REQUESTED = "requested"  # reserved against earnings, not signed yet
    SIGNED = "signed"  # message signed and stored; sent or about to be; not on chain yet
    CONFIRMED = "confirmed"  # the chain shows our message sent to the creator
    FAILED = "failed"  # on chain but the wallet skipped it (e.g. no funds): amount released
    REVIEW = "review"  # the seqno moved on without our message: a human looks (amount held)


class TonPrice(TenantOwned, TimestampMixin, Base):
    __tablename__ = "ton_prices"
    tenant_id_indexed = False  # the UNIQUE constraint leads with it
    __table_args__ = (
        UniqueConstraint("tenant_id", "item_kind", "item_id", "asset"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    item_kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(BigInteger)
    asset: Mapped[str] = mapped_column(String(70), default=TON_ASSET)
    amount: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(server_default=SERVER_NOW, default=utcnow)


class TonInvoice(TenantOwned, TimestampMixin, Base):
    """A fan's order payable on-chain: send ``amount_due`` of ``asset`` to ``merchant`` with
    ``comment``. ``credits`` is what a ``credits`` invoice grants (copied from the pack when it
    was made, so a later edit of the pack changes nothing already sold)."""

    __tablename__ = "ton_invoices"
    __table_args__ = (CheckConstraint("amount_due > 0", name="amount_due_positive"),)

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    item_id: Mapped[int] = mapped_column(BigInteger)
    asset: Mapped[str] = mapped_column(String(70), default=TON_ASSET)
    amount_due: Mapped[int] = mapped_column(BigInteger)
    credits: Mapped[int] = mapped_column(BigInteger, default=0)
    comment: Mapped[str] = mapped_column(String(32), unique=True)
    merchant: Mapped[str] = mapped_column(String(70))  # raw address
    status: Mapped[str] = mapped_column(String(16), default=InvoiceStatus.PENDING)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    amount_received: Mapped[int] = mapped_column(BigInteger, default=0)
    overpaid: Mapped[int] = mapped_column(BigInteger, default=0)
    creator_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # after the platform fee
    paid_tx_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    paid_at: Mapped[datetime | None]
    paid_late: Mapped[bool] = mapped_column(Boolean, default=False)


class TonTransaction(TimestampMixin, Base):
    """One incoming transaction of the merchant wallet, as the watcher classified it. Not
    tenant-owned: an unmatched transfer belongs to no tenant (``tenant_id`` NULL) until someone
    sorts it out; a matched one carries its invoice's tenant."""

    __tablename__ = "ton_transactions"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    tx_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account: Mapped[str] = mapped_column(String(70))  # the merchant wallet, raw
    lt: Mapped[int] = mapped_column(BigInteger)
    utime: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(70))
    amount: Mapped[int] = mapped_column(BigInteger)
    comment: Mapped[str | None] = mapped_column(String(128))
    verdict: Mapped[str] = mapped_column(String(16))  # core.ton.transactions.Verdict
    outcome: Mapped[str] = mapped_column(String(16))
    tenant_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("tenants.id", ondelete="SET NULL"), index=True
    )
    invoice_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("ton_invoices.id", ondelete="SET NULL"), index=True
    )


class TonWatchCursor(Base):
    """How far the watcher has read an account's transactions: every transaction with
    ``lt <= last_lt`` is recorded. Advanced in the same transaction that records them."""

    __tablename__ = "ton_watch_cursors"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    account: Mapped[str] = mapped_column(String(70), unique=True)
    last_lt: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(server_default=SERVER_NOW, default=utcnow)


class TonPayout(TenantOwned, TimestampMixin, Base):
    """A creator's payout from the platform wallet (``wallet``) to ``destination``.

    The signed message (``message_boc``, its ``message_hash``, ``seqno`` and ``valid_until``) is
    committed *before* it is sent; a retry looks on the chain for it first."""

    __tablename__ = "ton_payouts"
    __table_args__ = (
        UniqueConstraint("wallet", "seqno"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    requested_by: Mapped[int] = mapped_column(BigInteger)  # the creator's Telegram id
    destination: Mapped[str] = mapped_column(String(70))  # raw
    destination_friendly: Mapped[str] = mapped_column(String(48))
    amount: Mapped[int] = mapped_column(BigInteger)
    comment: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=PayoutStatus.REQUESTED, index=True)
    wallet: Mapped[str | None] = mapped_column(String(70))  # the platform wallet, raw
    seqno: Mapped[int | None] = mapped_column(BigInteger)
    valid_until: Mapped[int | None] = mapped_column(BigInteger)
    message_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    message_hash_norm: Mapped[str | None] = mapped_column(String(64))
    message_boc: Mapped[str | None] = mapped_column(Text)
    signed_at: Mapped[datetime | None]
    sends: Mapped[int] = mapped_column(Integer, default=0)
    tx_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirmed_at: Mapped[datetime | None]
    failure: Mapped[str | None] = mapped_column(String(256))
