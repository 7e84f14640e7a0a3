"""The credit ledger: accounts with integer balances and their append-only entries.

Invariants held by the database itself, not only by :mod:`core.ledger`:

- ``0 <= reserved <= balance`` on every account (CHECK constraints), so a balance never goes
  negative and a hold never exceeds what is there;
- one account per (tenant, kind, owner): ``owner_key`` is the owning user's id, or ``0`` for the
  tenant's own account, and a CHECK ties it to ``user_id``. (A UNIQUE over a nullable
  ``user_id`` would not hold: NULLs are distinct in a UNIQUE constraint.)
- an idempotency key is used once per tenant, and a reservation is settled at most once
  (UNIQUE ``settles_entry_id``);
- each entry's signs match its kind, and an entry can only point at an account of its own tenant
  (composite foreign key).

``balance == sum(entry.amount)`` and ``reserved == sum(entry.reserved_delta)`` per account are kept
by the service (row update and entry insert in one statement/transaction) and checked by
:func:`core.ledger.find_balance_mismatches`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, BigIntId, TenantOwned, TimestampMixin


class AccountKind(StrEnum):
    """What an account holds. ``FAN`` accounts belong to a user, ``TENANT`` to the tenant."""

    FAN = "fan"  # a fan's credits inside one tenant
    TENANT = "tenant"  # the tenant's own balance with the platform

    @property
    def per_user(self) -> bool:
        return self is AccountKind.FAN


class EntryKind(StrEnum):
    CREDIT = "credit"  # balance up
    DEBIT = "debit"  # balance down
    RESERVE = "reserve"  # hold: reserved up, balance unchanged
    CAPTURE = "capture"  # settle a hold: balance down by the captured part, the whole hold freed
    RELEASE = "release"  # settle a hold: the whole hold freed, nothing spent


class LedgerAccount(TenantOwned, TimestampMixin, Base):
    __tablename__ = "ledger_accounts"
    tenant_id_indexed = False  # UNIQUE (tenant_id, kind, owner_key) leads with it
    __table_args__ = (
        UniqueConstraint("tenant_id", "kind", "owner_key"),
        # Target of the entries' composite foreign key (an entry stays inside its tenant).
        UniqueConstraint("tenant_id", "id"),
        CheckConstraint("balance >= 0", name="balance_non_negative"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        CheckConstraint("reserved <= balance", name="reserved_within_balance"),
        CheckConstraint(
            "(user_id IS NULL AND owner_key = 0) OR (user_id IS NOT NULL AND owner_key = user_id)",
            name="owner_key_matches_user",
        ),
        # Balances are rewritten on every movement: leave room in each page so the new row
        # version fits beside the old one (a HOT update, no index writes).
        {"postgresql_with": {"fillfactor": 70}},
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    kind: Mapped[AccountKind] = mapped_column(String(16))
    # No ON DELETE: an account with money must not vanish with its user; a tenant's deletion
    # cascades through tenant_id to both.
    user_id: Mapped[int | None] = mapped_column(BigIntId, ForeignKey("users.id"), index=True)
    owner_key: Mapped[int] = mapped_column(BigInteger)
    balance: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    reserved: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class LedgerEntry(TenantOwned, TimestampMixin, Base):
    """One movement on one account; rows are only ever inserted."""

    __tablename__ = "ledger_entries"
    tenant_id_indexed = False  # UNIQUE (tenant_id, idempotency_key) leads with it
    __table_args__ = (
        UniqueConstraint("tenant_id", "idempotency_key"),
        ForeignKeyConstraint(
            ["tenant_id", "account_id"],
            ["ledger_accounts.tenant_id", "ledger_accounts.id"],
        ),
        CheckConstraint(
            "(kind = 'credit' AND amount > 0 AND reserved_delta = 0"
            " AND settles_entry_id IS NULL)"
            " OR (kind = 'debit' AND amount < 0 AND reserved_delta = 0"
            " AND settles_entry_id IS NULL)"
            " OR (kind = 'reserve' AND amount = 0 AND reserved_delta > 0"
            " AND settles_entry_id IS NULL)"
            " OR (kind = 'capture' AND amount <= 0 AND reserved_delta < 0"
            " AND -amount <= -reserved_delta AND settles_entry_id IS NOT NULL)"
            " OR (kind = 'release' AND amount = 0 AND reserved_delta < 0"
            " AND settles_entry_id IS NOT NULL)",
            name="kind_signs",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    account_id: Mapped[int] = mapped_column(BigIntId, index=True)
    kind: Mapped[EntryKind] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(BigInteger)  # signed change to the balance
    reserved_delta: Mapped[int] = mapped_column(BigInteger, default=0)  # change to reserved
    # The account right after this entry: lets a replay return the first result as it was.
    balance_after: Mapped[int] = mapped_column(BigInteger)
    reserved_after: Mapped[int] = mapped_column(BigInteger)
    idempotency_key: Mapped[str] = mapped_column(String(200))
    # The reservation (a ``reserve`` entry) this capture/release settles; UNIQUE, so once only.
    settles_entry_id: Mapped[int | None] = mapped_column(
        BigIntId, ForeignKey("ledger_entries.id"), unique=True
    )
    reason: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
