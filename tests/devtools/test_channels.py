"""Channels and administrators in the emulator: what a bot can see depends on its rights,
as in Telegram (``getChatMember``, ``getChatAdministrators``, posting to a channel)."""

from __future__ import annotations

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import ChatMemberAdministrator, ChatMemberOwner

from devtools.telegram.client import BotInfo, EmulatorClient, UserInfo


async def test_admin_bot_sees_channel_subscribers(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    owner = await client.create_user("Owner")
    channel = await client.create_group(
        "News", owner=owner, admins=[bot_info], channel=True, username="news_channel"
    )
    assert channel.type == "channel" and channel.admins == [bot_info.id]
    assert (await bot.get_chat("@news_channel")).id == channel.id

    me = await bot.get_chat_member(channel.id, bot_info.id)
    assert isinstance(me, ChatMemberAdministrator) and me.can_post_messages
    assert (await bot.get_chat_member(channel.id, user.id)).status == "left"
    await client.join_group(channel.id, user=user)
    assert (await bot.get_chat_member(channel.id, user.id)).status == "member"
    admins = await bot.get_chat_administrators(channel.id)
    assert [(type(a), a.user.id) for a in admins] == [
        (ChatMemberOwner, owner.id),
        (ChatMemberAdministrator, bot_info.id),
    ]
    posted = await bot.send_message(channel.id, "new post")
    assert posted.chat.type == "channel"

    await client.leave_group(channel.id, user=user)
    assert (await bot.get_chat_member(channel.id, user.id)).status == "left"


async def test_member_bot_without_rights_cannot_read_a_channel(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    owner = await client.create_user("Owner")
    channel = await client.create_group(
        "Quiet", owner=owner, members=[user], bots=[bot_info], channel=True
    )
    assert (await bot.get_chat_member(channel.id, bot_info.id)).status == "member"
    with pytest.raises(TelegramBadRequest, match="member list is inaccessible"):
        await bot.get_chat_member(channel.id, user.id)
    with pytest.raises(TelegramBadRequest, match="member list is inaccessible"):
        await bot.get_chat_administrators(channel.id)
    with pytest.raises(TelegramBadRequest, match="need administrator rights"):
        await bot.send_message(channel.id, "hello")

    promoted = await client.promote(channel.id, bot=bot_info)
    assert promoted.admins == [bot_info.id]
    assert (await bot.get_chat_member(channel.id, user.id)).status == "member"
    await client.demote(channel.id, bot=bot_info)
    with pytest.raises(TelegramBadRequest, match="member list is inaccessible"):
        await bot.get_chat_member(channel.id, user.id)


async def test_chat_without_the_bot_is_not_found(
    bot: Bot, client: EmulatorClient, user: UserInfo
) -> None:
    owner = await client.create_user("Owner")
    channel = await client.create_group("Elsewhere", owner=owner, members=[user], channel=True)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat_member(channel.id, user.id)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat_member("@no_such_channel", user.id)


async def test_group_admins_and_promoted_users(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    owner = await client.create_user("Owner")
    group = await client.create_group("Fans", owner=owner, members=[user], bots=[bot_info])
    # In a group a member bot reads members; it is not an administrator until promoted.
    assert (await bot.get_chat_member(group.id, bot_info.id)).status == "member"
    assert (await bot.get_chat_member(group.id, user.id)).status == "member"
    await client.promote(group.id, user=user)
    promoted = await bot.get_chat_member(group.id, user.id)
    assert isinstance(promoted, ChatMemberAdministrator)
    assert [a.user.id for a in await bot.get_chat_administrators(group.id)] == [owner.id, user.id]
    await client.promote(group.id, bot=bot_info)
    updates = await bot.get_updates(timeout=0)
    changes = [u.my_chat_member for u in updates if u.my_chat_member]
    assert changes[-1].new_chat_member.status == "administrator"


async def test_member_count_and_the_bot_leaving_on_its_own(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    owner = await client.create_user("Owner")
    group = await client.create_group("Club", owner=owner, members=[user], bots=[bot_info])
    added = [u.my_chat_member for u in await bot.get_updates(timeout=0) if u.my_chat_member]
    assert [(c.chat.id, c.from_user.id, c.new_chat_member.status) for c in added] == [
        (group.id, owner.id, "member")
    ]
    assert await bot.get_chat_member_count(group.id) == 3  # owner, user, bot

    channel = await client.create_group("Quiet news", owner=owner, bots=[bot_info], channel=True)
    with pytest.raises(TelegramBadRequest, match="member list is inaccessible"):
        await bot.get_chat_member_count(channel.id)
    with pytest.raises(TelegramBadRequest, match="private chats"):
        await bot.leave_chat(user.id)

    offset = (await bot.get_updates(timeout=0))[-1].update_id + 1
    assert await bot.leave_chat(group.id)
    (left,) = [u.my_chat_member for u in await bot.get_updates(offset=offset, timeout=0)]
    assert left is not None and left.chat.id == group.id
    assert (left.from_user.id, left.old_chat_member.status, left.new_chat_member.status) == (
        bot_info.id,
        "member",
        "left",
    )
    assert bot_info.id not in (await client.group(group.id))["bots"]
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.leave_chat(group.id)
