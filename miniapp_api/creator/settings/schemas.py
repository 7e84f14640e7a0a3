"""Shapes of the creator's settings and plan API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from core.models import CreditPack


class SettingsOut(BaseModel):
    name: str
    default_language: str
    languages: list[str] = Field(description="Languages the bot offers.")
    referral_reward: int = Field(description="Credits per friend who joins (0: off).")
    welcome: dict[str, str | None] = Field(
        description="The creator's welcome text per language (null: our default)."
    )
    welcome_defaults: dict[str, str]
    chat_history: bool = Field(
        description="Fans' messages with the bot are recorded for the panel (fan detail)."
    )


class SettingsPatch(BaseModel):
    default_language: str | None = Field(default=None, max_length=8)
    languages: list[str] | None = Field(default=None, max_length=8)
    referral_reward: int | None = Field(default=None, ge=0, le=100_000)
    chat_history: bool | None = Field(default=None, description="Record fans' messages.")
    welcome: dict[str, str | None] | None = Field(
        default=None,
        description="Per language: a template (sandbox-checked) or null to use the default.",
    )


class PackIn(BaseModel):
    stars: int = Field(ge=1, le=10_000)
    credits: int = Field(ge=1, le=10**9)
    bonus: int = Field(default=0, ge=0, le=10**9)
    position: int = Field(default=0, ge=0, le=1000)
    is_active: bool = True


class PackPatch(BaseModel):
    stars: int | None = Field(default=None, ge=1, le=10_000)
    credits: int | None = Field(default=None, ge=1, le=10**9)
    bonus: int | None = Field(default=None, ge=0, le=10**9)
    position: int | None = Field(default=None, ge=0, le=1000)
    is_active: bool | None = None


class PackOut(BaseModel):
    id: int
    stars: int
    credits: int
    bonus: int
    total_credits: int
    position: int
    is_active: bool

    @classmethod
    def of(cls, pack: CreditPack) -> PackOut:
        return cls(
            id=pack.id,
            stars=pack.stars,
            credits=pack.credits,
            bonus=pack.bonus,
            total_credits=pack.total_credits,
            position=pack.position,
            is_active=pack.is_active,
        )


class PacksOut(BaseModel):
    items: list[PackOut]


class ToolPriceOut(BaseModel):
    slug: str
    name: str
    category: str
    pricing_model: str
    base_cost: int = Field(description="Platform credits per unit the tenant pays.")
    default_price: int = Field(description="The catalogue's fan price per unit.")
    price: int = Field(description="What fans pay per unit in this bot now.")
    custom_price: int | None
    markup_percent: int | None
    is_hidden: bool


class ToolsOut(BaseModel):
    items: list[ToolPriceOut]


class ToolPricePatch(BaseModel):
    is_hidden: bool | None = None
    price: int | None = Field(default=None, ge=0, le=10**9, description="null clears it")
    markup_percent: int | None = Field(default=None, ge=0, le=10_000, description="null clears")


class LimitOut(BaseModel):
    limit: int | None = Field(description="null: unlimited.")
    used: int | None = Field(description="null: not measured here.")


class PlanOut(BaseModel):
    code: str
    name: str
    custom: bool
    api_access: bool
    storage_bytes: LimitOut
    broadcast_messages_per_day: LimitOut = Field(
        description="Broadcast messages per UTC day: limit is the plan's daily broadcast "
        "quota (what the sender enforces), used what the quota counted today; replies to fans "
        "are not counted."
    )
    assistant_messages_per_day: LimitOut = Field(
        description="The AI assistant's replies to fans' free text per UTC day (the plan's "
        "messages_per_day), used: replies answered today."
    )
    groups: LimitOut = Field(
        description="Groups and channels the bot is in now, against the plan's max_groups."
    )
    monthly_credits: int = Field(description="Platform credits granted with each plan period.")
    platform_balance: int
    period_end: datetime | None
    expired_at: datetime | None
