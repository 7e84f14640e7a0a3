"""Worker side of Stars payments: reconciliation with Telegram, plan expiry, owner notices.

- ``reconcile_payments`` (hourly): for each active tenant bot, read ``getStarTransactions``
  page by page and repair what the bot missed (:func:`tenants.payments.reconcile_tenant`); one
  unit of work per tenant, so one failing bot does not undo the others.
- ``expire_plans`` (hourly): reminders three days before a plan period ends and downgrades at
  its end (:func:`tenants.billing.run_plan_expiry`); messages go out after the commit.
- ``notify_tenant_dry``: queued by :func:`tenants.billing.tenant_ran_dry` — tells the creator
  their platform balance ran out.
- ``notify_assistant_limit``: queued by :func:`tenants.plans.assistant_limit_reached` — tells
  the creator the assistant answered all the plan's ``messages_per_day`` today.

Creators hear from the manager bot (the platform tenant's bot, where they connected their bot
and where ``/plan`` and ``/topup`` live); without one, from their own bot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from aiogram.exceptions import TelegramAPIError
from arq.cron import CronJob, cron
from arq.typing import WorkerCoroutine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Tenant, TenantBot, TenantRole, User
from core.queue import unit_of_work
from core.settings import Settings
from jobs.wrapper import JobContext, redis_of, session_factory_of
from tenants import billing, payments
from tenants.plans import get_plan
from tenants.service import tenant_bot
from tenants.webhooks import publish_route_changes

logger = logging.getLogger(__name__)


async def reconcile_payments(ctx: JobContext, tenant_id: int | None = None) -> dict[str, Any]:
    """Reconcile every active tenant bot (or those of ``tenant_id``)."""
    settings: Settings = ctx["settings"]
    factory = session_factory_of(ctx)
    async with factory() as session:
        statement = (
            select(TenantBot)
            .join(Tenant, Tenant.id == TenantBot.tenant_id)
            .where(Tenant.is_active.is_(True), TenantBot.is_active.is_(True))
            .order_by(TenantBot.id)
        )
        if tenant_id is not None:
            statement = statement.where(Tenant.id == tenant_id)
        bots = list((await session.execute(statement)).scalars())
    summary: dict[str, Any] = {"bots": 0, "transactions": 0, "repaired": 0, "mismatches": 0}
    for row in bots:
        try:
            redis = redis_of(ctx)
            async with (
                tenant_bot(settings.telegram_api_base, row, redis) as bot,
                unit_of_work(factory, redis) as s,
            ):
                report = await payments.reconcile_tenant(s, bot, row.tenant_id)
        except (TelegramAPIError, OSError) as exc:
            logger.warning("reconciliation of bot %s failed: %s", row.telegram_bot_id, exc)
            continue
        summary["bots"] += 1
        summary["transactions"] += report.transactions
        summary["repaired"] += len(report.repaired)
        summary["mismatches"] += len(report.mismatches)
    return summary


async def expire_plans(ctx: JobContext, now_ts: float | None = None) -> dict[str, int]:
    """Send plan reminders and downgrade lapsed plans; ``now_ts`` (epoch seconds) sets the
    clock, for tests and for catching up."""
    now = datetime.fromtimestamp(now_ts, UTC) if now_ts is not None else None
    factory = session_factory_of(ctx)
    async with unit_of_work(factory, redis_of(ctx)) as session:
        notices = await billing.run_plan_expiry(session, now)
    await publish_route_changes(session, redis_of(ctx))
    sent = 0
    for notice in notices:
        key = "plans.expired" if notice.expired else "plans.reminder"
        date = notice.period_end.strftime("%Y-%m-%d")
        sent += await tell_owner(
            ctx, notice.tenant_id, key, plan=get_plan(notice.plan).name, date=date
        )
    return {
        "reminders": sum(not n.expired for n in notices),
        "expired": sum(n.expired for n in notices),
        "sent": sent,
    }


async def notify_tenant_dry(ctx: JobContext, tenant_id: int) -> bool:
    return bool(await tell_owner(ctx, tenant_id, "billing.ran_dry"))


async def notify_assistant_limit(ctx: JobContext, tenant_id: int, limit: int | None) -> bool:
    return bool(await tell_owner(ctx, tenant_id, "assistant.limit_reached", limit=limit))


async def tell_owner(ctx: JobContext, tenant_id: int, key: str, **variables: Any) -> int:
    """Message the tenant's owner in their language through the manager bot (else the
    tenant's own bot); 1 when delivered. A blocked or unknown owner is logged, not retried."""
    from bot.i18n import Texts, create_i18n, enabled_languages, pick_language

    settings: Settings = ctx["settings"]
    async with session_factory_of(ctx)() as session:
        tenant = await session.get(Tenant, tenant_id)
        if tenant is None or tenant.owner_telegram_id is None:
            return 0
        own = await _first_bot(session, tenant_id)
        sender = await _manager_bot(session) or own
        if sender is None or own is None:
            return 0
        owner = (
            await session.execute(
                select(User).where(
                    User.tenant_id == sender.tenant_id,
                    User.telegram_id == tenant.owner_telegram_id,
                )
            )
        ).scalar_one_or_none()
    language = pick_language(
        owner.language if owner else None,
        owner.language_code if owner else None,
        tenant.default_language,
        enabled_languages(tenant.config),
    )
    texts = Texts(create_i18n(), language, base={"bot_username": own.username})
    try:
        async with tenant_bot(settings.telegram_api_base, sender, redis_of(ctx)) as bot:
            await bot.send_message(tenant.owner_telegram_id, texts(key, **variables))
    except TelegramAPIError as exc:
        logger.warning("could not tell the owner of tenant %d: %s", tenant_id, exc)
        return 0
    return 1


async def _manager_bot(session: AsyncSession) -> TenantBot | None:
    statement = (
        select(TenantBot)
        .join(Tenant, Tenant.id == TenantBot.tenant_id)
        .where(Tenant.role == TenantRole.PLATFORM, TenantBot.is_active.is_(True))
        .order_by(TenantBot.id)
        .limit(1)
    )
    return (await session.execute(statement)).scalar_one_or_none()


async def _first_bot(session: AsyncSession, tenant_id: int) -> TenantBot | None:
    statement = select(TenantBot).where(TenantBot.tenant_id == tenant_id).order_by(TenantBot.id)
    return (await session.execute(statement.limit(1))).scalar_one_or_none()


PAYMENTS_FUNCTIONS: list[Callable[..., Any]] = [
    reconcile_payments,
    expire_plans,
    notify_tenant_dry,
    notify_assistant_limit,
]
PAYMENTS_CRON_JOBS: list[CronJob] = [
    cron(cast(WorkerCoroutine, reconcile_payments), name="cron:reconcile_payments", minute=41),
    cron(cast(WorkerCoroutine, expire_plans), name="cron:expire_plans", minute=7),
]
