"""Buttons of the feed and VIP flows. Callback data stays short (Telegram allows 64 bytes):
``feed:buy:<post>``, ``feed:task:<post>``, ``vip:post:<post>``, ``vip:buy:<package>``,
``vip:cancel:<subscription>``.

Shared with the worker, which sends posts to fans through the tenant's bot.
"""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Texts
from core.models import Post, PostAccess

BUY_POST = "feed:buy:"
TASK_POST = "feed:task:"
VIP_FOR_POST = "vip:post:"
VIP_BUY = "vip:buy:"
VIP_CANCEL = "vip:cancel:"


def locked_keyboard(
    texts: Texts, post: Post, ton_amount: int | None = None
) -> InlineKeyboardMarkup:
    """The way to open a locked post: buy it (with Stars, or TON when it has a TON price in
    nanotons), join VIP, or how to complete its task."""
    if post.access == PostAccess.PPV:
        button = InlineKeyboardButton(
            text=texts("feed.unlock_button", stars=post.price_stars),
            callback_data=f"{BUY_POST}{post.id}",
        )
    elif post.access == PostAccess.VIP:
        button = InlineKeyboardButton(
            text=texts("feed.vip_button"), callback_data=f"{VIP_FOR_POST}{post.id}"
        )
    else:
        button = InlineKeyboardButton(
            text=texts("feed.task_button"), callback_data=f"{TASK_POST}{post.id}"
        )
    rows = [[button]]
    if post.access == PostAccess.PPV and ton_amount:
        from bot.wallet_ton.pay import unlock_button  # TON is optional; keep this module light

        rows.append([unlock_button(texts, post.id, ton_amount)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def locked_line(texts: Texts, post: Post) -> str:
    if post.access == PostAccess.PPV:
        return texts("feed.locked_ppv", stars=post.price_stars)
    if post.access == PostAccess.VIP:
        return texts("feed.locked_vip")
    return texts("feed.locked_task")


def url_keyboard(label: str, url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=label, url=url)]])


def vip_keyboard(
    buy: Sequence[tuple[int, str]], cancel: Sequence[tuple[int, str]]
) -> InlineKeyboardMarkup | None:
    """Buttons (id, label) to join packages and to cancel renewing subscriptions."""
    rows = [[InlineKeyboardButton(text=label, callback_data=f"{VIP_BUY}{i}")] for i, label in buy]
    rows += [
        [InlineKeyboardButton(text=label, callback_data=f"{VIP_CANCEL}{i}")] for i, label in cancel
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None
