"""An update whose handler outlives the response deadline: Telegram gets its 200 at once
(so it neither waits nor re-sends), and the reply still reaches the fan through the Bot API."""

from __future__ import annotations

import asyncio
import time

from aiogram import Router
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import Message

from tests.bot.conftest import PlatformFactory
from tests.bot.test_routing import message_update


def _slow_router() -> Router:
    async def slow(message: Message) -> SendMessage:
        await asyncio.sleep(0.6)
        return message.answer("Finally done.")

    router = Router(name="slow-probe")
    router.message.register(slow, Command("slow"))
    return router


async def test_a_slow_update_is_answered_early_and_replied_later(
    start_platform: PlatformFactory,
) -> None:
    async with start_platform(extra_routers=[_slow_router()]) as platform:
        platform.runtime.response_deadline = 0.2
        bot, _ = await platform.add_tenant("Art Studio")
        alice = await platform.user("Alice")
        await platform.emulator.start(bot, alice)  # the chat exists: the bot may write to it
        assert len(await platform.settled(bot, alice)) == 1

        started = time.monotonic()
        response = await platform.post_update(
            bot.id, message_update(10_001, alice, "/slow"), secret=platform.secrets[bot.id]
        )
        assert response.status_code == 200
        assert response.content == b"{}"  # answered without the reply...
        assert time.monotonic() - started < 0.55
        replies = await platform.replies(bot, alice, 2)  # ...which comes by the Bot API
        assert replies[1].text == "Finally done."

        fast = await platform.post_update(
            bot.id, message_update(10_002, alice, "/help"), secret=platform.secrets[bot.id]
        )
        assert fast.json()["method"] == "sendMessage"  # a fast one still rides in the response
