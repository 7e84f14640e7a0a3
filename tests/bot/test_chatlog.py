"""The chat history, end to end through the emulator: what a fan writes and what the bot sends
(in the webhook response or through the Bot API) is in ``chat_messages`` after a drain, once,
for the fan's own tenant only, and not at all while the creator has it switched off."""

from __future__ import annotations

import io

from aiogram import Bot, Router
from aiogram.filters import Command
from aiogram.types import Message
from PIL import Image
from sqlalchemy import select

from core.models import ChatMessage, User
from jobs.chatlog_tasks import drain_chatlog
from tests.bot.conftest import Platform, PlatformFactory
from tests.bot.test_routing import message_update


async def drain(platform: Platform) -> int:
    """One run of the worker's cron, on the platform's Redis and database, once the API has
    written the replies it holds (as it does within a quarter of a second, or at shutdown)."""
    await platform.runtime.replies.flush()
    ctx = {
        "redis": platform.app.state.redis,
        "session_factory": platform.session_factory,
        "settings": platform.settings,
    }
    return await drain_chatlog(ctx)


async def conversation(
    platform: Platform, tenant_id: int, telegram_id: int
) -> list[tuple[str, str, str]]:
    """(direction, kind, text) of the fan's messages, oldest first."""
    async with platform.session_factory() as session:
        rows = await session.execute(
            select(ChatMessage.direction, ChatMessage.kind, ChatMessage.text)
            .join(User, User.id == ChatMessage.user_id)
            .where(ChatMessage.tenant_id == tenant_id, User.telegram_id == telegram_id)
            .order_by(ChatMessage.created_at, ChatMessage.id)
        )
        return [(str(d), k, t) for d, k, t in rows]


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(out, "PNG")
    return out.getvalue()


async def test_a_fans_messages_and_the_bots_replies_are_recorded(platform: Platform) -> None:
    bot, tenant_id = await platform.add_tenant("Art Studio")
    alice = await platform.user("Alice")
    await platform.emulator.start(bot, alice)
    welcome = (await platform.replies(bot, alice, 1))[0]
    await platform.emulator.send_message(bot, alice, "hello there")
    await platform.emulator.send_file(
        bot, alice, _png(), filename="a.png", kind="photo", caption="my drawing"
    )
    await platform.emulator.press_button(bot, alice, welcome.message_id, "menu:help")
    await platform.settled(bot, alice)
    assert await conversation(platform, tenant_id, alice.id) == []  # not drained yet

    assert await drain(platform) > 0
    rows = await conversation(platform, tenant_id, alice.id)
    assert rows[0] == ("in", "command", "/start")
    assert rows[1][:2] == ("out", "text") and rows[1][2] == welcome.text  # webhook response
    assert ("in", "text", "hello there") in rows
    assert ("in", "photo", "my drawing") in rows
    assert ("in", "button", "menu:help") in rows
    bot_texts = [e.text or e.caption for e in await platform.settled(bot, alice)]
    assert [t for d, _, t in rows if d == "out"] == bot_texts  # every reply, in order
    assert await drain(platform) == 0  # nothing twice


def _probe_router() -> Router:
    async def probe(message: Message, bot: Bot) -> None:
        await bot.send_message(message.chat.id, "Sent through the Bot API.")

    router = Router(name="chatlog-probe")
    router.message.register(probe, Command("probe"))
    return router


async def test_bot_api_sends_and_resent_updates(start_platform: PlatformFactory) -> None:
    async with start_platform(extra_routers=[_probe_router()]) as platform:
        bot, tenant_id = await platform.add_tenant("Art Studio")
        alice = await platform.user("Alice")
        await platform.emulator.start(bot, alice)
        await platform.emulator.send_command(bot, alice, "probe")
        await platform.settled(bot, alice)
        # Telegram re-sends an update it got no answer for: one row
        update = message_update(77_001, alice, "once only")
        secret = platform.secrets[bot.id]
        for _ in range(3):
            assert (await platform.post_update(bot.id, update, secret=secret)).status_code == 200
        await drain(platform)
        rows = await conversation(platform, tenant_id, alice.id)
        assert ("out", "text", "Sent through the Bot API.") in rows
        assert [r for r in rows if r[2] == "once only"] == [("in", "text", "once only")]
        async with platform.session_factory() as session:
            sent = await session.scalar(
                select(ChatMessage.telegram_message_id).where(
                    ChatMessage.text == "Sent through the Bot API."
                )
            )
        transcript = await platform.settled(bot, alice)
        assert sent == next(
            e.message_id for e in transcript if e.text == "Sent through the Bot API."
        )


async def test_switched_off_records_nothing_and_tenants_stay_apart(platform: Platform) -> None:
    art, art_id = await platform.add_tenant("Art Studio")
    quiet, quiet_id = await platform.add_tenant("Quiet Lab", config={"chat_history": False})
    alice = await platform.user("Alice")
    for bot in (art, quiet):
        await platform.emulator.start(bot, alice)
        await platform.emulator.send_message(bot, alice, f"hi {bot.username}")
        await platform.settled(bot, alice)
    await drain(platform)
    assert await conversation(platform, quiet_id, alice.id) == []
    art_rows = await conversation(platform, art_id, alice.id)
    assert ("in", "text", f"hi {art.username}") in art_rows
    assert all(quiet.username not in text for _, _, text in art_rows)
