"""Every Bot API method the emulator implements, called by aiogram's real ``Bot`` over HTTP."""

from __future__ import annotations

import asyncio
import time

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramConflictError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    ChatMemberMember,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    KeyboardButton,
    LabeledPrice,
    MenuButtonWebApp,
    ReplyKeyboardMarkup,
    WebAppInfo,
)

from devtools.telegram.client import BotInfo, EmulatorClient, UserInfo
from tests.devtools.conftest import Emu, png_bytes


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d) for t, d in pairs]]
    )


async def test_get_me(bot: Bot, bot_info: BotInfo) -> None:
    me = await bot.get_me()
    assert me.id == bot_info.id
    assert me.is_bot
    assert me.username == bot_info.username
    assert me.can_join_groups is True


async def test_webhook_set_info_delete(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.set_webhook(
        "http://127.0.0.1:9/hook",  # nothing listens: updates stay pending
        secret_token="s3cr3t_-",
        allowed_updates=["message", "callback_query"],
        drop_pending_updates=True,
    )
    info = await bot.get_webhook_info()
    assert info.url == "http://127.0.0.1:9/hook"
    assert info.allowed_updates == ["message", "callback_query"]
    assert info.pending_update_count == 0  # the /start from the fixture was dropped
    with pytest.raises(TelegramConflictError, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook(drop_pending_updates=True)
    info = await bot.get_webhook_info()
    assert info.url == "" and info.pending_update_count == 0


async def test_get_updates_offset_and_long_poll(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    updates = await bot.get_updates(timeout=0)
    assert [u.message.text for u in updates if u.message] == ["/start"]
    start_id = updates[0].update_id
    # the update stays until confirmed with a higher offset
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [start_id]
    assert await bot.get_updates(offset=start_id + 1, timeout=0) == []

    async def later() -> None:
        await asyncio.sleep(0.2)
        await client.send_message(bot_info, user, "hello")

    task = asyncio.create_task(later())
    began = time.monotonic()
    updates = await bot.get_updates(offset=start_id + 1, timeout=30)
    await task
    assert time.monotonic() - began < 15  # woken by the message, not by the 30 s timeout
    assert updates[0].update_id == start_id + 1
    assert updates[0].message is not None and updates[0].message.text == "hello"
    assert updates[0].message.from_user is not None and updates[0].message.from_user.id == user.id
    # a timeout with nothing pending answers an empty list
    began = time.monotonic()
    assert await bot.get_updates(offset=start_id + 2, timeout=1) == []
    assert time.monotonic() - began >= 0.9


async def test_send_message_with_formatting_and_keyboards(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    sent = await bot.send_message(
        user.id,
        "<b>Bold</b> <i>it</i> <a href='https://example.com'>link</a> &amp; <code>x</code>",
        parse_mode="HTML",
        reply_markup=keyboard(("Yes", "yes"), ("No", "no")),
    )
    assert sent.text == "Bold it link & x"
    assert [(e.type, e.offset, e.length) for e in sent.entities or []] == [
        ("bold", 0, 4),
        ("italic", 5, 2),
        ("text_link", 8, 4),
        ("code", 15, 1),
    ]
    assert sent.entities is not None and sent.entities[2].url == "https://example.com"
    assert sent.reply_markup is not None
    assert sent.reply_markup.inline_keyboard[0][1].callback_data == "no"
    assert (
        sent.chat.id == user.id and sent.from_user is not None and sent.from_user.id == bot_info.id
    )

    md = await bot.send_message(
        user.id, r"*bold* _it_ __u__ ~s~ ||sp|| `c` [a](http://x.y) 1\.5", parse_mode="MarkdownV2"
    )
    assert md.text == "bold it u s sp c a 1.5"
    assert [e.type for e in md.entities or []] == [
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "code",
        "text_link",
    ]

    reply_kb = ReplyKeyboardMarkup(keyboard=[[KeyboardButton(text="Menu")]], resize_keyboard=True)
    plain = await bot.send_message(
        user.id, "choose", reply_markup=reply_kb, reply_to_message_id=md.message_id
    )
    assert plain.reply_markup is None  # reply keyboards are not part of the message
    assert plain.reply_to_message is not None and plain.reply_to_message.message_id == md.message_id
    entries = await client.transcript(bot_info, user, from_bot_only=True)
    assert entries[-1].reply_keyboard is not None
    assert entries[-1].reply_keyboard["keyboard"][0][0]["text"] == "Menu"
    assert entries[0].buttons[0]["callback_data"] == "yes"


async def test_edit_text_caption_and_markup(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    sent = await bot.send_message(user.id, "v1", reply_markup=keyboard(("A", "a")))
    edited = await bot.edit_message_text(
        "<b>v2</b>",
        chat_id=user.id,
        message_id=sent.message_id,
        parse_mode="HTML",
        reply_markup=keyboard(("B", "b")),
    )
    assert not isinstance(edited, bool)
    assert edited.text == "v2" and edited.edit_date is not None
    assert edited.reply_markup is not None and edited.reply_markup.inline_keyboard[0][0].text == "B"
    marked = await bot.edit_message_reply_markup(
        chat_id=user.id, message_id=sent.message_id, reply_markup=keyboard(("C", "c"))
    )
    assert not isinstance(marked, bool) and marked.reply_markup is not None
    assert marked.reply_markup.inline_keyboard[0][0].callback_data == "c"

    photo = await bot.send_photo(user.id, BufferedInputFile(png_bytes(), "p.png"), caption="old")
    recaptioned = await bot.edit_message_caption(
        chat_id=user.id, message_id=photo.message_id, caption="<i>new</i>", parse_mode="HTML"
    )
    assert not isinstance(recaptioned, bool)
    assert recaptioned.caption == "new" and recaptioned.caption_entities is not None

    entries = {e.message_id: e for e in await client.transcript(bot_info, user)}
    assert entries[sent.message_id].text == "v2" and entries[sent.message_id].edit_date
    assert entries[photo.message_id].caption == "new"


async def test_delete_forward_copy(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    original = await bot.send_message(user.id, "copy me", reply_markup=keyboard(("k", "k")))
    forwarded = await bot.forward_message(user.id, user.id, original.message_id)
    assert forwarded.text == "copy me"
    assert forwarded.forward_origin is not None
    assert forwarded.forward_origin.sender_user.id == bot_info.id  # type: ignore[union-attr]
    copied = await bot.copy_message(user.id, user.id, original.message_id)
    assert copied.message_id > forwarded.message_id
    assert await bot.delete_message(user.id, original.message_id)
    entries = await client.transcript(bot_info, user)
    ids = [e.message_id for e in entries]
    assert original.message_id not in ids and copied.message_id in ids
    deleted = await client.transcript(bot_info, user, include_deleted=True)
    assert any(e.deleted and e.message_id == original.message_id for e in deleted)
    # a user's message can be forwarded too
    incoming = await client.send_message(bot_info, user, "from the user")
    again = await bot.forward_message(user.id, user.id, incoming.message_id)
    assert again.forward_origin.sender_user.id == user.id  # type: ignore[union-attr]


async def test_chat_action_and_callback_answer(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    assert await bot.send_chat_action(user.id, "typing")
    sent = await bot.send_message(user.id, "press", reply_markup=keyboard(("Go", "go")))
    await bot.get_updates(offset=-1, timeout=0)  # confirm what came before

    async def bot_side() -> None:
        for _ in range(50):
            updates = await bot.get_updates(timeout=1, allowed_updates=["callback_query"])
            for update in updates:
                if update.callback_query:
                    assert update.callback_query.data == "go"
                    assert update.callback_query.message is not None
                    assert update.callback_query.message.message_id == sent.message_id
                    await bot.answer_callback_query(
                        update.callback_query.id, text="Done!", show_alert=True
                    )
                    return

    task = asyncio.create_task(bot_side())
    answer = await client.press_button(bot_info, user, sent.message_id, "go", wait=5)
    await task
    assert answer.answered and answer.text == "Done!" and answer.show_alert


async def test_media_uploads_file_id_reuse_and_download(bot: Bot, user: UserInfo) -> None:
    photo = await bot.send_photo(
        user.id, BufferedInputFile(png_bytes(80, 60), "pic.png"), caption="a photo"
    )
    assert photo.photo is not None and (photo.photo[-1].width, photo.photo[-1].height) == (80, 60)
    reused = await bot.send_photo(user.id, photo.photo[-1].file_id)
    assert reused.photo is not None and reused.photo[-1].file_id == photo.photo[-1].file_id

    video = await bot.send_video(
        user.id, BufferedInputFile(b"\x00" * 100, "clip.mp4"), width=320, height=240, duration=3
    )
    assert video.video is not None and (video.video.width, video.video.duration) == (320, 3)
    audio = await bot.send_audio(
        user.id,
        BufferedInputFile(b"ID3" + b"\x00" * 50, "song.mp3"),
        title="Song",
        performer="Me",
        duration=7,
    )
    assert audio.audio is not None and audio.audio.title == "Song" and audio.audio.duration == 7
    voice = await bot.send_voice(
        user.id, BufferedInputFile(b"OggS" + b"\x00" * 40, "v.ogg"), duration=2
    )
    assert voice.voice is not None and voice.voice.duration == 2
    document = await bot.send_document(user.id, BufferedInputFile(b"hello document", "notes.txt"))
    assert document.document is not None and document.document.file_name == "notes.txt"
    animation = await bot.send_animation(
        user.id, BufferedInputFile(b"GIF89a" + b"\x00" * 20, "a.gif")
    )
    assert animation.animation is not None
    again = await bot.send_document(user.id, document.document.file_id, caption="again")
    assert (
        again.document is not None
        and again.document.file_unique_id == document.document.file_unique_id
    )

    file = await bot.get_file(document.document.file_id)
    assert file.file_size == len(b"hello document") and file.file_path
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"hello document"


async def test_send_media_group(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    first = await bot.send_photo(user.id, BufferedInputFile(png_bytes(), "1.png"))
    assert first.photo is not None
    album = await bot.send_media_group(
        user.id,
        [
            InputMediaPhoto(
                media=BufferedInputFile(png_bytes(color="red"), "2.png"),
                caption="<b>two</b>",
                parse_mode="HTML",
            ),
            InputMediaPhoto(media=first.photo[-1].file_id),
            InputMediaPhoto(media=BufferedInputFile(png_bytes(color="blue"), "3.png")),
        ],
    )
    assert len(album) == 3
    assert len({m.media_group_id for m in album}) == 1 and album[0].media_group_id
    assert album[0].caption == "two" and album[1].caption is None
    assert album[1].photo is not None and album[1].photo[-1].file_id == first.photo[-1].file_id
    entries = await client.transcript(bot_info, user)
    assert [e.media["kind"] for e in entries[-3:] if e.media] == ["photo", "photo", "photo"]


async def test_commands_per_language_and_menu_button(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    await bot.set_my_commands([BotCommand(command="start", description="Start")])
    await bot.set_my_commands(
        [BotCommand(command="start", description="Начать")], language_code="ru"
    )
    await bot.set_my_commands(
        [BotCommand(command="help", description="Help")], scope=BotCommandScopeAllPrivateChats()
    )
    assert [c.description for c in await bot.get_my_commands()] == ["Start"]
    assert [c.description for c in await bot.get_my_commands(language_code="ru")] == ["Начать"]
    assert await bot.get_my_commands(language_code="de") == []
    scoped = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())
    assert [c.command for c in scoped] == ["help"]

    button = MenuButtonWebApp(text="Open", web_app=WebAppInfo(url="https://app.example/"))
    assert await bot.set_chat_menu_button(menu_button=button)
    got = await bot.get_chat_menu_button(chat_id=user.id)
    assert isinstance(got, MenuButtonWebApp) and got.web_app.url == "https://app.example/"
    details = await client.bot_details(bot_info, user)
    assert details["menu_button"]["type"] == "web_app"


async def test_get_chat_and_members(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    chat = await bot.get_chat(user.id)
    assert chat.id == user.id and chat.type == "private" and chat.first_name == "Alice"
    member = await bot.get_chat_member(user.id, user.id)
    assert isinstance(member, ChatMemberMember) and member.user.id == user.id

    owner = await client.create_user("Owner")
    group = await client.create_group("Fans", owner=owner, members=[user], bots=[bot_info])
    info = await bot.get_chat(group.id)
    assert info.title == "Fans" and info.type == "supergroup"
    assert isinstance(await bot.get_chat_member(group.id, owner.id), ChatMemberOwner)
    assert (await bot.get_chat_member(group.id, user.id)).status == "member"
    await client.leave_group(group.id, user=user)
    assert (await bot.get_chat_member(group.id, user.id)).status == "left"
    sent = await bot.send_message(group.id, "hello group")
    assert sent.chat.type == "supergroup"
    updates = await bot.get_updates(timeout=0)
    kinds = [u.event_type for u in updates]
    assert "my_chat_member" in kinds  # the bot was added
    assert any(u.message and u.message.left_chat_member for u in updates)


async def test_group_privacy_mode(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    group = await client.create_group("Chat", owner=user, bots=[bot_info])
    await bot.get_updates(offset=-1, timeout=0)
    last = (await bot.get_updates(timeout=0))[-1].update_id
    await client.send_message(bot_info, user, "just chatting", chat_id=group.id)
    await client.send_message(bot_info, user, f"/help@{bot_info.username}", chat_id=group.id)
    updates = await bot.get_updates(offset=last + 1, timeout=0)
    assert [u.message.text for u in updates if u.message] == [f"/help@{bot_info.username}"]


async def test_stars_invoice_payment_refund_and_transactions(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    invoice = await bot.send_invoice(
        user.id,
        title="100 credits",
        description="Credits for generation",
        payload="credits:100",
        currency="XTR",
        prices=[LabeledPrice(label="Credits", amount=50)],
        provider_token="",
    )
    assert invoice.invoice is not None and invoice.invoice.total_amount == 50
    link = await bot.create_invoice_link(
        title="Monthly",
        description="Subscription",
        payload="sub:1",
        currency="XTR",
        prices=[LabeledPrice(label="Month", amount=300)],
        subscription_period=2592000,
    )
    assert link.startswith("https://t.me/$")
    await bot.get_updates(offset=-1, timeout=0)
    last = (await bot.get_updates(timeout=0))[-1].update_id

    async def answer_checkout() -> list[str]:
        seen: list[str] = []
        offset = last + 1
        for _ in range(40):
            for update in await bot.get_updates(offset=offset, timeout=1):
                offset = update.update_id + 1
                if update.pre_checkout_query:
                    seen.append(update.pre_checkout_query.invoice_payload)
                    await bot.answer_pre_checkout_query(update.pre_checkout_query.id, ok=True)
                if update.message and update.message.successful_payment:
                    seen.append(update.message.successful_payment.telegram_payment_charge_id)
                    if len(seen) == 4:
                        return seen
        return seen

    task = asyncio.create_task(answer_checkout())
    paid = await client.pay_invoice(bot_info, user, message_id=invoice.message_id)
    subscribed = await client.pay_invoice(bot_info, user, invoice_link=link)
    seen = await task
    assert paid.status == "paid" and subscribed.status == "paid"
    assert seen == [
        "credits:100",
        paid.telegram_payment_charge_id,
        "sub:1",
        subscribed.telegram_payment_charge_id,
    ]
    assert paid.telegram_payment_charge_id != subscribed.telegram_payment_charge_id

    transactions = await bot.get_star_transactions()
    assert [t.amount for t in transactions.transactions] == [50, 300]
    assert transactions.transactions[1].source.subscription_period == 2592000  # type: ignore[union-attr]
    assert (await bot.get_my_star_balance()).amount == 350

    assert paid.telegram_payment_charge_id and subscribed.telegram_payment_charge_id
    assert await bot.refund_star_payment(user.id, paid.telegram_payment_charge_id)
    assert await bot.edit_user_star_subscription(
        user.id, subscribed.telegram_payment_charge_id, is_canceled=True
    )
    transactions = await bot.get_star_transactions()
    assert transactions.transactions[-1].receiver is not None  # the refund
    assert (await bot.get_my_star_balance()).amount == 300
    refund_updates = await bot.get_updates(timeout=0)
    assert any(u.message and u.message.refunded_payment for u in refund_updates)


async def test_declined_and_unanswered_checkout(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    invoice = await bot.send_invoice(
        user.id,
        title="Pack",
        description="A pack",
        payload="pack",
        currency="XTR",
        prices=[LabeledPrice(label="Pack", amount=5)],
    )
    await bot.get_updates(offset=-1, timeout=0)

    async def decline() -> None:
        for _ in range(40):
            for update in await bot.get_updates(timeout=1):
                if update.pre_checkout_query:
                    await bot.answer_pre_checkout_query(
                        update.pre_checkout_query.id, ok=False, error_message="Sold out, sorry"
                    )
                    return

    task = asyncio.create_task(decline())
    declined = await client.pay_invoice(bot_info, user, message_id=invoice.message_id)
    await task
    assert declined.status == "declined" and declined.error == "Sold out, sorry"
    timed_out = await client.pay_invoice(
        bot_info, user, message_id=invoice.message_id, answer_within=0.3
    )
    assert timed_out.status == "timeout"
    assert (await bot.get_star_transactions()).transactions == []


async def test_revoked_and_unknown_tokens(emu: Emu, client: EmulatorClient) -> None:
    from aiogram.exceptions import TelegramUnauthorizedError

    info = await client.create_bot("revoke_me_bot", "Revoke")
    old = emu.bot(info.token)
    assert (await old.get_me()).id == info.id
    new_token = await client.revoke_token(info)
    with pytest.raises(TelegramUnauthorizedError):
        await old.get_me()
    fresh = emu.bot(new_token)
    assert (await fresh.get_me()).id == info.id
    never = emu.bot("123456:AAthis-token-was-never-created-xxxxxxx")
    with pytest.raises(TelegramUnauthorizedError):
        await never.get_me()
    for instance in (old, fresh, never):
        await instance.session.close()


async def test_fixed_token_bot(emu: Emu, client: EmulatorClient) -> None:
    token = "5550001234:AAFixedTokenForTenantTests_abcdefghij"
    info = await client.create_bot("fixed_bot", "Fixed", token=token)
    assert info.id == 5550001234 and info.token == token
    instance = emu.bot(token)
    assert (await instance.get_me()).username == "fixed_bot"
    await instance.session.close()
