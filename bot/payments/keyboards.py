"""Buttons of the payment flows. Callback data stays short (Telegram allows 64 bytes):
``buy:<pack id>``, ``plan:<tenant id>``, ``plan:<tenant id>:<code>``, ``topup:<tenant id>:<i>``."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.i18n import Texts
from core.models import CreditPack
from tenants.billing import PLAN_PRICES_STARS, TOPUP_PACKS
from tenants.plans import get_plan

BUY_PREFIX = "buy:"
PLAN_PREFIX = "plan:"
TOPUP_PREFIX = "topup:"


def packs_keyboard(texts: Texts, packs: Sequence[CreditPack]) -> InlineKeyboardMarkup:
    rows = []
    for pack in packs:
        key = "payments.pack_bonus_button" if pack.bonus else "payments.pack_button"
        label = texts(key, stars=pack.stars, credits=pack.credits, bonus=pack.bonus)
        rows.append([InlineKeyboardButton(text=label, callback_data=f"{BUY_PREFIX}{pack.id}")])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def bots_keyboard(prefix: str, bots: Sequence[tuple[int, str]]) -> InlineKeyboardMarkup:
    """One button per owned bot (tenant id, @username) when a creator has several."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=f"@{username}", callback_data=f"{prefix}{tenant_id}")]
            for tenant_id, username in bots
        ]
    )


def plans_keyboard(texts: Texts, tenant_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts("plans.plan_button", plan=get_plan(code).name, stars=stars),
                    callback_data=f"{PLAN_PREFIX}{tenant_id}:{code}",
                )
            ]
            for code, stars in PLAN_PRICES_STARS.items()
        ]
    )


def topups_keyboard(texts: Texts, tenant_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=texts("plans.topup_button", stars=stars, credits=credits),
                    callback_data=f"{TOPUP_PREFIX}{tenant_id}:{index}",
                )
            ]
            for index, (stars, credits) in enumerate(TOPUP_PACKS)
        ]
    )


def pay_link_keyboard(texts: Texts, stars: int, url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=texts("plans.pay_button", stars=stars), url=url)]
        ]
    )
