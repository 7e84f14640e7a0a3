"""Inline keyboards of the ``/broadcast`` flow and the callback data they carry.

``bc:aud:{id}:all`` / ``bc:aud:{id}:inactive:{days}`` / ``bc:aud:{id}:lang:{code}`` pick an
audience, ``bc:go:{id}`` sends, ``bc:drop:{id}`` drops the draft; the progress message's
Pause / Resume / Cancel come from :mod:`jobs.broadcasts.chat` (the worker edits it too).
"""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import LANGUAGE_NAMES, SUPPORTED_LANGUAGES, Texts
from jobs.broadcasts.schemas import AudienceSpec

AUDIENCE = "bc:aud:"
GO = "bc:go:"
DROP = "bc:drop:"
INACTIVE_DAYS = (7, 30)


def audience_rows(texts: Texts, broadcast_id: int) -> list[list[InlineKeyboardButton]]:
    prefix = f"{AUDIENCE}{broadcast_id}:"

    def button(text: str, data: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(text=text, callback_data=prefix + data)

    return [
        [button(texts("broadcast.audience_all"), "all")],
        [
            button(texts("broadcast.audience_inactive", days=days), f"inactive:{days}")
            for days in INACTIVE_DAYS
        ],
        [button(LANGUAGE_NAMES[code], f"lang:{code}") for code in SUPPORTED_LANGUAGES],
    ]


def audience_keyboard(texts: Texts, broadcast_id: int) -> InlineKeyboardMarkup:
    drop = InlineKeyboardButton(
        text=texts("broadcast.cancel_button"), callback_data=f"{DROP}{broadcast_id}"
    )
    return InlineKeyboardMarkup(inline_keyboard=[*audience_rows(texts, broadcast_id), [drop]])


def confirm_keyboard(texts: Texts, broadcast_id: int) -> InlineKeyboardMarkup:
    decide = [
        InlineKeyboardButton(
            text=texts("broadcast.send_button"), callback_data=f"{GO}{broadcast_id}"
        ),
        InlineKeyboardButton(
            text=texts("broadcast.cancel_button"), callback_data=f"{DROP}{broadcast_id}"
        ),
    ]
    return InlineKeyboardMarkup(inline_keyboard=[decide, *audience_rows(texts, broadcast_id)])


def parse_audience(data: str) -> tuple[int, AudienceSpec] | None:
    """``bc:aud:12:lang:ru`` → (12, language ru); None for anything malformed."""
    parts = data.removeprefix(AUDIENCE).split(":")
    if not parts[0].isdigit() or len(parts) < 2:
        return None
    broadcast_id, kind, arg = int(parts[0]), parts[1], parts[2] if len(parts) > 2 else ""
    if kind == "all":
        return broadcast_id, AudienceSpec()
    if kind == "inactive" and arg.isdigit() and int(arg) in INACTIVE_DAYS:
        return broadcast_id, AudienceSpec(kind="inactive", days=int(arg))
    if kind == "lang" and arg in SUPPORTED_LANGUAGES:
        return broadcast_id, AudienceSpec(kind="language", language=arg)
    return None


def parse_id(data: str, prefix: str) -> int | None:
    value = data.removeprefix(prefix)
    return int(value) if value.isdigit() and len(value) < 19 else None
