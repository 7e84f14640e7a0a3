"""Each Telegram rule, broken on purpose: aiogram must raise the exception Telegram causes."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramRetryAfter,
)
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
)

from devtools.telegram import rules
from devtools.telegram.client import BotInfo, EmulatorClient, UserInfo
from devtools.telegram.testing import running_emulator
from tests.devtools.conftest import Emu, fast_settings, png_bytes


def buttons(rows: int, per_row: int, data: str = "x") -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=f"{r}-{c}", callback_data=data) for c in range(per_row)]
            for r in range(rows)
        ]
    )


async def test_text_length(bot: Bot, user: UserInfo) -> None:
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(user.id, "   ")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(user.id, "x" * 4097)
    assert (await bot.send_message(user.id, "x" * 4096)).text == "x" * 4096
    # the limit applies after entities are parsed
    assert await bot.send_message(user.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(user.id, "<b> </b>", parse_mode="HTML")


async def test_caption_length(bot: Bot, user: UserInfo) -> None:
    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await bot.send_photo(user.id, BufferedInputFile(png_bytes(), "p.png"), caption="c" * 1025)
    assert await bot.send_photo(
        user.id, BufferedInputFile(png_bytes(), "p.png"), caption="c" * 1024
    )


async def test_callback_data_and_keyboard_sizes(bot: Bot, user: UserInfo) -> None:
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(user.id, "k", reply_markup=buttons(1, 1, "é" * 33))  # 66 bytes
    assert await bot.send_message(user.id, "k", reply_markup=buttons(1, 1, "d" * 64))
    with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
        await bot.send_message(user.id, "k", reply_markup=buttons(1, 9))
    with pytest.raises(TelegramBadRequest, match="reply markup is too long"):
        await bot.send_message(user.id, "k", reply_markup=buttons(13, 8))
    assert await bot.send_message(user.id, "k", reply_markup=buttons(12, 8))
    no_action = {"inline_keyboard": [[{"text": "plain"}]]}
    with pytest.raises(TelegramBadRequest, match="Text buttons are unallowed"):
        await bot.send_message(user.id, "k", reply_markup=no_action)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<blink>x</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b", "Unclosed start tag at byte offset 0"),
    ],
)
async def test_html_entity_errors(bot: Bot, user: UserInfo, text: str, error: str) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(user.id, text, parse_mode="HTML")
    assert caught.value.message == f"Bad Request: can't parse entities: {error}"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("Price 1.5", "Character '.' is reserved and must be escaped with the preceding '\\'"),
        ("*bold", "Can't find end of the entity starting at byte offset 0"),
        ("ok `code", "Can't find end of the entity starting at byte offset 3"),
        ("a-b", "Character '-' is reserved and must be escaped with the preceding '\\'"),
    ],
)
async def test_markdown_v2_entity_errors(bot: Bot, user: UserInfo, text: str, error: str) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(user.id, text, parse_mode="MarkdownV2")
    assert caught.value.message == f"Bad Request: can't parse entities: {error}"


def test_parsers_directly() -> None:
    text, entities = rules.parse_html(
        '<pre><code class="language-python">x = 1</code></pre> 😀<u>u</u>'
    )
    assert text == "x = 1 😀u"
    assert entities[0] == {"type": "pre", "offset": 0, "length": 5, "language": "python"}
    assert entities[-1] == {"type": "underline", "offset": 8, "length": 1}  # 😀 is 2 UTF-16 units
    text, entities = rules.parse_markdown_v2("```py\nprint(1)\n```")
    assert text == "print(1)\n" and entities[0]["language"] == "py"
    text, entities = rules.parse_markdown_v2(">quoted line\nnext")
    assert text == "quoted line\nnext" and entities[0]["type"] == "blockquote"
    text, entities = rules.parse_html('<a href="tg://user?id=42">him</a>')
    assert entities[0]["type"] == "text_mention" and entities[0]["user"]["id"] == 42
    assert rules.parse_html("&lt;b&gt; &amp;&#33;")[0] == "<b> &!"


async def test_not_modified_and_not_found(bot: Bot, user: UserInfo) -> None:
    sent = await bot.send_message(user.id, "same", reply_markup=buttons(1, 1))
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "same", chat_id=user.id, message_id=sent.message_id, reply_markup=buttons(1, 1)
        )
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(
            chat_id=user.id, message_id=sent.message_id, reply_markup=buttons(1, 1)
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("new", chat_id=user.id, message_id=99999)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(user.id, 99999)
    with pytest.raises(TelegramBadRequest, match="there is no caption in the message to edit"):
        await bot.edit_message_caption(chat_id=user.id, message_id=sent.message_id, caption="c")
    with pytest.raises(TelegramBadRequest, match="message to be replied not found"):
        await bot.send_message(user.id, "re", reply_to_message_id=99999)


async def test_blocked_user_and_unknown_chat(
    bot: Bot, client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    await client.block_bot(bot_info, user)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(user.id, "hello?")
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_photo(user.id, BufferedInputFile(png_bytes(), "p.png"))
    await client.unblock_bot(bot_info, user)
    assert await bot.send_message(user.id, "welcome back")
    updates = await bot.get_updates(timeout=0)
    statuses = [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member]
    assert statuses == ["kicked", "member"]

    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(424242, "anyone?")
    stranger = await client.create_user("Stranger")
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation with a user"):
        await bot.send_message(stranger.id, "hi")
    group = await client.create_group("Without the bot", owner=stranger)
    with pytest.raises(TelegramForbiddenError, match="bot is not a member of the supergroup chat"):
        await bot.send_message(group.id, "hi")


async def test_rate_limits(
    emu: Emu, client: EmulatorClient, bot: Bot, bot_info: BotInfo, user: UserInfo
) -> None:
    # private chat: one a second, no burst
    await client.set_limits(bot_info, private_per_second=1, private_burst=1)
    assert await bot.send_message(user.id, "one")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(user.id, "two")
    assert caught.value.retry_after == 1
    await client.set_limits(bot_info, private_per_second=0.1, private_burst=2)
    await bot.send_message(user.id, "a")
    await bot.send_message(user.id, "b")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(user.id, "c")
    assert caught.value.retry_after == 10

    # groups: 20 a minute by default; here 3 a minute
    await client.set_limits(bot_info, group_per_minute=3, group_burst=3)
    group = await client.create_group("Busy", owner=user, bots=[bot_info])
    for n in range(3):
        await bot.send_message(group.id, f"g{n}")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(group.id, "g4")
    assert caught.value.retry_after == 20


async def test_overall_limit_and_paid_broadcast(
    emu: Emu, client: EmulatorClient, bot: Bot, bot_info: BotInfo
) -> None:
    users = [await client.create_user(f"Fan{n}") for n in range(5)]
    for fan in users:
        await client.start(bot_info, fan)
    await client.set_limits(
        bot_info, bot_per_second=2, bot_burst=2, private_burst=10, paid_per_second=1000
    )
    await bot.send_message(users[0].id, "1")
    await bot.send_message(users[1].id, "2")
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(users[2].id, "3")
    assert caught.value.retry_after == 1
    for fan in users:  # paid broadcast has its own, much larger budget
        assert await bot.send_message(fan.id, "paid", allow_paid_broadcast=True)


async def test_invoice_rules(bot: Bot, user: UserInfo) -> None:
    price = [LabeledPrice(label="x", amount=10)]
    with pytest.raises(TelegramBadRequest, match="STARS_INVOICE_INVALID"):
        await bot.send_invoice(user.id, "t", "d", "p", currency="XTR", prices=price * 2)
    with pytest.raises(TelegramBadRequest, match="PAYMENT_PROVIDER_INVALID"):
        await bot.send_invoice(user.id, "t", "d", "p", currency="USD", prices=price)
    with pytest.raises(TelegramBadRequest, match="SUBSCRIPTION_PERIOD_INVALID"):
        await bot.create_invoice_link(
            "t", "d", "p", currency="XTR", prices=price, subscription_period=3600
        )
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query("12345", ok=True)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query("12345", text="late")
    with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
        await bot.refund_star_payment(user.id, "stxNope")


@pytest.fixture(scope="module")
async def small_files() -> AsyncIterator[Emu]:
    settings = fast_settings(max_upload_bytes=4096, max_download_bytes=2048)
    async with running_emulator(settings) as (base_url, client):
        yield Emu(base_url, client)


async def test_file_size_limits(small_files: Emu) -> None:
    info = await small_files.client.create_bot("files_bot", "Files")
    fan = await small_files.client.create_user("Fan")
    await small_files.client.start(info, fan)
    bot = small_files.bot(info.token)
    try:
        with pytest.raises(TelegramEntityTooLarge):
            await bot.send_document(fan.id, BufferedInputFile(b"x" * 5000, "big.bin"))
        mid = await bot.send_document(fan.id, BufferedInputFile(b"x" * 3000, "mid.bin"))
        assert mid.document is not None
        with pytest.raises(TelegramBadRequest, match="file is too big"):
            await bot.get_file(mid.document.file_id)
        small = await bot.send_document(fan.id, BufferedInputFile(b"x" * 1000, "small.bin"))
        assert small.document is not None
        assert (await bot.get_file(small.document.file_id)).file_size == 1000
        with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
            await bot.send_document(fan.id, "no-such-file-id")
        with pytest.raises(TelegramBadRequest, match="can't use file of type Document as Photo"):
            await bot.send_photo(fan.id, small.document.file_id)
        with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
            await bot.send_photo(fan.id, BufferedInputFile(b"not an image", "x.jpg"))
    finally:
        await bot.session.close()
