"""The command-only group of routers (``bot.runtime.commands_only``): free text skips it with
one check, so nothing in it may wait for anything but a command."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.runtime import feature_routers


def _group() -> Router:
    (group,) = [router for router in feature_routers() if router.name == "commands"]
    return group


def test_every_message_handler_in_the_group_is_a_command() -> None:
    group = _group()
    assert group.sub_routers
    for router in group.sub_routers:
        for handler in router.message.handlers:
            filters = [f.callback for f in handler.filters or []]
            assert any(isinstance(f, Command) for f in filters), (
                f"{router.name}: {handler.callback.__name__} answers more than commands; "
                "give its router its own place in bot.runtime.feature_routers"
            )

    root = group.message._handler.filters or []  # aiogram keeps router-level filters there
    assert [type(f.callback).__name__ for f in root] == ["CommandLike"]


def test_free_text_routers_come_after_the_group() -> None:
    names = [router.name for router in feature_routers()]
    assert names.index("commands") < names.index("assistant") < names.index("fallback")


def test_the_payments_router_lets_in_payments_and_commands_only() -> None:
    from datetime import UTC, datetime

    from aiogram.types import Chat, RefundedPayment, SuccessfulPayment

    from bot.payments.handlers import PaymentOrCommand

    def message(**fields: object) -> Message:
        chat = Chat(id=1, type="private")
        return Message(message_id=1, date=datetime.now(UTC), chat=chat, **fields)

    paid = SuccessfulPayment(
        currency="XTR",
        total_amount=50,
        invoice_payload="order:1",
        telegram_payment_charge_id="charge",
        provider_payment_charge_id="",
    )
    refunded = RefundedPayment(
        currency="XTR", total_amount=50, invoice_payload="order:1", telegram_payment_charge_id="c"
    )
    door = PaymentOrCommand()
    assert door.test(message(successful_payment=paid), {})
    assert door.test(message(refunded_payment=refunded), {})
    assert door.test(message(text="/buy"), {})
    assert door.test(message(caption="/refund c", photo=[]), {})
    assert not door.test(message(text="hello there"), {})
    assert not door.test(message(photo=[]), {})


def test_every_message_handler_behind_the_payments_door_can_get_in() -> None:
    from bot.payments.handlers import HasRefundedPayment, HasSuccessfulPayment

    (payments,) = [router for router in feature_routers() if router.name == "payments"]
    door = (HasSuccessfulPayment, HasRefundedPayment, Command)
    for router in (payments, *payments.sub_routers):
        for handler in router.message.handlers:
            filters = [f.callback for f in handler.filters or []]
            assert any(isinstance(f, door) for f in filters), (
                f"{router.name}: {handler.callback.__name__} would never see its messages; "
                "widen PaymentOrCommand or move the handler"
            )
