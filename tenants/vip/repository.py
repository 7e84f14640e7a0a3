"""All SQL of VIP packages and subscriptions, tenant-scoped through :func:`tenant_select`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select
from core.models import Payment, User, VipPackage, VipStatus, VipSubscription
from tenants.content.repository import insert_ignoring_conflict


async def list_packages(
    session: AsyncSession, tenant_id: int, *, active_only: bool
) -> Sequence[VipPackage]:
    statement = tenant_select(VipPackage, tenant_id)
    if active_only:
        statement = statement.where(VipPackage.is_active.is_(True))
    statement = statement.order_by(VipPackage.position, VipPackage.price_stars, VipPackage.id)
    return (await session.scalars(statement)).all()


async def get_package(session: AsyncSession, tenant_id: int, package_id: int) -> VipPackage | None:
    package: VipPackage | None = await session.scalar(
        tenant_select(VipPackage, tenant_id).where(VipPackage.id == package_id)
    )
    return package


async def packages_by_id(
    session: AsyncSession, tenant_id: int, package_ids: Sequence[int]
) -> dict[int, VipPackage]:
    if not package_ids:
        return {}
    statement = tenant_select(VipPackage, tenant_id).where(VipPackage.id.in_(list(package_ids)))
    return {package.id: package for package in (await session.scalars(statement)).all()}


def subscription_open(now: datetime, grace: timedelta) -> ColumnElement[bool]:
    """A subscription that gives access now: not expired and inside its period — or, for a
    renewing one, inside the grace after it while Telegram's renewal charge is on its way."""
    return and_(
        VipSubscription.status != VipStatus.EXPIRED,
        or_(
            VipSubscription.period_end > now,
            and_(
                VipSubscription.status == VipStatus.ACTIVE,
                VipSubscription.is_recurring.is_(True),
                VipSubscription.period_end > now - grace,
            ),
        ),
    )


async def open_package_ids(
    session: AsyncSession, tenant_id: int, user_id: int, now: datetime, grace: timedelta
) -> set[int]:
    statement = (
        tenant_select(VipSubscription, tenant_id)
        .with_only_columns(VipSubscription.package_id)
        .where(VipSubscription.user_id == user_id, subscription_open(now, grace))
    )
    return set((await session.scalars(statement)).all())


async def subscriptions_of_user(
    session: AsyncSession, tenant_id: int, user_id: int
) -> Sequence[VipSubscription]:
    statement = (
        tenant_select(VipSubscription, tenant_id)
        .where(VipSubscription.user_id == user_id)
        .order_by(VipSubscription.id)
    )
    return (await session.scalars(statement)).all()


async def get_subscription(
    session: AsyncSession, tenant_id: int, subscription_id: int, *, for_update: bool = False
) -> VipSubscription | None:
    statement = tenant_select(VipSubscription, tenant_id).where(
        VipSubscription.id == subscription_id
    )
    if for_update:
        statement = statement.with_for_update()
    subscription: VipSubscription | None = await session.scalar(statement)
    return subscription


async def locked_subscription(
    session: AsyncSession, tenant_id: int, user_id: int, package_id: int, now: datetime
) -> VipSubscription:
    """The fan's row for the package, created (expired, ending now) when missing, and locked
    for this transaction: two charges of one fan apply one after the other."""
    await insert_ignoring_conflict(
        session,
        VipSubscription,
        {
            "tenant_id": tenant_id,
            "user_id": user_id,
            "package_id": package_id,
            "status": VipStatus.EXPIRED.value,
            "period_end": now,
            "is_recurring": False,
            "created_at": now,
            "updated_at": now,
        },
        ("tenant_id", "user_id", "package_id"),
    )
    statement = (
        tenant_select(VipSubscription, tenant_id)
        .where(VipSubscription.user_id == user_id, VipSubscription.package_id == package_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return (await session.scalars(statement)).one()


async def subscribers(
    session: AsyncSession,
    tenant_id: int,
    *,
    package_id: int | None,
    status: VipStatus | None,
    before_id: int | None,
    limit: int,
) -> Sequence[tuple[VipSubscription, User]]:
    statement = (
        tenant_select(VipSubscription, tenant_id)
        .add_columns(User)
        .join(User, and_(User.id == VipSubscription.user_id, User.tenant_id == tenant_id))
    )
    if package_id is not None:
        statement = statement.where(VipSubscription.package_id == package_id)
    if status is not None:
        statement = statement.where(VipSubscription.status == status)
    if before_id is not None:
        statement = statement.where(VipSubscription.id < before_id)
    statement = statement.order_by(VipSubscription.id.desc()).limit(limit)
    return list((await session.execute(statement)).all())


async def count_by_status(session: AsyncSession, tenant_id: int, package_id: int) -> dict[str, int]:
    statement = (
        tenant_select(VipSubscription, tenant_id)
        .with_only_columns(VipSubscription.status, func.count())
        .where(VipSubscription.package_id == package_id)
        .group_by(VipSubscription.status)
    )
    return {str(status): int(n) for status, n in (await session.execute(statement)).all()}


async def charges_of_order(session: AsyncSession, tenant_id: int, order_id: int) -> int:
    statement = (
        tenant_select(Payment, tenant_id)
        .with_only_columns(func.count())
        .where(Payment.order_id == order_id)
    )
    return int(await session.scalar(statement) or 0)


async def due_for_expiry(
    session: AsyncSession, now: datetime, grace: timedelta, limit: int
) -> Sequence[tuple[VipSubscription, VipPackage, User]]:
    """Subscriptions whose access ended (all tenants: the cron's sweep), locked, skipping rows
    another sweep holds. A renewing one gets ``grace`` for its charge to arrive."""
    ended = or_(
        and_(
            VipSubscription.status == VipStatus.ACTIVE,
            VipSubscription.is_recurring.is_(True),
            VipSubscription.period_end <= now - grace,
        ),
        and_(
            or_(
                VipSubscription.status == VipStatus.CANCELLED,
                VipSubscription.is_recurring.is_(False),
            ),
            VipSubscription.status != VipStatus.EXPIRED,
            VipSubscription.period_end <= now,
        ),
    )
    return await _sweep(session, ended, limit)


async def due_for_reminder(
    session: AsyncSession, now: datetime, before: timedelta, limit: int
) -> Sequence[tuple[VipSubscription, VipPackage, User]]:
    """Subscriptions that will not renew (cancelled, or never recurring) and end within
    ``before``, not yet reminded for this period end."""
    soon = and_(
        VipSubscription.status != VipStatus.EXPIRED,
        or_(
            VipSubscription.status == VipStatus.CANCELLED,
            VipSubscription.is_recurring.is_(False),
        ),
        VipSubscription.period_end > now,
        VipSubscription.period_end <= now + before,
        or_(
            VipSubscription.reminded_for.is_(None),
            VipSubscription.reminded_for != VipSubscription.period_end,
        ),
    )
    return await _sweep(session, soon, limit)


async def pending_channel_removals(
    session: AsyncSession, limit: int
) -> Sequence[tuple[VipSubscription, VipPackage, User]]:
    """Expired subscriptions of packages with a channel whose member was not removed yet."""
    pending = and_(
        VipSubscription.status == VipStatus.EXPIRED,
        VipSubscription.expired_at.is_not(None),
        VipSubscription.channel_removed_at.is_(None),
        VipPackage.channel_chat_id.is_not(None),
    )
    return await _sweep(session, pending, limit)


async def _sweep(
    session: AsyncSession, condition: ColumnElement[bool], limit: int
) -> Sequence[tuple[VipSubscription, VipPackage, User]]:
    statement = (
        select(VipSubscription, VipPackage, User)
        .join(
            VipPackage,
            and_(
                VipPackage.id == VipSubscription.package_id,
                VipPackage.tenant_id == VipSubscription.tenant_id,
            ),
        )
        .join(
            User,
            and_(User.id == VipSubscription.user_id, User.tenant_id == VipSubscription.tenant_id),
        )
        .where(condition)
        .order_by(VipSubscription.id)
        .limit(limit)
        .with_for_update(of=VipSubscription, skip_locked=True)
    )
    return list((await session.execute(statement)).all())
