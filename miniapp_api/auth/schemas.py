"""Shapes of the sign-in endpoint."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class SignInRequest(BaseModel):
    bot_id: int = Field(gt=0, description="The tenant bot's Telegram id.")
    init_data: str = Field(max_length=8192, description="Telegram.WebApp.initData, verbatim.")


class UserOut(BaseModel):
    id: int
    telegram_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language: str | None


class SignInResponse(BaseModel):
    token: str
    token_type: str = "bearer"  # noqa: S105 - the scheme name, not a secret
    expires_at: int
    tenant_id: int
    user: UserOut


class LanguageIn(BaseModel):
    language: Literal["en", "tr", "ru", "ar"] = Field(
        description="The fan's language for the bot and the Mini App (as /language sets it)."
    )
