from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class CreatorMeOut(BaseModel):
    role: str
    tenant_id: int
    tenant_name: str
    plan: str


class AdminOut(BaseModel):
    telegram_id: int
    role: str
    added_at: datetime | None = None


class AdminsOut(BaseModel):
    items: list[AdminOut]


class AdminIn(BaseModel):
    telegram_id: int = Field(gt=0, lt=2**53)
