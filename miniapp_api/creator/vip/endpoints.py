"""The creator's VIP packages and subscribers (``/api/v1/creator/vip``); owner and co-admins."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from aiogram.exceptions import TelegramAPIError
from fastapi import APIRouter, Path, Query, Response, status

from core.models import User, VipPackage, VipStatus, VipSubscription
from miniapp_api.creator.deps import Creator, CreatorDep
from miniapp_api.creator.vip.schemas import (
    ChannelStatus,
    PackageIn,
    PackageOut,
    PackagePatch,
    PackagesOut,
    SubscriberOut,
    SubscribersOut,
)
from miniapp_api.deps import SessionDep
from miniapp_api.tasks.deps import RuntimeDep
from tenants.vip import service as vip
from tenants.vip.service import PackageDraft

logger = logging.getLogger(__name__)
router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]
ADMIN_STATUSES = ("administrator", "creator")


async def channel_status(
    runtime: RuntimeDep, creator: Creator, chat_id: int | None
) -> ChannelStatus | None:
    """Ask Telegram whether the tenant's bot administers the package's channel: the panel
    says so when it does not (no invite links, no removal at expiry)."""
    if chat_id is None:
        return None
    route = await runtime.routes.get(creator.user.bot_id)
    if route is None:
        return "unreachable"
    bot = runtime.bots.get(route)
    try:
        member = await bot.get_chat_member(chat_id, bot.id)
    except TelegramAPIError as exc:
        logger.info("channel %s of tenant %d: %s", chat_id, creator.tenant.id, exc.message)
        return "unreachable"
    return "admin" if member.status in ADMIN_STATUSES else "not_admin"


async def package_out(
    session: SessionDep, package: VipPackage, channel: ChannelStatus | None = None
) -> PackageOut:
    return PackageOut(
        id=package.id,
        name=package.name,
        description=package.description,
        perks=list(package.perks or []),
        price_stars=package.price_stars,
        is_active=package.is_active,
        channel_chat_id=package.channel_chat_id,
        position=package.position,
        subscribers=await vip.subscriber_counts(session, package.tenant_id, package.id),
        channel_status=channel,
    )


@router.get("/packages")
async def list_packages(creator: CreatorDep, session: SessionDep) -> PackagesOut:
    packages = await vip.list_packages(session, creator.tenant.id)
    return PackagesOut(items=[await package_out(session, p) for p in packages])


@router.post("/packages", status_code=status.HTTP_201_CREATED)
async def create_package(
    body: PackageIn, creator: CreatorDep, session: SessionDep, runtime: RuntimeDep
) -> PackageOut:
    package = await vip.create_package(
        session, creator.tenant.id, PackageDraft(**body.model_dump())
    )
    channel = await channel_status(runtime, creator, package.channel_chat_id)
    return await package_out(session, package, channel)


@router.get("/packages/{package_id}")
async def get_package(
    package_id: Id, creator: CreatorDep, session: SessionDep, runtime: RuntimeDep
) -> PackageOut:
    package = await vip.get_package(session, creator.tenant.id, package_id)
    channel = await channel_status(runtime, creator, package.channel_chat_id)
    return await package_out(session, package, channel)


@router.patch("/packages/{package_id}")
async def update_package(
    package_id: Id,
    body: PackagePatch,
    creator: CreatorDep,
    session: SessionDep,
    runtime: RuntimeDep,
) -> PackageOut:
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    for name in ("name", "description", "perks", "price_stars", "is_active", "position"):
        if name in changes and changes[name] is None:
            del changes[name]
    package = await vip.update_package(session, creator.tenant.id, package_id, changes)
    channel = await channel_status(runtime, creator, package.channel_chat_id)
    return await package_out(session, package, channel)


@router.delete("/packages/{package_id}", status_code=status.HTTP_204_NO_CONTENT)
async def deactivate_package(package_id: Id, creator: CreatorDep, session: SessionDep) -> Response:
    """Stop selling the package; running subscriptions go on until cancelled or expired."""
    await vip.deactivate_package(session, creator.tenant.id, package_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def subscriber_out(sub: VipSubscription, user: User) -> SubscriberOut:
    return SubscriberOut(
        subscription_id=sub.id,
        package_id=sub.package_id,
        user_id=user.id,
        telegram_id=user.telegram_id,
        first_name=user.first_name,
        username=user.username,
        status=sub.status,
        period_end=sub.period_end,
        is_recurring=sub.is_recurring,
        cancelled_at=sub.cancelled_at,
        expired_at=sub.expired_at,
        created_at=sub.created_at,
    )


async def _subscribers(
    session: SessionDep,
    creator: Creator,
    package_id: int | None,
    status_: VipStatus | None,
    cursor: int | None,
    limit: int,
) -> SubscribersOut:
    rows = await vip.subscribers(
        session,
        creator.tenant.id,
        package_id=package_id,
        status=status_,
        before_id=cursor,
        limit=limit,
    )
    next_cursor = str(rows[-1][0].id) if len(rows) == limit else None
    return SubscribersOut(items=[subscriber_out(s, u) for s, u in rows], next_cursor=next_cursor)


Cursor = Annotated[int | None, Query(ge=1, le=2**63 - 1)]
Limit = Annotated[int, Query(ge=1, le=vip.MAX_PAGE)]
StatusQuery = Annotated[VipStatus | None, Query(alias="status")]


@router.get("/subscribers")
async def all_subscribers(
    creator: CreatorDep,
    session: SessionDep,
    status_: StatusQuery = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> SubscribersOut:
    """Every subscription of every package, newest first (filter by ``status``)."""
    return await _subscribers(session, creator, None, status_, cursor, limit)


@router.get("/packages/{package_id}/subscribers")
async def package_subscribers(
    package_id: Id,
    creator: CreatorDep,
    session: SessionDep,
    status_: StatusQuery = None,
    cursor: Cursor = None,
    limit: Limit = 50,
) -> SubscribersOut:
    return await _subscribers(session, creator, package_id, status_, cursor, limit)
