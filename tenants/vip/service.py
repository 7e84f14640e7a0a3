"""VIP subscriptions: packages fans subscribe to in Stars, 30 days per charge, renewed by
Telegram until cancelled. Plain async functions taking a session; they only flush.

The life of a subscription (one row per fan and package, see :class:`VipSubscription`):

- **buy**: an order (``OrderKind.VIP``) and a Telegram subscription invoice link
  (``createInvoiceLink`` with ``subscription_period`` 2592000). The first charge makes the row
  active for 30 days from now — or from the end of a period still running;
- **renew**: Telegram charges again every 30 days (``is_recurring`` ``successful_payment``,
  same payload). Each charge is recorded once (UNIQUE charge id in ``payments``) and only then
  applied, so a period grows by 30 days exactly once per charge whatever the update stream does;
- **cancel**: ``editUserStarSubscription(is_canceled=True)`` stops the renewals; access stays
  until ``period_end``;
- **expire**: :func:`run_vip_expiry` (the worker's cron, with an injectable ``now``) ends
  access at ``period_end`` — for a renewing subscription :data:`RENEWAL_GRACE` later, so a
  renewal charge on its way does not cut the fan off — reminds three days before the end the
  subscriptions that will not renew, and lists the fans to take out of the package's channel
  (the worker does that through the bot where the bot is an admin).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import ConflictError, NotFoundError, UpstreamError, ValidationError
from core.models import Order, User, VipPackage, VipStatus, VipSubscription
from core.models.payments import OrderKind
from tenants import billing, payments
from tenants.vip import repository as repo

logger = logging.getLogger(__name__)

PERIOD = billing.SUBSCRIPTION_PERIOD
RENEWAL_GRACE = timedelta(hours=1)
REMINDER_BEFORE = timedelta(days=3)
MAX_PRICE_STARS = 10_000  # Telegram's ceiling for subscription invoices
MAX_PERKS = 10
SWEEP_BATCH = 500
MAX_PAGE = 100


class AlreadySubscribedError(ConflictError):
    code = "already_subscribed"


class NotCancellableError(ConflictError):
    code = "not_cancellable"


@dataclass(frozen=True, slots=True)
class PackageDraft:
    name: str
    price_stars: int
    description: str = ""
    perks: list[str] = field(default_factory=list)
    is_active: bool = True
    channel_chat_id: int | None = None
    position: int = 0


@dataclass(frozen=True, slots=True)
class FanPackage:
    """A package as one fan sees it: their subscription to it, if any, and whether it is open."""

    package: VipPackage
    subscription: VipSubscription | None
    is_open: bool


@dataclass(frozen=True, slots=True)
class VipCharge:
    """What one recorded VIP charge did: ``first`` for a subscription's first payment,
    ``reopened`` when it gave access back to a fan who had none (send the channel link)."""

    subscription: VipSubscription
    package: VipPackage
    first: bool
    reopened: bool


@dataclass(frozen=True, slots=True)
class VipNotice:
    """Something owed to a fan after the expiry sweep commits: ``reminder`` (ends soon),
    ``expired`` (tell them, and take them out of the channel), ``remove`` (a removal that
    failed earlier, retried without a message)."""

    kind: str
    tenant_id: int
    subscription_id: int
    user_id: int
    telegram_id: int
    language: str | None
    language_code: str | None
    package_name: str
    period_end: datetime
    channel_chat_id: int | None


# -- packages ----------------------------------------------------------------------------------


def _check_package(draft: PackageDraft) -> PackageDraft:
    name = " ".join(draft.name.split())
    if not 1 <= len(name) <= 64:
        raise ValidationError("a package name is 1 to 64 characters")
    if not 1 <= draft.price_stars <= MAX_PRICE_STARS:
        raise ValidationError(f"the price is 1 to {MAX_PRICE_STARS} Stars per 30 days")
    perks = [" ".join(perk.split())[:120] for perk in draft.perks if perk.strip()]
    if len(perks) > MAX_PERKS:
        raise ValidationError(f"at most {MAX_PERKS} perks")
    if draft.channel_chat_id is not None and draft.channel_chat_id >= 0:
        raise ValidationError("a channel or group id is negative (e.g. -1001234567890)")
    return PackageDraft(
        name=name,
        price_stars=draft.price_stars,
        description=draft.description.strip()[:1000],
        perks=perks,
        is_active=draft.is_active,
        channel_chat_id=draft.channel_chat_id,
        position=draft.position,
    )


async def list_packages(
    session: AsyncSession, tenant_id: int, *, active_only: bool = False
) -> Sequence[VipPackage]:
    return await repo.list_packages(session, tenant_id, active_only=active_only)


async def get_package(session: AsyncSession, tenant_id: int, package_id: int) -> VipPackage:
    package = await repo.get_package(session, tenant_id, package_id)
    if package is None:
        raise NotFoundError("VIP package not found", package_id=package_id)
    return package


async def create_package(session: AsyncSession, tenant_id: int, draft: PackageDraft) -> VipPackage:
    draft = _check_package(draft)
    package = VipPackage(tenant_id=tenant_id, **_package_fields(draft))
    session.add(package)
    await session.flush()
    return package


async def update_package(
    session: AsyncSession, tenant_id: int, package_id: int, changes: dict[str, Any]
) -> VipPackage:
    """Change the given fields. A new price applies to new subscriptions; running ones renew
    at the price their Telegram subscription was made with."""
    package = await get_package(session, tenant_id, package_id)
    current = PackageDraft(
        name=package.name,
        price_stars=package.price_stars,
        description=package.description,
        perks=list(package.perks or []),
        is_active=package.is_active,
        channel_chat_id=package.channel_chat_id,
        position=package.position,
    )
    draft = _check_package(PackageDraft(**{**_package_fields(current), **changes}))
    for name, value in _package_fields(draft).items():
        setattr(package, name, value)
    package.updated_at = utcnow()
    await session.flush()
    return package


def _package_fields(draft: PackageDraft) -> dict[str, Any]:
    return {name: getattr(draft, name) for name in PackageDraft.__dataclass_fields__}


async def deactivate_package(session: AsyncSession, tenant_id: int, package_id: int) -> None:
    """No new subscriptions; running ones continue (and renew) until cancelled."""
    package = await get_package(session, tenant_id, package_id)
    package.is_active, package.updated_at = False, utcnow()
    await session.flush()


async def subscribers(
    session: AsyncSession,
    tenant_id: int,
    *,
    package_id: int | None = None,
    status: VipStatus | None = None,
    before_id: int | None = None,
    limit: int = MAX_PAGE,
) -> Sequence[tuple[VipSubscription, User]]:
    if package_id is not None:
        await get_package(session, tenant_id, package_id)
    return await repo.subscribers(
        session,
        tenant_id,
        package_id=package_id,
        status=status,
        before_id=before_id,
        limit=max(1, min(limit, MAX_PAGE)),
    )


async def subscriber_counts(
    session: AsyncSession, tenant_id: int, package_id: int
) -> dict[str, int]:
    return await repo.count_by_status(session, tenant_id, package_id)


# -- the fan's side ----------------------------------------------------------------------------


def is_open(subscription: VipSubscription, now: datetime) -> bool:
    if subscription.status == VipStatus.EXPIRED:
        return False
    if subscription.period_end > now:
        return True
    renewing = subscription.status == VipStatus.ACTIVE and subscription.is_recurring
    return renewing and subscription.period_end > now - RENEWAL_GRACE


def renews(subscription: VipSubscription, now: datetime) -> bool:
    """Telegram will charge again: an open, recurring subscription that was not cancelled."""
    return (
        subscription.status == VipStatus.ACTIVE
        and subscription.is_recurring
        and is_open(subscription, now)
    )


async def fan_packages(
    session: AsyncSession, tenant_id: int, user_id: int, *, now: datetime | None = None
) -> list[FanPackage]:
    """Active packages (and inactive ones the fan still holds), with the fan's status."""
    now = now or utcnow()
    subs = {s.package_id: s for s in await repo.subscriptions_of_user(session, tenant_id, user_id)}
    packages = await repo.list_packages(session, tenant_id, active_only=False)
    result = []
    for package in packages:
        sub = subs.get(package.id)
        open_now = sub is not None and is_open(sub, now)
        if package.is_active or open_now:
            result.append(FanPackage(package, sub, open_now))
    return result


async def create_vip_order(
    session: AsyncSession,
    tenant_id: int,
    *,
    user_id: int,
    telegram_user_id: int,
    package_id: int,
    now: datetime | None = None,
) -> tuple[Order, VipPackage]:
    """An order for a subscription to an active package; refused (409) while the fan already
    has one that renews."""
    now = now or utcnow()
    package = await repo.get_package(session, tenant_id, package_id)
    if package is None or not package.is_active:
        raise NotFoundError("VIP package not found", package_id=package_id)
    await _refuse_if_renewing(session, tenant_id, user_id, package_id, now)
    order = await payments.create_order(
        session,
        tenant_id,
        kind=OrderKind.VIP,
        user_id=user_id,
        telegram_user_id=telegram_user_id,
        stars=package.price_stars,
        vip_package_id=package.id,
    )
    return order, package


async def _refuse_if_renewing(
    session: AsyncSession, tenant_id: int, user_id: int, package_id: int, now: datetime
) -> None:
    for sub in await repo.subscriptions_of_user(session, tenant_id, user_id):
        if sub.package_id == package_id and renews(sub, now):
            raise AlreadySubscribedError("you are subscribed to this package already")


def vip_invoice_texts(texts: payments.TextLookup, package: VipPackage) -> tuple[str, str]:
    description = package.description or texts("vip.invoice_description", package=package.name)
    return package.name, description


async def vip_invoice_link(
    session: AsyncSession,
    bot: Bot,
    texts: payments.TextLookup,
    tenant_id: int,
    *,
    user_id: int,
    telegram_user_id: int,
    package_id: int,
) -> str:
    """A fresh order and its 30-day subscription invoice link (Telegram renews it)."""
    order, package = await create_vip_order(
        session,
        tenant_id,
        user_id=user_id,
        telegram_user_id=telegram_user_id,
        package_id=package_id,
    )
    title, description = vip_invoice_texts(texts, package)
    return await payments.create_invoice_link(bot, order, title, description, subscription=True)


async def check_vip_order(session: AsyncSession, order: Order, now: datetime) -> None:
    """Pre-checkout of a first payment (renewals have none): the package still sells, and the
    fan has no renewing subscription to it (paying twice would run two subscriptions)."""
    package = None
    if order.vip_package_id is not None:
        package = await repo.get_package(session, order.tenant_id, order.vip_package_id)
    if package is None or not package.is_active:
        raise payments.PaymentRefusedError(
            payments.Refusal.UNAVAILABLE, "the package is not sold any more"
        )
    try:
        await _refuse_if_renewing(session, order.tenant_id, order.user_id, package.id, now)
    except AlreadySubscribedError:
        raise payments.PaymentRefusedError(
            payments.Refusal.ALREADY_PAID, "already subscribed"
        ) from None


async def apply_vip_payment(
    session: AsyncSession, order: Order, charge_id: str, now: datetime
) -> VipCharge | None:
    """A VIP charge was recorded (exactly once): 30 more days. The period runs on from its end
    while open, from now once it lapsed. The fan's row is locked meanwhile, so concurrent
    charges of one fan add up instead of overwriting each other."""
    if order.vip_package_id is None:
        logger.error("VIP charge %s names no package", charge_id, extra={"order_id": order.id})
        return None
    package = await repo.get_package(session, order.tenant_id, order.vip_package_id)
    if package is None:
        return None
    payment = await payments.payment_by_charge(session, order.tenant_id, charge_id)
    sub = await repo.locked_subscription(session, order.tenant_id, order.user_id, package.id, now)
    first = await repo.charges_of_order(session, order.tenant_id, order.id) <= 1
    was_open = is_open(sub, now)
    recurring = bool(payment.is_recurring) if payment is not None else True
    _extend(sub, now, reference=charge_id, recurring=recurring)
    if first:
        sub.subscription_charge_id = charge_id
        sub.cancelled_at = None
    await session.flush()
    logger.info(
        "VIP period extended",
        extra={"tenant_id": order.tenant_id, "subscription_id": sub.id, "first": first},
    )
    return VipCharge(sub, package, first=first, reopened=not was_open)


async def apply_one_off_period(
    session: AsyncSession,
    tenant_id: int,
    *,
    user_id: int,
    package_id: int,
    reference: str,
    now: datetime,
) -> VipSubscription | None:
    """Thirty days paid once, outside Telegram's subscriptions (a TON payment): the period runs
    on from its end while open, never renews by itself. ``reference`` (e.g. ``ton:<invoice>``)
    makes it idempotent: the same reference twice extends once."""
    package = await repo.get_package(session, tenant_id, package_id)
    if package is None:
        return None
    sub = await repo.locked_subscription(session, tenant_id, user_id, package.id, now)
    if sub.last_charge_id == reference:
        return sub
    _extend(sub, now, reference=reference, recurring=False)
    await session.flush()
    return sub


def _extend(sub: VipSubscription, now: datetime, *, reference: str, recurring: bool) -> None:
    """Thirty more days: from the period's end while it is open, from ``now`` once lapsed."""
    start = max(sub.period_end, now) if is_open(sub, now) else now
    sub.period_end = start + PERIOD
    sub.status = VipStatus.ACTIVE
    sub.is_recurring = recurring
    sub.last_charge_id = reference
    sub.expired_at = sub.channel_removed_at = None
    sub.updated_at = now


async def charge_summary(
    session: AsyncSession, order: Order
) -> tuple[VipSubscription, VipPackage, bool] | None:
    """After a VIP charge was applied: the fan's subscription, its package, and whether the
    charge was the first of its Telegram subscription (a renewal otherwise)."""
    if order.vip_package_id is None:
        return None
    package = await repo.get_package(session, order.tenant_id, order.vip_package_id)
    subs = await repo.subscriptions_of_user(session, order.tenant_id, order.user_id)
    sub = next((s for s in subs if s.package_id == order.vip_package_id), None)
    if package is None or sub is None:
        return None
    first = await repo.charges_of_order(session, order.tenant_id, order.id) <= 1
    return sub, package, first


async def fan_subscription(
    session: AsyncSession, tenant_id: int, user_id: int, subscription_id: int
) -> VipSubscription:
    sub = await repo.get_subscription(session, tenant_id, subscription_id, for_update=True)
    if sub is None or sub.user_id != user_id:
        raise NotFoundError("subscription not found", subscription_id=subscription_id)
    return sub


async def cancel_subscription(
    session: AsyncSession,
    bot: Bot,
    tenant_id: int,
    *,
    user_id: int,
    telegram_user_id: int,
    subscription_id: int,
    now: datetime | None = None,
) -> VipSubscription:
    """Stop the renewals (``editUserStarSubscription``); access stays until ``period_end``."""
    now = now or utcnow()
    sub = await fan_subscription(session, tenant_id, user_id, subscription_id)
    if not renews(sub, now) or sub.subscription_charge_id is None:
        raise NotCancellableError("this subscription does not renew")
    try:
        await bot.edit_user_star_subscription(
            user_id=telegram_user_id,
            telegram_payment_charge_id=sub.subscription_charge_id,
            is_canceled=True,
        )
    except TelegramAPIError as exc:
        raise UpstreamError(f"Telegram refused the cancellation: {exc.message}") from None
    sub.status, sub.cancelled_at, sub.updated_at = VipStatus.CANCELLED, now, now
    await session.flush()
    return sub


# -- expiry ------------------------------------------------------------------------------------


def _notice(kind: str, sub: VipSubscription, package: VipPackage, user: User) -> VipNotice:
    return VipNotice(
        kind=kind,
        tenant_id=sub.tenant_id,
        subscription_id=sub.id,
        user_id=user.id,
        telegram_id=user.telegram_id,
        language=user.language,
        language_code=user.language_code,
        package_name=package.name,
        period_end=sub.period_end,
        channel_chat_id=package.channel_chat_id,
    )


async def run_vip_expiry(session: AsyncSession, now: datetime | None = None) -> list[VipNotice]:
    """One sweep over every tenant: retry pending channel removals, end lapsed subscriptions,
    remind those ending within three days that will not renew (once per period end).
    Returns what to tell or do after the commit."""
    now = now or utcnow()
    notices = [
        _notice("remove", sub, package, user)
        for sub, package, user in await repo.pending_channel_removals(session, SWEEP_BATCH)
    ]
    for sub, package, user in await repo.due_for_expiry(session, now, RENEWAL_GRACE, SWEEP_BATCH):
        sub.status, sub.expired_at, sub.updated_at = VipStatus.EXPIRED, now, now
        if package.channel_chat_id is None:
            sub.channel_removed_at = now
        notices.append(_notice("expired", sub, package, user))
    await session.flush()  # the session does not autoflush: the reminder query must see these
    for sub, package, user in await repo.due_for_reminder(
        session, now, REMINDER_BEFORE, SWEEP_BATCH
    ):
        sub.reminded_for = sub.period_end
        notices.append(_notice("reminder", sub, package, user))
    await session.flush()
    return notices


async def mark_channel_removed(
    session: AsyncSession, tenant_id: int, subscription_id: int, *, now: datetime | None = None
) -> None:
    """The fan is out of the channel (or cannot be removed by the bot): stop retrying. A fan
    who subscribed again meanwhile is left alone."""
    sub = await repo.get_subscription(session, tenant_id, subscription_id, for_update=True)
    if sub is not None and sub.status == VipStatus.EXPIRED:
        sub.channel_removed_at = now or utcnow()
        await session.flush()
