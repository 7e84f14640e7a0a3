"""Shapes of the creator's TON routes: earnings, prices and payouts. Amounts are nanotons as
strings (``amount``) with the same value in TON next to them (``amount_ton``)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class EarningsOut(BaseModel):
    invoices: int = Field(description="Paid TON invoices.")
    gross: str
    fees: str = Field(description="The platform's cut.")
    net: str = Field(description="The creator's share of the paid invoices.")
    paid_out: str
    in_flight: str = Field(description="Payouts requested, on their way, or under review.")
    available: str
    available_ton: str
    fee_bps: int
    payout_min: str
    daily_cap: str


class TonPriceIn(BaseModel):
    kind: str = Field(max_length=16, description="credits | ppv | vip")
    item_id: int = Field(gt=0, lt=2**63)
    amount_ton: str | None = Field(
        max_length=32, description="The price in TON, e.g. `1.5`; null takes the item off sale."
    )


class PayoutIn(BaseModel):
    amount_ton: str | None = Field(
        default=None, max_length=32, description="In TON; everything available when omitted."
    )


class PayoutOut(BaseModel):
    id: int
    status: str = Field(description="requested | signed | confirmed | failed | review")
    amount: str
    amount_ton: str
    destination: str = Field(description="The owner's linked wallet, non-bounceable.")
    comment: str
    tx_hash: str | None
    failure: str | None
    created_at: datetime
    confirmed_at: datetime | None


class PayoutsOut(BaseModel):
    items: list[PayoutOut]
