"""The admin's progress message in chat: one message the worker edits as a broadcast moves,
with Pause / Resume / Cancel buttons (handled by ``bot.broadcasts``).

Edits are throttled (``chat_edit_interval``) and never fail a broadcast: a refused edit is
logged and the next one tries again.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramRetryAfter
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from core.models import Broadcast, BroadcastStatus

logger = logging.getLogger(__name__)

PAUSE = "bc:pause:"
RESUME = "bc:resume:"
CANCEL = "bc:cancel:"


def status_text(texts: Any, broadcast: Broadcast, rate: float = 0.0) -> str:
    """What the admin reads about a started broadcast, in their language."""
    done = broadcast.sent + broadcast.failed + broadcast.blocked + broadcast.unconfirmed
    counts = {
        "done": done,
        "total": broadcast.total,
        "sent": broadcast.sent,
        "failed": broadcast.failed + broadcast.unconfirmed,
        "blocked": broadcast.blocked,
    }
    status = BroadcastStatus(broadcast.status)
    if status is BroadcastStatus.COMPLETED:
        return str(texts("broadcast.done", **counts))
    if status is BroadcastStatus.CANCELLED:
        return str(texts("broadcast.cancelled", **counts))
    if status is BroadcastStatus.PAUSED:
        return str(texts("broadcast.paused", **counts))
    if status is BroadcastStatus.LIMITED:
        return str(texts("broadcast.limited", **counts))
    left = max(0, broadcast.total - done)
    eta = round(left / rate) if rate > 0 else "?"
    return str(texts("broadcast.progress", rate=round(rate, 1), eta=eta, **counts))


def controls(texts: Any, broadcast: Broadcast) -> InlineKeyboardMarkup | None:
    status = BroadcastStatus(broadcast.status)
    if status.final or status is BroadcastStatus.DRAFT:
        return None
    toggle = (
        InlineKeyboardButton(
            text=texts("broadcast.pause_button"), callback_data=f"{PAUSE}{broadcast.id}"
        )
        if status is BroadcastStatus.RUNNING
        else InlineKeyboardButton(
            text=texts("broadcast.resume_button"), callback_data=f"{RESUME}{broadcast.id}"
        )
    )
    cancel = InlineKeyboardButton(
        text=texts("broadcast.cancel_button"), callback_data=f"{CANCEL}{broadcast.id}"
    )
    return InlineKeyboardMarkup(inline_keyboard=[[toggle, cancel]])


class ChatProgress:
    """Keeps one admin's progress message up to date for one sender run."""

    def __init__(self, bot: Bot, texts: Any, chat_id: int, message_id: int, interval: float):
        self.bot = bot
        self.texts = texts
        self.chat_id = chat_id
        self.message_id = message_id
        self.interval = interval
        self.last_text = ""
        self.last_edit = 0.0

    async def show(self, broadcast: Broadcast, rate: float = 0.0, *, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self.last_edit < self.interval:
            return
        text = status_text(self.texts, broadcast, rate)
        if text == self.last_text:
            return
        self.last_text, self.last_edit = text, now
        try:
            await self.bot.edit_message_text(
                text=text,
                chat_id=self.chat_id,
                message_id=self.message_id,
                reply_markup=controls(self.texts, broadcast),
            )
        except TelegramRetryAfter as exc:
            self.last_edit = now + exc.retry_after
        except TelegramAPIError as exc:
            logger.info("broadcast %d: progress edit refused: %s", broadcast.id, exc.message)
