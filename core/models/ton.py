"""TON wallets linked to fans through a verified ``ton_proof`` (:mod:`tenants.ton.service`).

One row per linked wallet: a fan has at most one (UNIQUE tenant + user), and within a tenant a
wallet belongs to at most one fan (UNIQUE tenant + raw address), so payments and payouts can
name a fan by address without ambiguity. Unlinking deletes the row. The same wallet may be
linked in two tenants: they are separate businesses with separate fans.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.db import SERVER_NOW, Base, BigIntId, TenantOwned, utcnow


class TonWallet(TenantOwned, Base):
    __tablename__ = "ton_wallets"
    tenant_id_indexed = False  # both UNIQUE constraints lead with it
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        UniqueConstraint("tenant_id", "address_raw"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    user_id: Mapped[int] = mapped_column(BigIntId, ForeignKey("users.id", ondelete="CASCADE"))
    address_raw: Mapped[str] = mapped_column(String(70))  # "0:<64 hex>"
    address: Mapped[str] = mapped_column(String(48))  # user-friendly, non-bounceable
    public_key: Mapped[str] = mapped_column(String(64))  # hex, as proved
    network: Mapped[str] = mapped_column(String(8))  # "mainnet" | "testnet"
    wallet_version: Mapped[str | None] = mapped_column(String(8))  # None: key from the chain
    linked_at: Mapped[datetime] = mapped_column(server_default=SERVER_NOW, default=utcnow)
