"""The assistant in chat: plans shown with their total, run as a workflow, progress edited,
the final video delivered, credits exact; the LLM path; memory and /reset."""

from __future__ import annotations

from redis.asyncio import Redis

from bot.assistant import memory
from devtools.openai.control import ChatReply, ScriptedToolCall
from devtools.openai.testing import running_openai_server
from tests.bot.conftest import Platform
from tests.bot.generation.conftest import (
    balance,
    bot_messages,
    catalog,
    fan_of,
    media_of,
    run_jobs,
    with_text,
)

__all__ = ["catalog"]  # the fixture, imported for this module

DOG = "draw a dog in space, turn it into a 5 second video and add space sounds"
DOG_PRICE = 26  # image 4 + video 5 s × 3 + sound 5 s × 1 + merge 2


async def test_dog_in_space_end_to_end(platform: Platform, catalog: None) -> None:
    fan = await fan_of(platform, credits=100)
    await platform.emulator.send_message(fan.bot, fan.user, DOG)
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "Here is my plan"))
    offer = with_text(entries, "Here is my plan")[0]
    assert f"Total: {DOG_PRICE} credits (your balance: 100)" in (offer.text or "")
    assert "“dog in space”" in (offer.text or "") and "5 s" in (offer.text or "")
    run = offer.buttons[0]["callback_data"]
    assert [b["text"] for b in offer.buttons] == ["Run", "Edit", "Cancel"]
    await platform.emulator.press_button(fan.bot, fan.user, offer.message_id, run)
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "waiting to start"))
    progress = with_text(entries, "waiting to start")[0]
    await platform.settled(fan.bot, fan.user)
    assert (await balance(platform, fan)).reserved == DOG_PRICE

    await run_jobs(platform.settings)

    entries = await bot_messages(platform, fan, lambda e: media_of(e, "video"), within=30)
    video = media_of(entries, "video")[0]
    assert [b["text"] for b in video.buttons] == ["Run again", "Open in drive"]
    final = next(e for e in entries if e.message_id == progress.message_id)
    assert final.edit_date is not None and (final.text or "").startswith("✅ Done")
    assert len(media_of(entries, "photo")) == 0  # only the chain's last output is sent
    after = await balance(platform, fan)
    assert (after.balance, after.reserved) == (100 - DOG_PRICE, 0)


async def test_arabic_request_gets_an_arabic_plan(platform: Platform, catalog: None) -> None:
    fan = await fan_of(platform, credits=100, language="ar")
    await platform.emulator.send_message(
        fan.bot, fan.user, "ارسم كلبا في الفضاء ثم حوله إلى فيديو مدته ٥ ثوان وأضف أصوات الفضاء"
    )
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "هذه خطتي"))
    offer = with_text(entries, "هذه خطتي")[0]
    assert f"الإجمالي: {DOG_PRICE} رصيد" in (offer.text or "")
    assert [b["text"] for b in offer.buttons] == ["تشغيل", "تعديل", "إلغاء"]
    edit = offer.buttons[1]["callback_data"]
    await platform.emulator.press_button(fan.bot, fan.user, offer.message_id, edit)
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "أخبرني بما تريد"))
    assert entries


async def test_small_talk_offline_and_cancel(platform: Platform, catalog: None) -> None:
    fan = await fan_of(platform)
    await platform.emulator.send_message(fan.bot, fan.user, "hello there")
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "I can make pictures"))
    assert entries
    await platform.emulator.send_message(fan.bot, fan.user, "draw a lighthouse")
    entries = await bot_messages(platform, fan, lambda e: with_text(e, "Here is my plan"))
    offer = with_text(entries, "Here is my plan")[0]
    answer = await platform.emulator.press_button(
        fan.bot, fan.user, offer.message_id, offer.buttons[2]["callback_data"]
    )
    assert answer.text == "OK, I dropped that plan."
    entries = await bot_messages(
        platform,
        fan,
        lambda e: [x for x in e if x.message_id == offer.message_id and not x.buttons],
    )
    assert (await balance(platform, fan)).reserved == 0


async def test_llm_plans_with_tool_calls(platform: Platform, catalog: None) -> None:
    fan = await fan_of(platform, credits=100)
    async with running_openai_server() as (base_url, control):
        platform.runtime.settings = platform.settings.model_copy(
            update={"openai_api_key": control.api_key, "openai_base_url": base_url}
        )
        control.queue_chat(
            ChatReply(
                tool_calls=(
                    ScriptedToolCall("image-generate", {"prompt": "a cat astronaut"}),
                    ScriptedToolCall(
                        "video-from-image", {"image": "$steps.0.output", "duration": 2}
                    ),
                )
            ),
            "Hi! I am your creative assistant.",
        )
        await platform.emulator.send_message(fan.bot, fan.user, "make a cat astronaut clip")
        entries = await bot_messages(platform, fan, lambda e: with_text(e, "Here is my plan"))
        offer = with_text(entries, "Here is my plan")[0]
        assert "Total: 10 credits" in (offer.text or "")  # image 4 + video 2 s × 3
        request = control.requests_to("chat/completions")[-1]
        body = request.json
        names = {tool["function"]["name"] for tool in body["tools"]}
        assert {"image-generate", "video-from-image", "video-add-audio"} <= names
        await platform.emulator.send_message(fan.bot, fan.user, "thanks!")
        entries = await bot_messages(platform, fan, lambda e: with_text(e, "creative assistant"))
        assert entries
        last = control.requests_to("chat/completions")[-1]
        body = last.json
        assert any("make a cat astronaut clip" in str(m.get("content")) for m in body["messages"])


async def test_reset_clears_the_memory(platform: Platform, catalog: None, redis_url: str) -> None:
    fan = await fan_of(platform)
    redis: Redis = platform.runtime.redis
    await platform.emulator.send_message(fan.bot, fan.user, "hello there")
    await bot_messages(platform, fan, lambda e: with_text(e, "I can make pictures"))
    remembered = await memory.load(redis, fan.tenant_id, fan.user_id)
    assert [m["role"] for m in remembered.messages] == ["user", "assistant"]
    await platform.emulator.send_message(fan.bot, fan.user, "/reset")
    await bot_messages(platform, fan, lambda e: with_text(e, "forgotten our conversation"))
    assert (await memory.load(redis, fan.tenant_id, fan.user_id)).messages == []


async def test_memory_is_bounded_and_summarised(platform: Platform) -> None:
    redis: Redis = platform.runtime.redis
    for n in range(40):
        await memory.remember(
            redis,
            1,
            2,
            {"role": "user", "content": f"message {n} " + "x" * 5000},
            summarise=memory.plain_summary,
        )
    kept = await memory.load(redis, 1, 2)
    assert len(kept.messages) <= memory.MAX_MESSAGES
    assert all(len(m["content"]) <= memory.MAX_CHARS for m in kept.messages)
    assert kept.messages[-1]["content"].startswith("message 39")
    assert 0 < len(kept.summary) <= memory.MAX_SUMMARY_CHARS
    await memory.forget(redis, 1, 2)
    assert await memory.load(redis, 1, 2) == memory.Memory()
