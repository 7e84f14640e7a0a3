"""Shapes of the wallet API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from core.models.ledger import EntryKind


class WalletOut(BaseModel):
    balance: int
    reserved: int = Field(description="Held for generations still running.")
    available: int


class EntryOut(BaseModel):
    id: int
    kind: EntryKind
    amount: int = Field(description="Signed change to the balance; holds change `reserved`.")
    reserved_delta: int
    balance_after: int
    reason: str | None
    job_id: int | None
    tool: str | None
    created_at: datetime


class HistoryOut(BaseModel):
    entries: list[EntryOut]
    next_cursor: str | None


class PackOut(BaseModel):
    id: int
    title: str = Field(description="The invoice's title in the fan's language, e.g. '550 credits'.")
    label: str = Field(description="A one-line offer in the fan's language, price included.")
    credits: int
    bonus: int
    total_credits: int = Field(description="`credits` + `bonus`: what the fan receives.")
    stars: int = Field(description="The price in Telegram Stars (currency XTR).")


class PacksOut(BaseModel):
    packs: list[PackOut]


class InvoiceLinkOut(BaseModel):
    invoice_link: str = Field(description="Open it with `Telegram.WebApp.openInvoice`.")
