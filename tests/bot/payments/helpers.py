"""Shared steps of the payment tests: buy a pack through the emulator, read balances."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import func, select

from core import ledger
from core.models import LedgerEntry, Payment, User
from devtools.telegram.client import BotInfo, TranscriptEntry, UserInfo
from tests.bot.conftest import Platform, wait_until


async def user_row(platform: Platform, tenant_id: int, telegram_id: int) -> User:
    async with platform.session_factory() as session:
        return (
            await session.execute(
                select(User).where(User.tenant_id == tenant_id, User.telegram_id == telegram_id)
            )
        ).scalar_one()


async def fan_balance(platform: Platform, tenant_id: int, telegram_id: int) -> int:
    row = await user_row(platform, tenant_id, telegram_id)
    async with platform.session_factory() as session:
        return (await ledger.user_balance(session, tenant_id, row.id)).balance


async def counts(platform: Platform) -> tuple[int, int]:
    """(payments, ledger entries) over all tenants."""
    async with platform.session_factory() as session:
        payments = (await session.execute(select(func.count()).select_from(Payment))).scalar()
        entries = (await session.execute(select(func.count()).select_from(LedgerEntry))).scalar()
    return int(payments or 0), int(entries or 0)


async def last_message(platform: Platform, bot: BotInfo, user: UserInfo, **kw: Any) -> Any:
    return (await platform.settled(bot, user))[-1]


async def open_invoice(
    platform: Platform, bot: BotInfo, user: UserInfo, pack_index: int = 0
) -> TranscriptEntry:
    """``/buy``, press the pack's button, and return the invoice message."""
    await platform.emulator.send_command(bot, user, "buy")
    menu = (await platform.settled(bot, user))[-1]
    button = menu.buttons[pack_index]
    await platform.emulator.press_button(bot, user, menu.message_id, button["callback_data"])
    entries = await wait_until(
        lambda: platform.emulator.transcript(bot, user, from_bot_only=True),
        lambda items: bool(items) and "invoice" in items[-1].message,
    )
    invoice: TranscriptEntry = entries[-1]
    return invoice


async def bot_api(platform: Platform, bot: BotInfo, method: str, **params: Any) -> Any:
    """Call the Bot API as the bot itself (what a creator's other tools could do)."""
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.post(
            f"{platform.emulator_url}/bot{bot.token}/{method}", json=params
        )
    return response.json()


def payment_update(
    update_id: int, user: UserInfo, *, payload: str, stars: int, charge_id: str, **extra: Any
) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
            "from": {"id": user.id, "is_bot": False, "first_name": user.first_name},
            "successful_payment": {
                "currency": "XTR",
                "total_amount": stars,
                "invoice_payload": payload,
                "telegram_payment_charge_id": charge_id,
                "provider_payment_charge_id": "",
                **extra,
            },
        },
    }
