"""Signing a fan in from the Mini App: find the tenant's bot, check initData, upsert the fan.

The fan row is written by the same upsert the bot's middleware runs on ``/start``
(:func:`tenants.users.upsert_user`), so a fan who opens the Mini App first is the same row
the bot later sees. Unknown bots, disabled tenants and bad launch data all answer the same 401:
the caller learns nothing about which bots exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiogram.types import User as TelegramUser
from aiogram.utils.web_app_signature import PRODUCTION_PUBLIC_KEY
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import User
from core.settings import Environment, Settings
from miniapp_api.auth.initdata import InvalidInitDataError, validate_init_data
from miniapp_api.auth.tokens import CurrentUser, issue_token
from tenants import repository as tenants_repo
from tenants.service import bot_token
from tenants.users import BotUser, upsert_user

EMULATOR_PUBLIC_KEY = bytes.fromhex(
    "fcd95b9b242bd73e237c076f8a7fae7afc695b330d7b182992c0cd718efe5684"
)
"""The Telegram emulator's test key (``devtools.telegram.EMULATOR_PUBLIC_KEY``; its seed is
public). Product code never imports ``devtools``, so the value is repeated here and a test
checks the two agree; it is trusted only in the dev and test environments."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    token: str
    expires_at: int
    user: BotUser


def signature_keys(settings: Settings) -> list[bytes]:
    """Public keys that may sign initData: Telegram's (or the configured one), plus the
    emulator's outside production."""
    configured = settings.telegram_webapp_public_key
    keys = [bytes.fromhex(configured) if configured else PRODUCTION_PUBLIC_KEY]
    if settings.environment in (Environment.DEV, Environment.TEST):
        keys.append(EMULATOR_PUBLIC_KEY)
    return keys


async def sign_in(
    session: AsyncSession, settings: Settings, *, bot_id: int, init_data: str
) -> SignedIn:
    bot = await tenants_repo.get_bot_by_telegram_id(session, bot_id)
    tenant = None if bot is None else await tenants_repo.get_tenant(session, bot.tenant_id)
    if bot is None or tenant is None or not bot.is_active or not tenant.is_active:
        raise InvalidInitDataError("initData signature does not match this bot")
    data = validate_init_data(
        init_data,
        bot_id=bot_id,
        bot_token=bot_token(bot),
        public_keys=signature_keys(settings),
        max_age=settings.miniapp_init_data_max_age,
    )
    sender = TelegramUser(
        id=data.user.id,
        is_bot=False,
        first_name=data.user.first_name,
        last_name=data.user.last_name,
        username=data.user.username,
        language_code=data.user.language_code,
    )
    user = await upsert_user(session, tenant.id, sender)
    token, expires_at = issue_token(
        tenant_id=tenant.id,
        user_id=user.id,
        telegram_id=user.telegram_id,
        bot_id=bot_id,
        ttl=settings.miniapp_token_ttl,
        secret_key=settings.secret_key,
    )
    return SignedIn(token=token, expires_at=expires_at, user=user)


async def set_language(session: AsyncSession, user: CurrentUser, language: str) -> None:
    """The fan's language, shared with the bot (``/language`` writes the same column). The
    caller forgets the bot's cached snapshot of the fan once this commits."""
    await session.execute(
        update(User)
        .where(User.tenant_id == user.tenant_id, User.id == user.user_id)
        .values(language=language)
    )
