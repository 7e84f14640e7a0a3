"""Process-wide settings, read once from ``ATELIER_*`` environment variables and ``.env``."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from typing import Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET_KEY = "change-me"  # noqa: S105 - the placeholder itself, refused in production
_WEAK_SECRET_KEYS = {PLACEHOLDER_SECRET_KEY, "", "secret", "changeme", "dev", "test"}
TELEGRAM_API_BASE = "https://api.telegram.org"


class Environment(StrEnum):
    """Where the process runs; decides how strict the settings are."""

    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class TonNetwork(StrEnum):
    """The TON network the platform's wallets live on; a linked wallet must be on it too."""

    MAINNET = "mainnet"
    TESTNET = "testnet"

    @property
    def global_id(self) -> int:
        """The network's ``global_id``, which TON Connect sends as ``network`` ("-239"/"-3")."""
        return -239 if self is TonNetwork.MAINNET else -3


class Settings(BaseSettings):
    """Every setting Atelier reads; documented one by one in ``.env.example``."""

    model_config = SettingsConfigDict(
        env_prefix="ATELIER_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        # Errors name the setting but never echo its value: a mistyped secret (the platform
        # mnemonic, a key) must not land in a start-up traceback or a log.
        hide_input_in_errors=True,
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
    # TON: a toncenter-compatible API (v3 paths) and its key, the network, the ton_proof checks
    # (the domain wallets sign, default the host of PUBLIC_BASE_URL; the oldest proof and the
    # life of a proof payload, seconds), where fans pay, the platform's cut in basis points, the
    # platform wallet's 24 words (payouts), and the TON Connect manifest's name and links.
    ton_api_base: str = "https://toncenter.com"
    ton_api_key: SecretStr | None = None
    ton_network: TonNetwork = TonNetwork.MAINNET
    ton_proof_domain: str | None = None
    ton_proof_ttl: int = Field(default=900, ge=30, le=86_400)
    ton_merchant_address: str | None = None
    ton_platform_fee_bps: int = Field(default=500, ge=0, le=10_000)
    ton_platform_mnemonic: SecretStr | None = None
    # TON payments: how long an invoice stays payable (seconds), how many transactions the
    # watcher reads per request, and the smallest payout and a creator's payouts per rolling
    # 24 hours (in TON).
    ton_invoice_ttl: int = Field(default=1800, ge=60, le=7 * 86_400)
    ton_watcher_page_size: int = Field(default=256, ge=1, le=1000)
    ton_payout_min: Decimal = Decimal("1")
    ton_payout_daily_cap: Decimal = Decimal("1000")
    ton_connect_app_name: str = "Atelier"
    ton_connect_terms_url: str | None = None
    ton_connect_privacy_url: str | None = None
    # TON Connect in chat (/wallet): a wallets-v2.json to offer (unset: the well-known wallets
    # built in), how long a connect link waits for the wallet, how long a connected wallet's
    # session is kept (to ask it for payments later), and how long the bot waits for a wallet
    # to answer a payment request (seconds).
    ton_connect_wallets_url: str | None = None
    ton_connect_timeout: int = Field(default=300, ge=10, le=600)
    ton_connect_session_ttl: int = Field(default=30 * 86_400, ge=3600, le=365 * 86_400)
    ton_send_timeout: int = Field(default=180, ge=10, le=900)
    log_level: str = "INFO"
    log_json: bool = True
    db_pool_size: int = Field(default=20, ge=1)
    db_echo: bool = False
    # Mini App auth: how old Telegram's initData may be, how long our bearer tokens live, and
    # the Ed25519 key (hex) that checks initData's ``signature`` (default: Telegram's own).
    miniapp_init_data_max_age: int = Field(default=3600, ge=1)
    miniapp_token_ttl: int = Field(default=3600, ge=60)
    telegram_webapp_public_key: str | None = None
    # A TrueType font for the labels of the /stats chart (default: DejaVu Sans where installed).
    chart_font: str | None = None
    # Broadcasts: messages per second per bot (Telegram allows about 30 in bulk), shared by
    # every worker process through Redis.
    broadcast_rate: float = Field(default=30.0, gt=0, le=1000)
    # Chat history: days a fan's messages with the bot are kept (the creator panel shows them).
    chat_history_days: int = Field(default=90, ge=1, le=3650)
    # Days the per-fan delivery rows of a finished broadcast are kept (its totals stay).
    broadcast_deliveries_days: int = Field(default=30, ge=1, le=3650)

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

    @field_validator("ton_merchant_address")
    @classmethod
    def _check_merchant_address(cls, value: str | None) -> str | None:
        """Fail at start-up, not at the first invoice, when the address is not an address."""
        if not value:
            return None
        from core.ton.address import parse_address  # pytoniq-core only when TON is configured
        from core.ton.errors import InvalidAddressError

        try:
            parse_address(value)
        except InvalidAddressError:
            raise ValueError("ATELIER_TON_MERCHANT_ADDRESS is not a TON address") from None
        return value

    @field_validator("ton_api_key")
    @classmethod
    def _blank_key_is_none(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value().strip() else None

    @field_validator("ton_platform_mnemonic")
    @classmethod
    def _check_mnemonic(cls, value: SecretStr | None) -> SecretStr | None:
        """24 valid TON words or nothing; the message never repeats the words."""
        if value is None or not value.get_secret_value().strip():
            return None
        from pytoniq_core.crypto.keys import mnemonic_is_valid

        if not mnemonic_is_valid(value.get_secret_value().split()):
            raise ValueError("ATELIER_TON_PLATFORM_MNEMONIC is not a valid 24-word TON mnemonic")
        return value

    @field_validator("ton_payout_min", "ton_payout_daily_cap")
    @classmethod
    def _check_ton_amount(cls, value: Decimal) -> Decimal:
        """A positive amount payable in whole nanotons."""
        from core.ton.amounts import to_nano

        if to_nano(value) <= 0:
            raise ValueError("must be a positive amount of TON")
        return value

    @property
    def ton_payout_min_nano(self) -> int:
        from core.ton.amounts import to_nano

        return to_nano(self.ton_payout_min)

    @property
    def ton_payout_daily_cap_nano(self) -> int:
        from core.ton.amounts import to_nano

        return to_nano(self.ton_payout_daily_cap)

    @property
    def ton_proof_domain_value(self) -> str:
        """The domain a wallet must have signed: ``TON_PROOF_DOMAIN`` or our public host[:port]
        (what a wallet reads from the manifest URL), lower-cased."""
        if self.ton_proof_domain:
            return self.ton_proof_domain.strip().lower()
        return urlsplit(self.public_base_url).netloc.rpartition("@")[2].lower()

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings of this process, read on first use."""
    return Settings()
