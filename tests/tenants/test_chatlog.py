"""What the chat history records of an update or a Bot API call: private chats only, a
payment as a bare marker, the kind of each message, texts clipped to Telegram's 4096; a reply
held for the next update's script is written by its timer when no update comes."""

from __future__ import annotations

from typing import Any

from aiogram.methods import EditMessageText, SendInvoice, SendMessage
from aiogram.types import LabeledPrice

from core.redis import close_redis, create_redis
from tenants.chatlog.record import STREAM, PendingReplies, incoming, outgoing
from tests.bot.conftest import wait_until

BOT, FAN = 7_200_000_001, 501


def _message(**fields: Any) -> dict[str, Any]:
    chat = {"id": FAN, "type": "private"}
    sender = {"id": FAN, "is_bot": False, "first_name": "Alice"}
    return {"message": {"message_id": 5, "chat": chat, "from": sender, **fields}}


def _view(fields: list[str] | None) -> dict[str, str] | None:
    return None if fields is None else dict(zip(fields[::2], fields[1::2], strict=True))


def test_kinds_of_incoming_messages() -> None:
    cases = [
        (_message(text="/start ref_1"), "command", "/start ref_1"),
        (_message(text="hello"), "text", "hello"),
        (_message(photo=[{"file_id": "p"}], caption="look"), "photo", "look"),
        (_message(voice={"file_id": "v"}), "voice", ""),
        (_message(sticker={"file_id": "s", "emoji": "🙂"}), "sticker", "🙂"),
        (_message(web_app_data={"data": "x"}), "other", ""),
        (_message(text="x" * 5000), "text", "x" * 4096),
    ]
    for raw, kind, text in cases:
        seen = _view(incoming(BOT, "message", raw))
        assert seen == {
            "b": str(BOT),
            "u": str(FAN),
            "d": "in",
            "k": kind,
            "m": "5",
            "x": text,
            "t": "",
        }


def test_payments_are_a_marker_and_other_chats_are_not_recorded() -> None:
    paid = _message(successful_payment={"telegram_payment_charge_id": "secret", "total_amount": 5})
    assert _view(incoming(BOT, "payment_message", paid)) == {
        "b": str(BOT),
        "u": str(FAN),
        "d": "in",
        "k": "payment",
        "m": "5",
        "x": "",
        "t": "",
    }
    group = _message(text="hi all")
    group["message"]["chat"] = {"id": -100, "type": "supergroup"}
    assert incoming(BOT, "message", group) is None
    assert incoming(BOT, "edited_message", {"edited_message": _message()["message"]}) is None
    button = {
        "callback_query": {
            "id": "1",
            "from": {"id": FAN},
            "data": "menu:help",
            "message": _message(text="menu")["message"],
        }
    }
    assert _view(incoming(BOT, "callback_query", button))["k"] == "button"  # type: ignore[index]


def test_outgoing_messages() -> None:
    invoice = SendInvoice(
        chat_id=FAN,
        title="100 credits",
        description="d",
        payload="p",
        currency="XTR",
        prices=[LabeledPrice(label="x", amount=50)],
    )
    assert _view(outgoing(BOT, invoice, 7)) == {
        "b": str(BOT),
        "u": str(FAN),
        "d": "out",
        "k": "invoice",
        "m": "7",
        "x": "100 credits",
        "t": "",
    }
    assert outgoing(BOT, SendMessage(chat_id=-100, text="group")) is None
    assert outgoing(BOT, SendMessage(chat_id="@channel", text="channel")) is None
    assert outgoing(BOT, EditMessageText(chat_id=FAN, message_id=1, text="50%")) is None


async def test_a_held_reply_is_written_when_no_update_comes(redis_url: str) -> None:
    redis = create_redis(url=redis_url)
    try:
        await redis.delete(STREAM)  # Redis is emptied after each test, not before
        replies = PendingReplies(redis)
        replies.add(BOT, SendMessage(chat_id=FAN, text="Welcome!"))
        replies.add(BOT, EditMessageText(chat_id=FAN, message_id=1, text="50%"))  # not kept
        entries = await wait_until(
            lambda: redis.xrange(STREAM), lambda found: len(found) == 1, within=5.0
        )
        assert entries[0][1][b"x"] == b"Welcome!" and entries[0][1][b"t"]
        assert replies.take() == []
    finally:
        await close_redis(redis)
