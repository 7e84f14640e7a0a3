"""Tenant lifecycle: connect a BotFather bot, list tenants, disable and enable them.

Tokens are validated with ``getMe`` before anything is written and stored only encrypted; they
never appear in logs or error messages.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram import Bot
from redis.asyncio import Redis
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core import crypto
from core.db import utcnow
from core.models import Tenant, TenantBot, TenantRole
from core.settings import get_settings
from tenants import repository
from tenants.errors import BotAlreadyConnectedError, TenantNotFoundError
from tenants.plans import DEFAULT_PLAN, get_plan
from tenants.telegram import fetch_bot_identity, make_session, parse_token
from tenants.webhooks import mark_route_changed

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TenantSummary:
    tenant_id: int
    name: str
    plan: str
    role: TenantRole
    is_active: bool
    telegram_bot_id: int | None
    bot_username: str | None


async def register_tenant(
    session: AsyncSession,
    token: str,
    *,
    plan: str = DEFAULT_PLAN,
    owner_telegram_id: int | None = None,
    role: TenantRole = TenantRole.CREATOR,
    name: str | None = None,
    api_base: str | None = None,
) -> TenantBot:
    """Connect the bot behind ``token`` as a new tenant.

    Order matters: cheap local checks, then ``getMe``, then the rows, so a bad token or a
    duplicate bot leaves nothing behind.
    """
    token = token.strip()
    get_plan(plan)
    claimed_id = parse_token(token)
    if await repository.get_bot_by_telegram_id(session, claimed_id) is not None:
        raise BotAlreadyConnectedError("this bot is already connected to Atelier")
    identity = await fetch_bot_identity(
        token, api_base=api_base or get_settings().telegram_api_base
    )

    tenant = Tenant(
        name=name or identity.first_name,
        role=role,
        plan=plan,
        owner_telegram_id=owner_telegram_id,
        config={},
    )
    session.add(tenant)
    await session.flush()
    bot = TenantBot(
        tenant_id=tenant.id,
        telegram_bot_id=identity.telegram_bot_id,
        username=identity.username,
        token_encrypted=crypto.encrypt(token),
    )
    session.add(bot)
    try:
        await session.flush()
    except IntegrityError:
        # A concurrent registration of the same bot won the race.
        raise BotAlreadyConnectedError("this bot is already connected to Atelier") from None
    logger.info(
        "tenant registered",
        extra={"tenant_id": tenant.id, "bot_id": bot.telegram_bot_id, "plan": plan},
    )
    return bot


def bot_token(bot: TenantBot) -> str:
    """The clear token of a connected bot, for building its aiogram ``Bot``."""
    return crypto.decrypt(bot.token_encrypted)


@asynccontextmanager
async def tenant_bot(
    api_base: str, row: TenantBot, redis: Redis | None = None
) -> AsyncIterator[Bot]:
    """An aiogram ``Bot`` for a connected bot on an HTTP session of its own, closed after use
    (work outside the bot runtime: the worker's jobs); with ``redis``, what it sends to fans
    goes into the chat history."""
    session = make_session(api_base, redis)
    try:
        yield Bot(bot_token(row), session=session)
    finally:
        await session.close()


async def list_tenants(session: AsyncSession) -> Sequence[TenantSummary]:
    return [
        TenantSummary(
            tenant_id=tenant.id,
            name=tenant.name,
            plan=tenant.plan,
            role=tenant.role,
            is_active=tenant.is_active,
            telegram_bot_id=bot.telegram_bot_id if bot else None,
            bot_username=bot.username if bot else None,
        )
        for tenant, bot in await repository.list_tenants_with_bots(session)
    ]


async def set_tenant_active(session: AsyncSession, tenant_id: int, *, active: bool) -> Tenant:
    tenant = await repository.get_tenant(session, tenant_id)
    if tenant is None:
        raise TenantNotFoundError(f"no tenant with id {tenant_id}")
    tenant.is_active = active
    tenant.disabled_at = None if active else utcnow()
    await session.flush()
    # Running API processes cache routing data: tell them once this commits.
    for bot in await repository.list_bots_of_tenant(session, tenant_id):
        mark_route_changed(session, bot.telegram_bot_id)
    logger.info("tenant %s", "enabled" if active else "disabled", extra={"tenant_id": tenant_id})
    return tenant
