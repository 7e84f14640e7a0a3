"""Who may run a tenant: its owner (the Telegram user who connected the bot) and co-admins.

The bot (``/stats``, ``/broadcast``) and the creator panel (``/api/v1/creator/...``) ask the
same question through :func:`role_of`, so a co-admin added in one is an admin in the other.
Only the owner adds or removes co-admins.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.errors import ConflictError, NotFoundError, PermissionDeniedError, ValidationError
from core.models import Tenant, TenantAdmin

MAX_CO_ADMINS = 20


class TenantIdentity(Protocol):
    """A tenant row or the bot's tenant snapshot: all the role check needs."""

    @property
    def id(self) -> int: ...

    @property
    def owner_telegram_id(self) -> int | None: ...


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    FAN = "fan"


async def role_of(session: AsyncSession, tenant: TenantIdentity, telegram_id: int) -> Role:
    if tenant.owner_telegram_id is not None and tenant.owner_telegram_id == telegram_id:
        return Role.OWNER
    found = await session.scalar(
        tenant_select(TenantAdmin, tenant.id).where(TenantAdmin.telegram_id == telegram_id)
    )
    return Role.ADMIN if found is not None else Role.FAN


async def require_admin(session: AsyncSession, tenant: TenantIdentity, telegram_id: int) -> Role:
    """The caller's role when it is owner or admin; a fan gets 403 (they know the tenant)."""
    role = await role_of(session, tenant, telegram_id)
    if role is Role.FAN:
        raise PermissionDeniedError("only the creator and their admins can do this")
    return role


async def list_admins(session: AsyncSession, tenant_id: int) -> Sequence[TenantAdmin]:
    result = await session.execute(
        tenant_select(TenantAdmin, tenant_id).order_by(TenantAdmin.created_at, TenantAdmin.id)
    )
    return result.scalars().all()


async def add_admin(
    session: AsyncSession, tenant: Tenant, *, by_telegram_id: int, telegram_id: int
) -> TenantAdmin:
    await _require_owner(session, tenant, by_telegram_id)
    if telegram_id <= 0:
        raise ValidationError("a Telegram user id is a positive number")
    if telegram_id == tenant.owner_telegram_id:
        raise ConflictError("the owner is already the creator of this bot")
    if len(await list_admins(session, tenant.id)) >= MAX_CO_ADMINS:
        raise ConflictError(f"a bot can have at most {MAX_CO_ADMINS} co-admins")
    admin = TenantAdmin(
        tenant_id=tenant.id, telegram_id=telegram_id, added_by_telegram_id=by_telegram_id
    )
    try:
        async with session.begin_nested():
            session.add(admin)
    except IntegrityError:
        raise ConflictError("this user is already an admin") from None
    return admin


async def remove_admin(
    session: AsyncSession, tenant: Tenant, *, by_telegram_id: int, telegram_id: int
) -> None:
    await _require_owner(session, tenant, by_telegram_id)
    result = await session.execute(
        delete(TenantAdmin).where(
            TenantAdmin.tenant_id == tenant.id, TenantAdmin.telegram_id == telegram_id
        )
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFoundError("no such admin")


async def _require_owner(session: AsyncSession, tenant: Tenant, telegram_id: int) -> None:
    if await role_of(session, tenant, telegram_id) is not Role.OWNER:
        raise PermissionDeniedError("only the owner of the bot manages its admins")
