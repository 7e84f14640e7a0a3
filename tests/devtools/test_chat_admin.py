"""Group administration and Stars subscription renewals in the emulator: invite links with a
member limit, bans, admin rights, and renewals that stop once a subscription is cancelled."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ChatMemberAdministrator, ChatMemberBanned, LabeledPrice

from devtools.telegram.client import BotInfo, EmulatorClient, EmulatorError, UserInfo


async def test_invite_links_need_an_admin_bot_and_respect_their_limit(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    owner = await client.create_user("Owner")
    group = await client.create_group("VIP room", owner=owner, bots=[bot_info])
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await bot.create_chat_invite_link(group.id, member_limit=1)
    assert (await bot.get_chat_member(group.id, bot_info.id)).status == "member"

    await client.set_group_admin(group.id, bot_info)
    me = await bot.get_chat_member(group.id, bot_info.id)
    assert isinstance(me, ChatMemberAdministrator) and me.can_invite_users
    link = await bot.create_chat_invite_link(
        group.id, name="VIP 1", member_limit=1, expire_date=timedelta(days=1)
    )
    assert link.invite_link.startswith("https://t.me/+") and link.member_limit == 1
    assert link.creator.id == bot_info.id and not link.creates_join_request
    with pytest.raises(TelegramBadRequest):
        await bot.create_chat_invite_link(group.id, member_limit=1, creates_join_request=True)

    joined = await client.join_by_invite_link(user, link.invite_link)
    assert user.id in joined["members"]
    second = await client.create_user("Second")
    with pytest.raises(EmulatorError, match="USERS_TOO_MUCH"):
        await client.join_by_invite_link(second, link.invite_link)
    expired = await bot.create_chat_invite_link(group.id, expire_date=int(time.time()) - 1)
    with pytest.raises(EmulatorError, match="INVITE_HASH_EXPIRED"):
        await client.join_by_invite_link(second, expired.invite_link)


async def test_ban_then_unban_removes_a_member_who_may_come_back(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    owner = await client.create_user("Owner")
    group = await client.create_group(
        "VIP room", owner=owner, members=[user], bots=[bot_info], admins=[bot_info]
    )
    with pytest.raises(TelegramBadRequest, match="can't remove chat owner"):
        await bot.ban_chat_member(group.id, owner.id)
    assert await bot.ban_chat_member(group.id, user.id)
    banned = await bot.get_chat_member(group.id, user.id)
    assert isinstance(banned, ChatMemberBanned)
    with pytest.raises(EmulatorError, match="banned"):
        await client.join_group(group.id, user=user)

    assert await bot.unban_chat_member(group.id, user.id, only_if_banned=True)
    assert (await bot.get_chat_member(group.id, user.id)).status == "left"
    details = await client.group(group.id)
    assert user.id not in details["members"] and user.id not in details["banned"]
    await client.join_group(group.id, user=user)  # free to join again
    assert (await bot.get_chat_member(group.id, user.id)).status == "member"

    plain = await client.create_bot("plain_member_bot", "Plain")
    await client.join_group(group.id, bot=plain)
    other = Bot(plain.token, session=bot.session)
    with pytest.raises(TelegramBadRequest, match="not enough rights"):
        await other.ban_chat_member(group.id, user.id)


async def test_subscription_renews_until_cancelled(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    link = await bot.create_invoice_link(
        title="VIP",
        description="Monthly",
        payload="vip:1",
        currency="XTR",
        prices=[LabeledPrice(label="Month", amount=250)],
        subscription_period=2592000,
    )
    await bot.get_updates(offset=-1, timeout=0)

    async def approve() -> None:
        for _ in range(40):
            for update in await bot.get_updates(timeout=1):
                if update.pre_checkout_query:
                    await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
                    return

    task = asyncio.create_task(approve())
    first = await client.pay_invoice(bot_info, user, invoice_link=link)
    await task
    assert first.status == "paid" and first.telegram_payment_charge_id
    updates = await bot.get_updates(timeout=0)
    offset = updates[-1].update_id + 1

    renewal = await client.renew_subscription(bot_info, first.telegram_payment_charge_id)
    assert renewal.status == "paid" and renewal.amount == 250
    assert renewal.telegram_payment_charge_id != first.telegram_payment_charge_id
    renewed = [u for u in await bot.get_updates(offset=offset, timeout=0) if u.message]
    paid = renewed[-1].message.successful_payment if renewed[-1].message else None
    assert paid is not None and paid.invoice_payload == "vip:1"
    assert paid.is_recurring and not paid.is_first_recurring
    assert paid.telegram_payment_charge_id == renewal.telegram_payment_charge_id

    # Cancelling through a renewal's charge id cancels the whole subscription.
    assert renewal.telegram_payment_charge_id
    assert await bot.edit_user_star_subscription(
        user.id, renewal.telegram_payment_charge_id, is_canceled=True
    )
    stopped = await client.renew_subscription(bot_info, first.telegram_payment_charge_id)
    assert stopped.status == "canceled"
    amounts = [t.amount for t in (await bot.get_star_transactions()).transactions]
    assert amounts == [250, 250]
