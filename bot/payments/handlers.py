"""Stars in every bot: ``/buy`` → pack → invoice → pre-checkout → payment → receipt, and the
owner's ``/refund <charge id>`` and ``/payments`` (the last reconciliation reports).

Pre-checkout is answered in the webhook response itself (no extra round trip, well inside
Telegram's 10 seconds). Payment updates are handled for the manager bot too: plan and top-up
charges arrive there, and :func:`tenants.payments.record_charge` applies each kind.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.methods import AnswerPreCheckoutQuery, SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, PreCheckoutQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import CallbackIs, CommandLike, InlineFilter
from bot.i18n import Texts
from bot.payments import service
from bot.payments.keyboards import BUY_PREFIX, packs_keyboard
from bot.routing import TenantInfo
from bot.wallet_ton import pay as ton_pay
from core.errors import NotFoundError
from core.models.payments import OrderKind
from tenants import payments
from tenants.payments import (
    AlreadyRefundedError,
    ChargeOutcome,
    PaymentRefusedError,
    RefundRefusedError,
)
from tenants.plans import get_plan
from tenants.users import BotUser

if TYPE_CHECKING:
    from bot.runtime import BotRuntime

logger = logging.getLogger(__name__)


class HasSuccessfulPayment(InlineFilter):
    def test(self, message: Message, data: dict[str, Any]) -> bool:
        return message.successful_payment is not None


class HasRefundedPayment(InlineFilter):
    def test(self, message: Message, data: dict[str, Any]) -> bool:
        return message.refunded_payment is not None


class PaymentOrCommand(CommandLike):
    """The router's door for messages: every message handler here (and in the plans router
    inside) wants a payment report or a command, so plain text skips the router in one check."""

    def test(self, message: Message, data: dict[str, Any]) -> bool:
        return (
            message.successful_payment is not None
            or message.refunded_payment is not None
            or super().test(message, data)
        )


async def buy_command(
    message: Message,
    session: AsyncSession,
    tenant: TenantInfo,
    texts: Texts,
    runtime: BotRuntime,
) -> SendMessage:
    packs = await payments.list_packs(session, tenant.id)
    keyboard = packs_keyboard(texts, packs)
    if await ton_pay.offers_ton(session, runtime.settings, tenant.id):
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[*keyboard.inline_keyboard, ton_pay.ton_row(texts)]
        )
    return message.answer(texts("payments.choose_pack"), reply_markup=keyboard)


async def buy_button(
    callback: CallbackQuery,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    after_commit: list[Any],
) -> Any:
    raw_id = (callback.data or "").removeprefix(BUY_PREFIX)
    if not raw_id.isdigit():
        return callback.answer()
    try:
        order, _ = await payments.create_pack_order(
            session,
            tenant.id,
            user_id=user.id,
            telegram_user_id=user.telegram_id,
            pack_id=int(raw_id),
        )
    except NotFoundError:
        return callback.answer(texts("payments.pack_gone"), show_alert=True)
    title, description = service.pack_texts(texts, order)
    after_commit.append(
        partial(service.send_invoice, bot, user.telegram_id, order, title, description)
    )
    return callback.answer()


async def pre_checkout(
    query: PreCheckoutQuery, session: AsyncSession, tenant: TenantInfo, texts: Texts
) -> AnswerPreCheckoutQuery:
    try:
        await payments.check_pre_checkout(
            session,
            tenant.id,
            telegram_user_id=query.from_user.id,
            payload=query.invoice_payload,
            currency=query.currency,
            total_amount=query.total_amount,
        )
    except PaymentRefusedError as exc:
        logger.info("pre-checkout refused: %s", exc.reason.value, extra={"tenant_id": tenant.id})
        return query.answer(ok=False, error_message=texts(f"payments.refused.{exc.reason.value}"))
    return query.answer(ok=True)


async def successful_payment(
    message: Message,
    session: AsyncSession,
    tenant: TenantInfo,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    after_commit: list[Any],
) -> SendMessage | None:
    paid = message.successful_payment
    assert paid is not None and message.from_user is not None
    outcome = await payments.record_charge(
        session,
        tenant.id,
        charge_id=paid.telegram_payment_charge_id,
        payload=paid.invoice_payload,
        currency=paid.currency,
        stars=paid.total_amount,
        telegram_user_id=message.from_user.id,
        is_recurring=bool(paid.is_recurring),
    )
    if not outcome.created:
        return None  # a duplicate update of a charge already recorded (and answered)
    if outcome.problem is None and outcome.kind == OrderKind.PPV:
        from bot.feed.handlers import ppv_receipt  # premium content (issue 8)

        return await ppv_receipt(
            message, session, tenant, user, texts, bot, outcome, paid.total_amount
        )
    if outcome.problem is None and outcome.kind == OrderKind.VIP:
        from bot.vip.handlers import vip_receipt

        return await vip_receipt(message, session, user, texts, bot, after_commit, outcome)
    return message.answer(receipt_text(texts, outcome, paid.total_amount))


def receipt_text(texts: Texts, outcome: ChargeOutcome, stars: int) -> str:
    if outcome.problem is not None or outcome.order is None:
        return texts("payments.unmatched")
    if outcome.kind == OrderKind.PLAN:
        assert outcome.order.plan is not None
        return texts(
            "plans.activated", plan=get_plan(outcome.order.plan).name, balance=outcome.balance
        )
    if outcome.kind == OrderKind.TOPUP:
        return texts("plans.topped_up", credits=outcome.credits, balance=outcome.balance)
    return texts("payments.receipt", credits=outcome.credits, stars=stars, balance=outcome.balance)


async def refunded_payment(message: Message, tenant: TenantInfo) -> None:
    """Telegram's note of a refund: the ledger side happened in ``/refund`` (or shows up as a
    reconciliation mismatch when the refund was made elsewhere). Nothing to answer."""
    logger.info("refund confirmed by Telegram", extra={"tenant_id": tenant.id})


async def refund_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    tenant: TenantInfo,
    texts: Texts,
    bot: Bot,
) -> SendMessage:
    assert message.from_user is not None
    if tenant.owner_telegram_id != message.from_user.id:
        return message.answer(texts("payments.owner_only"))
    charge_id = (command.args or "").strip()
    if not charge_id:
        return message.answer(texts("payments.refund_usage"))
    try:
        outcome = await payments.refund_charge(
            session, bot, tenant.id, charge_id, requested_by=message.from_user.id
        )
    except NotFoundError:
        return message.answer(texts("payments.refund_unknown"))
    except AlreadyRefundedError:
        return message.answer(texts("payments.refund_already"))
    except RefundRefusedError as exc:
        return message.answer(
            texts(
                "payments.refund_refused",
                credits=exc.details.get("credits", 0),
                spent=exc.details.get("spent", 0),
            )
        )
    if outcome.kind == OrderKind.PPV:
        return message.answer(texts("content.refund_done", stars=outcome.stars))
    return message.answer(
        texts("payments.refund_done", credits=outcome.credits, stars=outcome.stars)
    )


async def payments_report(
    message: Message, session: AsyncSession, tenant: TenantInfo, texts: Texts
) -> SendMessage:
    """The tenant admin's view of the reconciliation: the last pass and its mismatches."""
    assert message.from_user is not None
    if tenant.owner_telegram_id != message.from_user.id:
        return message.answer(texts("payments.owner_only"))
    reports = await payments.latest_reports(session, tenant.id, limit=1)
    if not reports:
        return message.answer(texts("payments.report_none"))
    report = reports[0]
    lines = [
        texts(
            "payments.report",
            transactions=report.transactions,
            repaired=report.repaired,
            mismatches=len(report.mismatches),
        )
    ]
    lines += [f"• {item['charge_id']}: {item['problem']}" for item in report.mismatches[:20]]
    return message.answer("\n".join(lines))


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent)."""
    from bot.plans import handlers as plans

    router = Router(name="payments")
    router.message.filter(PaymentOrCommand())
    router.include_router(plans.create_router())
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(successful_payment, HasSuccessfulPayment())
    router.message.register(refunded_payment, HasRefundedPayment())
    router.message.register(buy_command, Command("buy"))
    router.message.register(refund_command, Command("refund"))
    router.message.register(payments_report, Command("payments"))
    router.callback_query.register(buy_button, CallbackIs(BUY_PREFIX, prefix=True))
    return router
