"""``/broadcast`` in chat, through the emulator and the real worker: an admin composes,
previews, picks an audience, sends, and watches the progress message; fans who type
``/broadcast`` get the usual unknown-command answer."""

from __future__ import annotations

from sqlalchemy import select

from core.models import Broadcast, BroadcastStatus
from devtools.telegram.client import TranscriptEntry
from tests.bot.conftest import Platform, wait_until
from tests.jobs.broadcasts.conftest import FAST
from tests.jobs.conftest import run_burst_worker


def data_of(entry: TranscriptEntry, startswith: str) -> str:
    return next(
        b["callback_data"] for b in entry.buttons if b["callback_data"].startswith(startswith)
    )


async def test_an_admin_broadcasts_from_chat(platform: Platform) -> None:
    owner = await platform.user("Olga")
    bot, tenant_id = await platform.add_tenant(owner_telegram_id=owner.id)
    fans = [await platform.user(f"Fan{i}") for i in range(3)]
    for who in [owner, *fans]:
        await platform.emulator.start(bot, who)
    await platform.settled(bot, owner)

    await platform.emulator.send_command(bot, owner, "broadcast")
    ask = (await platform.replies(bot, owner, 2))[-1]
    assert ask.text and "Send me the message for your fans" in ask.text

    await platform.emulator.send_message(bot, owner, "A new drop is live!")
    preview, question = (await platform.replies(bot, owner, 4))[-2:]
    assert preview.text == "A new drop is live!"
    assert question.text and "Who should get it?" in question.text
    labels = [b["text"] for b in question.buttons]
    assert labels[:3] == ["Everyone", "Inactive for 7 days", "Inactive for 30 days"]

    await platform.emulator.press_button(
        bot, owner, question.message_id, data_of(question, "bc:aud:")
    )
    confirm = (await platform.emulator.transcript(bot, owner, from_bot_only=True))[-1]
    assert confirm.text == "4 fans will get this message. Send it now?"

    await platform.emulator.press_button(bot, owner, confirm.message_id, data_of(confirm, "bc:go:"))
    started = (await platform.emulator.transcript(bot, owner, from_bot_only=True))[-1]
    assert started.text and started.text.startswith("📣 Sending: 0 of 4")
    assert [b["text"] for b in started.buttons] == ["Pause", "Cancel"]

    worker_settings = platform.settings.model_copy(update={"broadcast_rate": 1000})
    await run_burst_worker(
        worker_settings, ctx={"settings": worker_settings, "broadcast_config": FAST}
    )
    for fan in fans:
        received = await platform.emulator.transcript(bot, fan, from_bot_only=True)
        assert [e.text for e in received].count("A new drop is live!") == 1
    final = await wait_until(
        lambda: platform.emulator.transcript(bot, owner, from_bot_only=True),
        lambda entries: any((e.text or "").startswith("✅") for e in entries),
    )
    progress = next(e for e in final if e.message_id == started.message_id)
    assert progress.text == "✅ Broadcast finished: 4 sent, 0 failed, 0 blocked the bot."
    assert progress.buttons == []
    # The owner is a fan of their own bot too: the broadcast came after the progress message.
    assert final[-1].text == "A new drop is live!"
    async with platform.session_factory() as session:
        row = await session.scalar(select(Broadcast).where(Broadcast.tenant_id == tenant_id))
        assert row is not None and row.status == BroadcastStatus.COMPLETED and row.sent == 4


async def test_fans_cannot_broadcast(platform: Platform) -> None:
    owner = await platform.user("Olga")
    bot, _ = await platform.add_tenant(owner_telegram_id=owner.id)
    fan = await platform.user("Fan")
    await platform.emulator.start(bot, fan)
    await platform.emulator.send_command(bot, fan, "broadcast")
    reply = (await platform.replies(bot, fan, 2))[-1]
    assert reply.text and "/broadcast" in reply.text and "Send me the message" not in reply.text
    await platform.emulator.send_message(bot, fan, "Hello everyone")
    await platform.settled(bot, fan)
    async with platform.session_factory() as session:
        assert await session.scalar(select(Broadcast)) is None


async def test_an_admin_drops_a_draft_and_a_voice_note_is_refused(platform: Platform) -> None:
    owner = await platform.user("Olga")
    bot, _ = await platform.add_tenant(owner_telegram_id=owner.id)
    await platform.emulator.start(bot, owner)
    await platform.emulator.send_command(bot, owner, "broadcast")
    await platform.emulator.send_file(
        bot, owner, b"OggS" + b"0" * 64, filename="v.ogg", kind="voice", mime_type="audio/ogg"
    )
    refused = (await platform.replies(bot, owner, 3))[-1]
    assert refused.text == "Send text, a photo, a video, an audio file or a document."

    await platform.emulator.send_command(bot, owner, "broadcast")
    await platform.emulator.send_message(bot, owner, "Short one")
    question = (await platform.replies(bot, owner, 6))[-1]
    await platform.emulator.press_button(
        bot, owner, question.message_id, data_of(question, "bc:drop:")
    )
    dropped = (await platform.emulator.transcript(bot, owner, from_bot_only=True))[-1]
    assert dropped.text == "OK, this broadcast is dropped."
    async with platform.session_factory() as session:
        row = await session.scalar(select(Broadcast))
        assert row is not None and row.status == BroadcastStatus.CANCELLED


async def test_a_photo_from_chat_goes_out_by_its_file_id(platform: Platform) -> None:
    owner = await platform.user("Olga")
    bot, _ = await platform.add_tenant(owner_telegram_id=owner.id)
    fan = await platform.user("Fan")
    for who in (owner, fan):
        await platform.emulator.start(bot, who)
    await platform.emulator.send_command(bot, owner, "broadcast")
    await platform.replies(bot, owner, 2)
    sent = await platform.emulator.send_file(
        bot,
        owner,
        _png(),
        filename="drop.png",
        kind="photo",
        mime_type="image/png",
        caption="Fresh <drop> & more",
    )
    preview, question = (await platform.replies(bot, owner, 4))[-2:]
    assert preview.caption == "Fresh <drop> & more" and preview.media is not None
    await platform.emulator.press_button(
        bot, owner, question.message_id, data_of(question, "bc:aud:")
    )
    confirm = (await platform.emulator.transcript(bot, owner, from_bot_only=True))[-1]
    await platform.emulator.press_button(bot, owner, confirm.message_id, data_of(confirm, "bc:go:"))

    worker_settings = platform.settings.model_copy(update={"broadcast_rate": 1000})
    await run_burst_worker(
        worker_settings, ctx={"settings": worker_settings, "broadcast_config": FAST}
    )
    got = (await platform.emulator.transcript(bot, fan, from_bot_only=True))[-1]
    assert got.caption == "Fresh <drop> & more"
    original = sent.message["photo"][-1]["file_unique_id"]
    assert got.message["photo"][-1]["file_unique_id"] == original  # no upload: the same file


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (8, 8), (20, 200, 30)).save(buffer, format="PNG")
    return buffer.getvalue()
