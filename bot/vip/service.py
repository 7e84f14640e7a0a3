"""The private channel of a VIP package: a one-person invite link after a purchase.

Sent after the payment's transaction commits. The link admits one person (``member_limit=1``,
so a forwarded link is spent by whoever comes first and cannot fill the channel) and expires
after a day; we do not use join requests, which would need a bot ready to approve them. A fan
already in the channel gets nothing; when the bot cannot make links (not an admin there), the
fan is told the creator will add them.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError

from bot.feed.keyboards import url_keyboard
from bot.i18n import Texts
from core.db import utcnow

logger = logging.getLogger(__name__)

INVITE_TTL = timedelta(days=1)
MEMBER_STATUSES = ("member", "administrator", "creator", "restricted")


async def send_invite(
    bot: Bot, telegram_id: int, channel_chat_id: int, package_name: str, texts: Texts
) -> None:
    try:
        member = await bot.get_chat_member(channel_chat_id, telegram_id)
        if member.status in MEMBER_STATUSES:
            return
        link = await bot.create_chat_invite_link(
            channel_chat_id,
            name=f"VIP {package_name}"[:32],
            expire_date=utcnow() + INVITE_TTL,
            member_limit=1,
        )
    except TelegramAPIError as exc:
        logger.warning("no invite link for channel %s: %s", channel_chat_id, exc.message)
        await bot.send_message(telegram_id, texts("vip.no_invite", package=package_name))
        return
    await bot.send_message(
        telegram_id,
        texts("vip.invite", package=package_name),
        reply_markup=url_keyboard(texts("vip.join_button"), link.invite_link),
    )
