"""The tenant's platform balance and plan: what a creator pays Atelier.

The platform balance is the tenant's ``TENANT`` ledger account. Every generation meters its
base cost against it (``jobs.generation.service.reserve_credits``); it is filled by the plan's
monthly allowance (granted with each plan payment, once per charge) and by top-ups bought in
the manager bot. When it runs dry, fans are told "temporarily unavailable" by the generation
service, and :func:`tenant_ran_dry` tells the creator — once per tenant per day, not per fan.

Plans are bought in the manager bot as 30-day Stars subscriptions. Prices are in Stars, set
here as data: the USD list prices (Basic 19.99, Advanced 39.99, Premium 79.99) at about
0.013 USD per Star, rounded to friendly numbers. A plan payment (first or recurring) extends the
period by 30 days from its current end (or from now, once lapsed); :func:`run_plan_expiry`
sends the reminder three days before the end (once per period) and downgrades a lapsed tenant
to the default plan's limits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import ledger
from core.db import tenant_select, utcnow
from core.models import Tenant, TenantBot
from core.models.payments import TenantSubscription
from tenants.plans import DEFAULT_PLAN, get_plan
from tenants.webhooks import mark_route_changed

logger = logging.getLogger(__name__)

PLAN_PRICES_STARS: dict[str, int] = {"basic": 1500, "advanced": 3000, "premium": 6000}
"""Stars per 30 days; Telegram allows subscriptions up to 10,000 Stars."""
SUBSCRIPTION_PERIOD = timedelta(days=30)
SUBSCRIPTION_PERIOD_SECONDS = 2_592_000  # the only period Telegram accepts
REMINDER_BEFORE = timedelta(days=3)
TOPUP_PACKS: tuple[tuple[int, int], ...] = ((100, 1_000), (500, 5_500), (1_000, 12_000))
"""(Stars, platform credits) of the manager bot's one-off top-ups."""
DRY_NOTICE_TASK = "notify_tenant_dry"
DRY_FLAG_TTL_S = 2 * 24 * 3600


async def platform_balance(session: AsyncSession, tenant_id: int) -> ledger.Balance:
    account = await ledger.get_or_create_account(session, tenant_id, kind=ledger.AccountKind.TENANT)
    return await ledger.balance_of(session, tenant_id, account.id)


async def grant(
    session: AsyncSession, tenant_id: int, credits: int, *, key: str, reason: str
) -> ledger.LedgerResult:
    """Add platform credits once per ``key`` (a replay moves nothing)."""
    account = await ledger.get_or_create_account(session, tenant_id, kind=ledger.AccountKind.TENANT)
    return await ledger.credit(
        session, tenant_id, account.id, credits, idempotency_key=key, reason=reason
    )


async def top_up(
    session: AsyncSession, tenant_id: int, credits: int, *, charge_id: str
) -> ledger.LedgerResult:
    return await grant(session, tenant_id, credits, key=f"topup:{charge_id}", reason="top-up")


async def subscription_of(session: AsyncSession, tenant_id: int) -> TenantSubscription | None:
    return (
        await session.execute(tenant_select(TenantSubscription, tenant_id))
    ).scalar_one_or_none()


async def apply_plan_payment(
    session: AsyncSession,
    tenant_id: int,
    plan: str,
    *,
    charge_id: str,
    now: datetime | None = None,
) -> TenantSubscription:
    """A plan charge: the tenant moves to ``plan``, its period grows by 30 days and the plan's
    monthly allowance is granted (both once per charge: the caller records the charge under a
    UNIQUE id first, and the grant is keyed by it)."""
    now = now or utcnow()
    tenant = await session.get(Tenant, tenant_id, with_for_update=True)
    if tenant is None:
        raise LookupError(f"no tenant {tenant_id}")
    sub = await subscription_of(session, tenant_id)
    if sub is None:
        sub = TenantSubscription(tenant_id=tenant_id, plan=plan, period_end=now)
        session.add(sub)
    start = sub.period_end if sub.expired_at is None and sub.period_end > now else now
    sub.plan = plan
    sub.period_end = start + SUBSCRIPTION_PERIOD
    sub.last_charge_id = charge_id
    sub.expired_at = None
    await _set_plan(session, tenant, plan)
    allowance = get_plan(plan).limits.monthly_credits
    if allowance > 0:
        await grant(session, tenant_id, allowance, key=f"plan:{charge_id}", reason="plan allowance")
    await session.flush()
    return sub


async def _set_plan(session: AsyncSession, tenant: Tenant, plan: str) -> None:
    if tenant.plan == plan:
        return
    tenant.plan = plan
    bots = await session.execute(
        tenant_select(TenantBot, tenant.id).with_only_columns(TenantBot.telegram_bot_id)
    )
    for telegram_bot_id in bots.scalars():
        mark_route_changed(session, telegram_bot_id)


@dataclass(frozen=True, slots=True)
class PlanNotice:
    """A message owed to a creator about their plan (sent by the worker after commit)."""

    tenant_id: int
    owner_telegram_id: int | None
    plan: str
    period_end: datetime
    expired: bool


async def run_plan_expiry(
    session: AsyncSession, now: datetime | None = None
) -> Sequence[PlanNotice]:
    """Remind subscriptions ending within three days (once per period) and downgrade the
    lapsed ones to the default plan. Returns the notices to send."""
    now = now or utcnow()
    statement = (
        select(TenantSubscription, Tenant)
        .join(Tenant, Tenant.id == TenantSubscription.tenant_id)
        .where(
            TenantSubscription.expired_at.is_(None),
            TenantSubscription.period_end <= now + REMINDER_BEFORE,
        )
        .order_by(TenantSubscription.id)
        .with_for_update(of=TenantSubscription, skip_locked=True)
    )
    notices: list[PlanNotice] = []
    for sub, tenant in (await session.execute(statement)).all():
        if sub.period_end <= now:
            sub.expired_at = now
            await _set_plan(session, tenant, DEFAULT_PLAN)
            notices.append(
                PlanNotice(tenant.id, tenant.owner_telegram_id, sub.plan, sub.period_end, True)
            )
            logger.info("plan expired", extra={"tenant_id": tenant.id, "plan": sub.plan})
        elif sub.reminded_for != sub.period_end:
            sub.reminded_for = sub.period_end
            notices.append(
                PlanNotice(tenant.id, tenant.owner_telegram_id, sub.plan, sub.period_end, False)
            )
    await session.flush()
    return notices


# -- running dry ---------------------------------------------------------------------------------


def dry_flag_key(tenant_id: int, now: datetime) -> str:
    return f"billing:dry:{tenant_id}:{now.date().isoformat()}"


async def tenant_ran_dry(redis: Redis, tenant_id: int, *, now: datetime | None = None) -> bool:
    """A fan was refused because the tenant's platform balance is short: tell the creator once
    per day, however many fans hit it (``SET NX`` per tenant per day). True when this call
    queued the notice. The notice is an arq job (``notify_tenant_dry``) sent right away, not
    after commit: it reports a refusal, which is exactly what the rollback leaves behind."""
    from arq.connections import ArqRedis

    now = now or utcnow()
    key = dry_flag_key(tenant_id, now)
    if not await redis.set(key, b"1", nx=True, ex=DRY_FLAG_TTL_S):
        return False
    if isinstance(redis, ArqRedis):
        await redis.enqueue_job(DRY_NOTICE_TASK, tenant_id, _job_id=key)
    logger.warning("tenant ran dry; creator notified", extra={"tenant_id": tenant_id})
    return True


async def note_tenant_ran_dry(tenant_id: int) -> None:
    """:func:`tenant_ran_dry` for callers without a Redis client at hand (the generation
    service): a short-lived client from settings. Never raises — a lost notice must not turn
    the fan's polite refusal into an error."""
    from core.redis import close_redis, create_redis

    redis = create_redis()
    try:
        await tenant_ran_dry(redis, tenant_id)
    except Exception:
        logger.exception("could not queue the ran-dry notice", extra={"tenant_id": tenant_id})
    finally:
        await close_redis(redis)
