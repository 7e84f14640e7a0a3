"""Process-wide settings, read once from ``ATELIER_*`` environment variables and ``.env``."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from typing import Self

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET_KEY = "change-me"  # noqa: S105 - the placeholder itself, refused in production
_WEAK_SECRET_KEYS = {PLACEHOLDER_SECRET_KEY, "", "secret", "changeme", "dev", "test"}
TELEGRAM_API_BASE = "https://api.telegram.org"


class Environment(StrEnum):
    """Where the process runs; decides how strict the settings are."""

    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Every setting Atelier reads; documented one by one in ``.env.example``."""

    model_config = SettingsConfigDict(
        env_prefix="ATELIER_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    environment: Environment = Environment.DEV
    database_url: str = "sqlite+aiosqlite:///./atelier.db"
    redis_url: str = "redis://127.0.0.1:6379/0"
    storage_url: str = "file://./var/storage"
    s3_endpoint_url: str | None = None
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: str = PLACEHOLDER_SECRET_KEY
    telegram_api_base: str = TELEGRAM_API_BASE
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    # A Replicate-compatible predictions API (create → poll → fetch output), e.g.
    # https://api.replicate.com; tools with provider "predictions" name their model.
    predictions_base_url: str | None = None
    predictions_api_key: str | None = None
    ton_api_base: str = "https://toncenter.com"
    ton_network: str = "mainnet"
    log_level: str = "INFO"
    log_json: bool = True
    db_pool_size: int = Field(default=20, ge=1)
    db_echo: bool = False
    # Mini App auth: how old Telegram's initData may be, how long our bearer tokens live, and
    # the Ed25519 key (hex) that checks initData's ``signature`` (default: Telegram's own).
    miniapp_init_data_max_age: int = Field(default=3600, ge=1)
    miniapp_token_ttl: int = Field(default=3600, ge=60)
    telegram_webapp_public_key: str | None = None
    # Broadcasts: messages per second per bot (Telegram allows about 30 in bulk), shared by
    # every worker process through Redis.
    broadcast_rate: float = Field(default=30.0, gt=0, le=1000)

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> Self:
        if self.environment is Environment.PRODUCTION and (
            self.secret_key.strip().lower() in _WEAK_SECRET_KEYS or len(self.secret_key) < 32
        ):
            raise ValueError(
                "ATELIER_SECRET_KEY is a placeholder or shorter than 32 characters; "
                "set it to a long random value, e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings of this process, read on first use."""
    return Settings()
