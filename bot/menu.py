"""Keyboards and command lists: what a fan (or a creator in the manager bot) can tap.

Callback data is short and structured (``menu:balance``, ``lang:tr``) — Telegram allows 64 bytes.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache

from aiogram.types import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    WebAppInfo,
)

from bot.i18n import LANGUAGE_NAMES, Texts
from tenants.texts import N_

# (command, description msgid) in the order Telegram shows them.
FAN_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Main menu")),
    ("image", N_("Draw a picture")),
    ("video", N_("Make a short video")),
    ("audio", N_("Make a sound effect")),
    ("tts", N_("Read a text aloud")),
    ("jobs", N_("Your recent generations")),
    ("buy", N_("Buy credits")),
    ("feed", N_("Latest posts")),
    ("vip", N_("VIP membership")),
    ("app", N_("Open the app")),
    ("balance", N_("Your credits")),
    ("wallet", N_("Your TON wallet")),
    ("invite", N_("Invite friends and earn credits")),
    ("tasks", N_("Tasks and rewards")),
    ("language", N_("Change the language")),
    ("reset", N_("Forget our conversation")),
    ("help", N_("What I can do")),
    ("cancel", N_("Cancel the current action")),
)
MANAGER_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", N_("Main menu")),
    ("newbot", N_("Connect a new bot")),
    ("mybots", N_("Your connected bots")),
    ("plan", N_("Buy or renew your plan")),
    ("topup", N_("Top up the platform balance")),
    ("language", N_("Change the language")),
    ("help", N_("What I can do")),
    ("cancel", N_("Cancel the current action")),
)


def app_url(public_base_url: str, telegram_bot_id: int) -> str:
    """The Mini App for one bot: ``?bot=`` tells the page whose initData it holds."""
    return f"{public_base_url.rstrip('/')}/app/?bot={telegram_bot_id}"


def panel_url(public_base_url: str, telegram_bot_id: int) -> str:
    return f"{app_url(public_base_url, telegram_bot_id)}#creator"


def main_menu(texts: Texts, url: str) -> InlineKeyboardMarkup:
    labels = (
        texts("menu.open_app"),
        texts("menu.balance"),
        texts("menu.invite"),
        texts("menu.language"),
        texts("menu.help"),
    )
    return _main_menu(labels, url)


@lru_cache(maxsize=4096)
def _main_menu(labels: tuple[str, ...], url: str) -> InlineKeyboardMarkup:
    """Built once per (labels, URL): the same for every fan of a bot in one language, and
    building the pydantic tree costs more than the rest of ``/start``. Never mutated."""
    open_app, balance, invite, language, help_ = labels
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=open_app, web_app=WebAppInfo(url=url))],
            [
                InlineKeyboardButton(text=balance, callback_data="menu:balance"),
                InlineKeyboardButton(text=invite, callback_data="menu:invite"),
            ],
            [
                InlineKeyboardButton(text=language, callback_data="menu:language"),
                InlineKeyboardButton(text=help_, callback_data="menu:help"),
            ],
        ]
    )


def app_button(texts: Texts, url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=texts("menu.open_app"), web_app=WebAppInfo(url=url))]
        ]
    )


def language_keyboard(current: str, enabled: Collection[str]) -> InlineKeyboardMarkup:
    """The tenant's enabled languages, named in their own language; the current one marked."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=("• " if code == current else "") + name, callback_data=f"lang:{code}"
                )
            ]
            for code, name in LANGUAGE_NAMES.items()
            if code in enabled
        ]
    )


def commands_for(texts_locale: Texts, *, manager: bool) -> list[BotCommand]:
    entries = MANAGER_COMMANDS if manager else FAN_COMMANDS
    return [
        BotCommand(command=name, description=texts_locale.gettext(description))
        for name, description in entries
    ]
