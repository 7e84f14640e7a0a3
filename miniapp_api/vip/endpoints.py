"""The fan's VIP screen (``/api/v1/vip``): packages with their status, subscription invoice
links, and cancelling the renewal (access stays until the period ends)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path

from core.db import utcnow
from core.models import VipSubscription
from miniapp_api.auth.deps import UserDep
from miniapp_api.content.schemas import InvoiceLinkOut
from miniapp_api.deps import SessionDep
from miniapp_api.tasks.deps import RuntimeDep
from miniapp_api.vip.schemas import FanPackageOut, SubscriptionOut, VipOut
from miniapp_api.wallet.service import fan_bot
from tenants.vip import service as vip

router = APIRouter()
Id = Annotated[int, Path(ge=1, le=2**63 - 1)]


def subscription_out(sub: VipSubscription, now: datetime) -> SubscriptionOut:
    return SubscriptionOut(
        id=sub.id,
        package_id=sub.package_id,
        status=sub.status,
        period_end=sub.period_end,
        renews=vip.renews(sub, now),
        is_open=vip.is_open(sub, now),
    )


@router.get("")
async def packages(user: UserDep, session: SessionDep) -> VipOut:
    now = utcnow()
    found = await vip.fan_packages(session, user.tenant_id, user.user_id, now=now)
    return VipOut(
        packages=[
            FanPackageOut(
                id=item.package.id,
                name=item.package.name,
                description=item.package.description,
                perks=list(item.package.perks or []),
                price_stars=item.package.price_stars,
                has_channel=item.package.channel_chat_id is not None,
                subscription=(
                    subscription_out(item.subscription, now) if item.subscription else None
                ),
            )
            for item in found
        ]
    )


@router.post("/packages/{package_id}/invoice")
async def invoice(
    package_id: Id, user: UserDep, session: SessionDep, runtime: RuntimeDep
) -> InvoiceLinkOut:
    """A 30-day Stars subscription link for the package (Telegram renews it until cancelled).
    Access starts when the bot receives the ``successful_payment``, never from this call."""
    found = await fan_bot(session, runtime, user)
    link = await vip.vip_invoice_link(
        session,
        found.bot,
        found.texts,
        user.tenant_id,
        user_id=user.user_id,
        telegram_user_id=user.telegram_id,
        package_id=package_id,
    )
    return InvoiceLinkOut(invoice_link=link)


@router.post("/subscriptions/{subscription_id}/cancel")
async def cancel(
    subscription_id: Id, user: UserDep, session: SessionDep, runtime: RuntimeDep
) -> SubscriptionOut:
    found = await fan_bot(session, runtime, user)
    sub = await vip.cancel_subscription(
        session,
        found.bot,
        user.tenant_id,
        user_id=user.user_id,
        telegram_user_id=user.telegram_id,
        subscription_id=subscription_id,
    )
    return subscription_out(sub, utcnow())
