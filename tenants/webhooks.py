"""Pointing a tenant's bot at Atelier: webhook URL and secret, commands and the menu button.

Each (re)configuration makes a fresh random secret, stores only its keyed hash
(:func:`core.crypto.fingerprint`) and hands the secret to Telegram, which sends it back in
``X-Telegram-Bot-Api-Secret-Token``. Webhooks are set when a bot is connected and re-set by
``atelier tenants resync`` — never by looping over every tenant at start-up.

Every process of the bot runtime caches routing data (tenant, bot, token, secret hash, text
overrides). Whoever changes those rows marks the bot with :func:`mark_route_changed` and, once
the transaction committed, calls :func:`publish_route_changes`: that bumps the bot's version in
Redis, which each process compares on every update, so a change is seen by the next update.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import BotCommand, MenuButtonWebApp, WebAppInfo
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from core import crypto
from core.models import TenantBot
from tenants.errors import TelegramUnreachableError

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name, not a secret
_ROUTE_CHANGES = "atelier.route_changes"


def route_version_key(telegram_bot_id: int) -> str:
    return f"bot:route:{telegram_bot_id}"


def webhook_url(public_base_url: str, telegram_bot_id: int) -> str:
    """Routed by the bot's id, never by its token: tokens must not end up in access logs."""
    return f"{public_base_url.rstrip('/')}/tg/{telegram_bot_id}"


def new_secret() -> str:
    """256 bits in Telegram's allowed alphabet (``A-Za-z0-9_-``, at most 256 characters)."""
    return secrets.token_urlsafe(32)


def secret_hash(secret: str, *, secret_key: str | None = None) -> str:
    return crypto.fingerprint(secret, secret_key=secret_key)


def secret_matches(stored_hash: str | None, offered: str | None, *, secret_key: str) -> bool:
    """Constant-time comparison of the offered header with the stored keyed hash."""
    if not stored_hash or not offered:
        return False
    return hmac.compare_digest(secret_hash(offered, secret_key=secret_key), stored_hash)


@dataclass(frozen=True, slots=True)
class BotSetup:
    """What Telegram must know about a bot besides its URL; the bot runtime builds it."""

    allowed_updates: Sequence[str]
    #: language code ("" = everyone else) → commands in that language
    commands: Mapping[str, Sequence[BotCommand]] = field(default_factory=dict)
    menu_button_text: str | None = None
    menu_button_url: str | None = None


async def configure_webhook(
    session: AsyncSession,
    bot_row: TenantBot,
    bot: Bot,
    setup: BotSetup,
    *,
    public_base_url: str,
    secret_key: str | None = None,
    drop_pending_updates: bool = False,
) -> str:
    """Set the webhook with a new secret, the commands and the menu button; returns the secret.

    The new hash is flushed before Telegram is called, so a failed call rolls back with the
    caller's transaction and the old secret stays valid. The caller commits, then publishes.
    """
    secret = new_secret()
    bot_row.webhook_secret_hash = secret_hash(secret, secret_key=secret_key)
    await session.flush()
    try:
        await bot.set_webhook(
            url=webhook_url(public_base_url, bot_row.telegram_bot_id),
            secret_token=secret,
            allowed_updates=list(setup.allowed_updates),
            drop_pending_updates=drop_pending_updates,
        )
        for language, commands in setup.commands.items():
            await bot.set_my_commands(list(commands), language_code=language or None)
        if setup.menu_button_text and setup.menu_button_url:
            await bot.set_chat_menu_button(
                menu_button=MenuButtonWebApp(
                    text=setup.menu_button_text, web_app=WebAppInfo(url=setup.menu_button_url)
                )
            )
    except TelegramNetworkError as exc:
        raise TelegramUnreachableError(
            f"cannot reach the Telegram Bot API: {exc.message}"
        ) from None
    except TelegramAPIError as exc:
        raise TelegramUnreachableError(f"Telegram refused the bot set-up: {exc.message}") from None
    mark_route_changed(session, bot_row.telegram_bot_id)
    logger.info(
        "webhook set", extra={"tenant_id": bot_row.tenant_id, "bot_id": bot_row.telegram_bot_id}
    )
    return secret


def mark_route_changed(session: AsyncSession, telegram_bot_id: int) -> None:
    """Remember, on the session, that this bot's routing data changed in this transaction."""
    changes: set[int] = session.info.setdefault(_ROUTE_CHANGES, set())
    changes.add(telegram_bot_id)


async def publish_route_changes(session: AsyncSession, redis: Redis) -> list[int]:
    """After commit: bump the version of every bot marked on ``session``."""
    changes: set[int] = session.info.pop(_ROUTE_CHANGES, set())
    for telegram_bot_id in changes:
        await bump_route_version(redis, telegram_bot_id)
    return sorted(changes)


async def bump_route_version(redis: Redis, telegram_bot_id: int) -> None:
    await redis.incr(route_version_key(telegram_bot_id))
