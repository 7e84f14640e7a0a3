"""TON payments in the worker (registered in :mod:`jobs.worker`):

- ``watch_ton_payments`` (cron, every 10 s): expire stale invoices, then read the merchant
  wallet's new final transactions and pay the invoices they match
  (:func:`tenants.ton.watcher.watch`). Skipped while ``TON_MERCHANT_ADDRESS`` is unset.
- ``process_ton_payouts`` (cron, every minute, and enqueued by each payout request): settle,
  sign and send creator payouts from the platform wallet (:func:`tenants.ton.payouts.
  run_payouts`). Skipped while ``TON_PLATFORM_MNEMONIC`` is unset.
- ``notify_ton_invoice``: deferred by the watcher inside its transaction, so it leaves only
  once the payment is committed — tells the fan, in their language, through the tenant's bot,
  that an invoice was paid (and what it gave) or under-paid (and what is missing).

``ctx`` may carry ``ton_client_options`` (keyword arguments of
:class:`core.ton.toncenter.ToncenterClient`, e.g. a fast back-off in tests),
``ton_confirm_polls`` and ``ton_confirm_interval`` (how long a payout run waits for the chain).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, cast

from aiogram.exceptions import TelegramAPIError
from arq.cron import CronJob, cron
from arq.typing import WorkerCoroutine
from redis.asyncio import Redis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core import ledger
from core.models import Tenant, TenantBot, TonInvoice, User
from core.models.ton_payments import InvoiceStatus, TonItemKind
from core.queue import unit_of_work
from core.settings import Settings
from core.ton.address import parse_address
from core.ton.amounts import format_ton
from core.ton.platform import PlatformWallet
from core.ton.toncenter import ToncenterClient
from jobs.wrapper import JobContext, redis_of, session_factory_of
from tenants.service import tenant_bot
from tenants.texts import load_overrides
from tenants.ton import payouts, watcher

logger = logging.getLogger(__name__)

WATCH_EVERY_S = 10


def _client(ctx: JobContext) -> ToncenterClient:
    settings: Settings = ctx["settings"]
    return ToncenterClient.from_settings(settings, **ctx.get("ton_client_options", {}))


async def watch_ton_payments(ctx: JobContext) -> dict[str, Any]:
    """One watcher run: expire, then read until nothing final is left (bounded)."""
    settings: Settings = ctx["settings"]
    if not settings.ton_merchant_address:
        return {"skipped": "no merchant address"}
    factory, redis = session_factory_of(ctx), redis_of(ctx)
    async with unit_of_work(factory, redis) as session:
        expired = await watcher.expire(session)
    async with _client(ctx) as client:
        run = await watcher.watch(
            factory,
            redis,
            client,
            parse_address(settings.ton_merchant_address),
            page_size=settings.ton_watcher_page_size,
            fee_bps=settings.ton_platform_fee_bps,
        )
    return {
        "expired": expired,
        "pages": run.pages,
        "scanned": run.scanned,
        "recorded": run.recorded,
        "outcomes": dict(run.outcomes),
        "last_lt": run.last_lt,
    }


async def process_ton_payouts(ctx: JobContext) -> dict[str, Any]:
    settings: Settings = ctx["settings"]
    wallet = PlatformWallet.from_settings(settings)
    if wallet is None:
        return {"skipped": "no platform wallet"}
    async with _client(ctx) as client:
        run = await payouts.run_payouts(
            payouts.Payouts(session_factory_of(ctx), redis_of(ctx), client, wallet),
            confirm_polls=int(ctx.get("ton_confirm_polls", 5)),
            confirm_interval=float(ctx.get("ton_confirm_interval", 1.0)),
        )
    return {
        "signed": run.signed,
        "sends": run.sends,
        "confirmed": run.confirmed,
        "failed": run.failed,
        "review": run.review,
        "waiting": run.waiting,
        "locked_out": run.locked_out,
    }


async def notify_ton_invoice(
    ctx: JobContext, invoice_id: int, event: str, received: int | None = None
) -> bool:
    """Tell the fan about their invoice; True when the message went out."""
    from bot.i18n import Texts, create_i18n, enabled_languages, pick_language

    settings: Settings = ctx["settings"]
    async with session_factory_of(ctx)() as session:
        found = await _recipient(session, invoice_id)
        if found is None:
            return False
        invoice, user, tenant, bot_row = found
        overrides = await load_overrides(session, tenant.id)
        variables = await _variables(session, invoice, received)
    language = pick_language(
        user.language, user.language_code, tenant.default_language, enabled_languages(tenant.config)
    )
    texts = Texts(create_i18n(), language, overrides, base=_base(user, bot_row))
    lines = [texts(key, **variables) for key in _keys(invoice, event)]
    return await _send(settings, bot_row, user.telegram_id, "\n\n".join(lines), redis_of(ctx))


def _keys(invoice: TonInvoice, event: str) -> list[str]:
    if event != "paid":
        return ["ton.underpaid"]
    keys = ["ton.paid_credits" if invoice.kind == TonItemKind.CREDITS else "ton.paid"]
    if invoice.overpaid > 0:
        keys.append("ton.overpaid")
    return keys


async def _recipient(
    session: AsyncSession, invoice_id: int
) -> tuple[TonInvoice, User, Tenant, TenantBot] | None:
    invoice = await session.get(TonInvoice, invoice_id)
    if invoice is None:
        return None
    user = await session.get(User, invoice.user_id)
    tenant = await session.get(Tenant, invoice.tenant_id)
    bot_row = await session.scalar(
        select(TenantBot)
        .where(TenantBot.tenant_id == invoice.tenant_id, TenantBot.is_active.is_(True))
        .order_by(TenantBot.id)
        .limit(1)
    )
    if user is None or tenant is None or bot_row is None or user.is_blocked:
        return None
    return invoice, user, tenant, bot_row


async def _variables(
    session: AsyncSession, invoice: TonInvoice, received: int | None
) -> dict[str, Any]:
    got = invoice.amount_received if received is None else received
    balance = 0
    if invoice.kind == TonItemKind.CREDITS and invoice.status == InvoiceStatus.PAID:
        balance = (await ledger.user_balance(session, invoice.tenant_id, invoice.user_id)).available
    return {
        "amount": format_ton(got),
        "credits": invoice.credits,
        "balance": balance,
        "extra": format_ton(invoice.overpaid),
        "received": format_ton(got),
        "due": format_ton(invoice.amount_due),
        "missing": format_ton(max(invoice.amount_due - got, 0)),
        "comment": invoice.comment,
    }


def _base(user: User, bot_row: TenantBot) -> dict[str, Any]:
    return {
        "user_name": user.first_name,
        "user_username": user.username or "",
        "bot_name": bot_row.username,
        "bot_username": bot_row.username,
    }


async def _send(
    settings: Settings, bot_row: TenantBot, chat_id: int, text: str, redis: Redis
) -> bool:
    try:
        async with tenant_bot(settings.telegram_api_base, bot_row, redis) as bot:
            await bot.send_message(chat_id, text)
    except TelegramAPIError as exc:
        logger.warning("could not tell fan %d about a TON invoice: %s", chat_id, exc)
        return False
    return True


TON_FUNCTIONS: list[Callable[..., Any]] = [
    watch_ton_payments,
    process_ton_payouts,
    notify_ton_invoice,
]
TON_CRON_JOBS: list[CronJob] = [
    cron(
        cast(WorkerCoroutine, watch_ton_payments),
        name="cron:ton_watch",
        second=set(range(0, 60, WATCH_EVERY_S)),
    ),
    cron(cast(WorkerCoroutine, process_ton_payouts), name="cron:ton_payouts", second=30),
]
