"""The plan's ``messages_per_day``: the assistant's replies per tenant per UTC day. Past it a
fan gets a polite "try tomorrow" (commands still work), the creator hears of it once that
day, and the LLM is not asked at all."""

from __future__ import annotations

import httpx
from redis.asyncio import Redis

from core.db import session_scope
from core.models import Tenant
from devtools.openai.control import ChatReply
from devtools.openai.testing import running_openai_server
from devtools.telegram.client import BotInfo, UserInfo
from tenants import plans
from tests.bot.conftest import Platform
from tests.bot.generation.conftest import run_jobs, with_text
from tests.miniapp_api.creator.insights import sign_in

LIMIT_TEXT = "The assistant has answered all it can for today"


async def _tenant(platform: Platform, limit: int) -> tuple[BotInfo, int, UserInfo, UserInfo]:
    """A custom-plan tenant whose assistant may answer ``limit`` times a day; its owner and a
    fan have both started the bot."""
    owner = await platform.user("Owner")
    bot, tenant_id = await platform.add_tenant(
        owner_telegram_id=owner.id, config={"limits": {"messages_per_day": limit}}
    )
    async with session_scope(platform.session_factory) as session:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None
        tenant.plan = "enterprise"
    platform.runtime.routes.invalidate(bot.id)
    fan = await platform.user("Alice")
    for person in (owner, fan):
        await platform.emulator.start(bot, person)
    await platform.replies(bot, fan, 1)
    return bot, tenant_id, owner, fan


async def _say(platform: Platform, bot: BotInfo, fan: UserInfo, text: str) -> str:
    before = len(await platform.settled(bot, fan))
    await platform.emulator.send_message(bot, fan, text)
    entries = await platform.replies(bot, fan, before + 1)
    return entries[-1].text or ""


async def test_offline_assistant_stops_at_the_limit_and_tells_the_owner_once(
    platform: Platform,
) -> None:
    bot, tenant_id, owner, fan = await _tenant(platform, limit=2)
    assert "I can make pictures" in await _say(platform, bot, fan, "hello")
    assert "I can make pictures" in await _say(platform, bot, fan, "hello again")
    assert LIMIT_TEXT in await _say(platform, bot, fan, "one more?")
    other = await platform.user("Bob", language_code="ru")
    await platform.emulator.start(bot, other)
    await platform.replies(bot, other, 1)
    assert "Ассистент уже ответил на всё" in await _say(platform, bot, other, "привет")
    assert "forgotten our conversation" in await _say(platform, bot, fan, "/reset")

    redis: Redis = platform.runtime.redis
    used = await redis.get(plans.assistant_quota_key(tenant_id, plans.utc_day()))
    assert int(used) == 4  # two answered, two refused

    await run_jobs(platform.settings)
    told = with_text(
        await platform.emulator.transcript(bot, owner, from_bot_only=True), "answered 2 messages"
    )
    assert len(told) == 1 and "/plan" in (told[0].text or "")

    # The panel's plan shows the replies answered, not the refusals counted.
    async with httpx.AsyncClient(base_url=platform.api_url, timeout=10) as client:
        token = await sign_in(platform, bot, owner)
        plan = await client.get(
            "/api/v1/creator/plan", headers={"Authorization": f"Bearer {token}"}
        )
    assert plan.json()["assistant_messages_per_day"] == {"limit": 2, "used": 2}


async def test_the_llm_is_not_asked_past_the_limit(platform: Platform) -> None:
    bot, _, _, fan = await _tenant(platform, limit=1)
    async with running_openai_server() as (base_url, control):
        platform.runtime.settings = platform.settings.model_copy(
            update={"openai_api_key": control.api_key, "openai_base_url": base_url}
        )
        control.queue_chat(ChatReply(content="Hello from the model."))
        assert await _say(platform, bot, fan, "hi") == "Hello from the model."
        assert LIMIT_TEXT in await _say(platform, bot, fan, "and again")
        assert len(control.requests_to("chat/completions")) == 1
