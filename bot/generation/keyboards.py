"""Inline keyboards of generation in chat (callback data stays well under Telegram's 64 bytes)."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Texts

BUY = "gen:buy"
CANCEL_PREFIX = "gen:cancel:"
RERUN_PREFIX = "gen:rerun:"
VARIATIONS_PREFIX = "gen:var:"


def buy_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    """The button next to "not enough credits" (the Stars flow answers ``/buy``)."""
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=texts("gen.buy_button"), callback_data=BUY)]]
    )


def parse_target(data: str, prefix: str) -> tuple[str, int] | None:
    """``gen:cancel:run:12`` → ``("run", 12)``; None for anything malformed."""
    kind, _, ident = data.removeprefix(prefix).partition(":")
    if kind not in ("job", "run") or not ident.isdigit():
        return None
    return kind, int(ident)
