"""Shapes of the dashboard and the shared event shape (dashboard and a fan's history)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from miniapp_api.creator.stats.schemas import KeyNumbersOut
from tenants.panel.service import Event


class EventOut(BaseModel):
    at: datetime
    kind: str = Field(description="joined, payment, generation, credits, task or referral.")
    user_id: int | None
    data: dict[str, Any]

    @classmethod
    def of(cls, event: Event) -> EventOut:
        return cls(at=event.at, kind=event.kind, user_id=event.user_id, data=event.data)


class WebhookOut(BaseModel):
    url_matches: bool = Field(description="Telegram delivers to this deployment.")
    pending_update_count: int
    last_error_message: str | None
    last_error_date: datetime | None


class BotStatusOut(BaseModel):
    telegram_bot_id: int
    username: str
    bot_active: bool
    tenant_active: bool
    webhook: WebhookOut | None = Field(description="Null when Telegram could not be asked.")
    webhook_error: str | None


class DashboardOut(BaseModel):
    tenant_name: str
    plan: str
    bot: BotStatusOut
    today: KeyNumbersOut = Field(description="From today's rollup.")
    last_7_days: KeyNumbersOut
    platform_balance: int
    pending_submissions: int = Field(description="Custom-task proofs waiting for review.")
    recent: list[EventOut]
