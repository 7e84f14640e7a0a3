"""What the fan sees of TON in chat: QR codes, buttons, and the edits that report a wait's
outcome. Used by the handlers and by whichever process finished a wait (API or worker), so it
reaches Telegram through a plain ``Bot`` on the given HTTP session, never through handlers.

Callback data (64 bytes at most): ``tonw:c:<wallet app name>`` connect with that wallet,
``tonw:x`` cancel the pending link, ``tonw:d`` disconnect the linked wallet.
"""

from __future__ import annotations

import io
import logging
from typing import Any

import qrcode
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from arq.connections import ArqRedis
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import Texts, create_i18n
from bot.wallet_ton.connect import ConnectWaits, Outcome, PendingConnect, Result, WaitDeps
from core.models import TenantBot
from core.settings import Settings
from tenants.service import bot_token
from tenants.texts import load_overrides
from tenants.ton.tonconnect import WalletApp

logger = logging.getLogger(__name__)

CONNECT_PREFIX = "tonw:c:"
CANCEL_DATA = "tonw:x"
DISCONNECT_DATA = "tonw:d"
QR_BOX_PX = 6
QR_BORDER = 4

_OUTCOME_KEYS: dict[Outcome, str] = {
    Outcome.LINKED: "tonconnect.connected",
    Outcome.REFUSED: "tonconnect.refused",
    Outcome.TAKEN: "tonconnect.taken",
    Outcome.DECLINED: "tonconnect.declined",
    Outcome.FAILED: "tonconnect.failed",
    Outcome.EXPIRED: "tonconnect.expired",
    Outcome.UNREACHABLE: "tonconnect.unreachable",
    Outcome.CANCELLED: "tonconnect.cancelled",
}


def qr_png(data: str) -> bytes:
    """``data`` as a black-on-white QR code, PNG (wallet apps scan it)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=QR_BOX_PX, border=QR_BORDER)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


def wallets_keyboard(apps: list[WalletApp]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=app.name, callback_data=f"{CONNECT_PREFIX}{app.app_name}")]
            for app in apps
        ]
    )


def link_keyboard(texts: Texts, app: WalletApp, link: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=texts("tonconnect.open_button", wallet=app.name), url=link)],
            [
                InlineKeyboardButton(
                    text=texts("tonconnect.cancel_button"), callback_data=CANCEL_DATA
                )
            ],
        ]
    )


def disconnect_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts("tonconnect.disconnect_button"), callback_data=DISCONNECT_DATA
                )
            ]
        ]
    )


def outcome_text(texts: Texts, result: Result) -> str:
    return texts(_OUTCOME_KEYS[result.outcome], address=result.address or "")


async def present(deps: WaitDeps, pending: PendingConnect, result: Result) -> None:
    """Edit the link's message to say how it ended (never raises: a courtesy)."""
    if pending.message_id is None:
        return
    try:
        async with deps.factory() as session:
            row = await session.scalar(
                select(TenantBot).where(TenantBot.telegram_bot_id == pending.telegram_bot_id)
            )
            if row is None or row.tenant_id != pending.tenant_id:
                return
            overrides = await load_overrides(session, pending.tenant_id)
            token = bot_token(row)
        texts = Texts(create_i18n(), pending.locale, overrides)
        markup = disconnect_keyboard(texts) if result.outcome is Outcome.LINKED else None
        await edit_caption(
            Bot(token, session=deps.api_session),
            pending.chat_id,
            pending.message_id,
            outcome_text(texts, result),
            markup,
        )
    except Exception:
        logger.warning("could not show a TON Connect outcome in chat", exc_info=True)


async def edit_caption(
    bot: Bot, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> Any:
    try:
        return await bot.edit_message_caption(
            chat_id=chat_id, message_id=message_id, caption=text, reply_markup=markup
        )
    except TelegramAPIError as exc:  # e.g. "message is not modified", or it was deleted
        logger.info("TON Connect message %s not edited: %s", message_id, exc)
        return None


def chat_waits(
    settings: Settings,
    factory: async_sessionmaker[AsyncSession],
    redis: ArqRedis,
    api_session: AiohttpSession,
) -> ConnectWaits:
    """The TON Connect waits of one process, reporting to chats through ``api_session``."""
    return ConnectWaits(WaitDeps(settings, factory, redis, api_session, present=present))
