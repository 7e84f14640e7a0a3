"""Connecting a creator's bot from the manager bot, and switching it on and off.

Checks run cheapest first so a bad token leaves nothing behind: shape (no network), "is it
the manager bot's own token", then ``tenants.service.register_tenant`` (already connected?
``getMe``), inside a savepoint so a refused token leaves the update's transaction usable.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import PermissionDeniedError
from core.models import Tenant, TenantBot, TenantRole
from tenants import service as tenants_service
from tenants.errors import InvalidBotTokenError, TenantNotFoundError
from tenants.telegram import parse_token
from tenants.webhooks import mark_route_changed


class MalformedTokenError(InvalidBotTokenError):
    code = "malformed_bot_token"


class ManagerTokenError(InvalidBotTokenError):
    code = "manager_bot_token"


async def connect_bot(
    session: AsyncSession,
    token: str,
    *,
    owner_telegram_id: int,
    manager_bot_id: int,
    api_base: str,
) -> TenantBot:
    """Register ``token``'s bot as a new creator tenant owned by ``owner_telegram_id``."""
    token = token.strip()
    try:
        claimed_id = parse_token(token)
    except InvalidBotTokenError as exc:
        raise MalformedTokenError(exc.message) from None
    if claimed_id == manager_bot_id:
        raise ManagerTokenError("this is the manager bot's own token")
    async with session.begin_nested():
        return await tenants_service.register_tenant(
            session,
            token,
            owner_telegram_id=owner_telegram_id,
            role=TenantRole.CREATOR,
            api_base=api_base,
        )


async def owned_bots(
    session: AsyncSession, owner_telegram_id: int
) -> Sequence[tuple[Tenant, TenantBot]]:
    rows = await session.execute(
        select(Tenant, TenantBot)
        .join(TenantBot, TenantBot.tenant_id == Tenant.id)
        .where(Tenant.owner_telegram_id == owner_telegram_id, Tenant.role == TenantRole.CREATOR)
        .order_by(Tenant.id)
    )
    return [(tenant, bot) for tenant, bot in rows.all()]


async def toggle_tenant(
    session: AsyncSession, tenant_id: int, *, owner_telegram_id: int
) -> tuple[Tenant, TenantBot]:
    """Disable an active tenant or enable a disabled one; only its owner may."""
    row = (
        await session.execute(
            select(Tenant, TenantBot)
            .join(TenantBot, TenantBot.tenant_id == Tenant.id)
            .where(Tenant.id == tenant_id)
        )
    ).one_or_none()
    if row is None:
        raise TenantNotFoundError(f"no tenant with id {tenant_id}")
    tenant, bot = row
    if tenant.owner_telegram_id != owner_telegram_id or tenant.role != TenantRole.CREATOR:
        raise PermissionDeniedError("only the owner may switch this bot")
    await tenants_service.set_tenant_active(session, tenant.id, active=not tenant.is_active)
    mark_route_changed(session, bot.telegram_bot_id)
    return tenant, bot
