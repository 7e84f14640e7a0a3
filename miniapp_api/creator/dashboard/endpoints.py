"""``GET /api/v1/creator/dashboard``: one call for the panel's first screen."""

from __future__ import annotations

from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from fastapi import APIRouter

from core import ledger
from miniapp_api.clock import NowDep
from miniapp_api.creator.dashboard.schemas import (
    BotStatusOut,
    DashboardOut,
    EventOut,
    WebhookOut,
)
from miniapp_api.creator.deps import Creator, CreatorDep
from miniapp_api.creator.stats.schemas import KeyNumbersOut
from miniapp_api.deps import SessionDep, SettingsDep
from miniapp_api.tasks.deps import RuntimeDep, TenantBot, tenant_bot
from tenants.panel import service as panel
from tenants.stats import service as stats
from tenants.stats.activity import utc_day
from tenants.tasks import service as tasks
from tenants.webhooks import webhook_url

router = APIRouter()


@router.get("")
async def dashboard(
    creator: CreatorDep,
    session: SessionDep,
    runtime: RuntimeDep,
    settings: SettingsDep,
    now: NowDep,
) -> DashboardOut:
    tenant_id = creator.tenant.id
    found = await tenant_bot(runtime, creator.user)
    today = await stats.report(session, tenant_id, days=1, today=utc_day(now))
    week = await stats.report(session, tenant_id, days=7, today=utc_day(now))
    balance = await ledger.user_balance(session, tenant_id, 0, ledger.AccountKind.TENANT)
    return DashboardOut(
        tenant_name=creator.tenant.name,
        plan=creator.tenant.plan,
        bot=await _bot_status(
            creator, found, webhook_url(settings.public_base_url, found.route.telegram_bot_id)
        ),
        today=KeyNumbersOut.of(today.key),
        last_7_days=KeyNumbersOut.of(week.key),
        platform_balance=balance.available,
        pending_submissions=await tasks.pending_count(session, tenant_id),
        recent=[EventOut.of(e) for e in await panel.recent_activity(session, tenant_id)],
    )


async def _bot_status(creator: Creator, found: TenantBot, expected_url: str) -> BotStatusOut:
    """The bot row as we know it, and the webhook as Telegram reports it right now."""
    route = found.route
    webhook, error = None, None
    try:
        info = await found.bot.get_webhook_info(request_timeout=5)
        webhook = WebhookOut(
            url_matches=info.url == expected_url,
            pending_update_count=info.pending_update_count,
            last_error_message=info.last_error_message,
            last_error_date=info.last_error_date,
        )
    except (TelegramAPIError, TelegramNetworkError) as exc:
        error = f"Telegram did not answer: {exc.message}"
    return BotStatusOut(
        telegram_bot_id=route.telegram_bot_id,
        username=route.username,
        bot_active=route.bot_active,
        tenant_active=creator.tenant.is_active,
        webhook=webhook,
        webhook_error=error,
    )
