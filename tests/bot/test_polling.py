"""``atelier bot poll``: one bot with getUpdates, through the same stack as the webhook."""

from __future__ import annotations

import asyncio
import contextlib

from bot.runtime import poll_bot
from tests.bot.conftest import Platform


async def test_polling_serves_a_bot(platform: Platform) -> None:
    bot, _ = await platform.add_tenant("Art Studio")
    alice = await platform.user("Alice")
    task = asyncio.create_task(poll_bot(platform.settings, bot.id, handle_signals=False))
    try:
        await platform.emulator.start(bot, alice)
        replies = await platform.replies(bot, alice, 1, within=10)
        assert replies[0].text.startswith("Hi Alice! Welcome to Art Studio.")
        details = await platform.emulator.bot_details(bot)
        assert details["webhook_url"] is None
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
