"""``/tasks`` and ``/stats`` in the chat, through the emulator: tasks with Check buttons that
verify and reward, ``/stats`` as a real PNG chart for admins only, and the Redis-gated record
of the days a fan was active."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import httpx
import redis.asyncio as redis_asyncio
from PIL import Image
from sqlalchemy import select

from core.models import Task, TaskKind, Tenant, UserActivityDay
from devtools.telegram.client import BotInfo, TranscriptEntry, UserInfo
from tenants import admins
from tenants.stats import service as stats
from tests.bot.conftest import Platform, wait_until


async def _owned_tenant(platform: Platform) -> tuple[BotInfo, int, UserInfo]:
    owner = await platform.user("Owner")
    bot, tenant_id = await platform.add_tenant("Art Studio", owner_telegram_id=owner.id)
    return bot, tenant_id, owner


async def _last(platform: Platform, bot: BotInfo, user: UserInfo, n: int) -> TranscriptEntry:
    return (await platform.replies(bot, user, n))[-1]


async def test_tasks_command_checks_and_rewards(platform: Platform) -> None:
    bot, tenant_id, owner = await _owned_tenant(platform)
    channel = await platform.emulator.create_group(
        "Art News", owner=owner, admins=[bot], channel=True, username="artnews_chat"
    )
    async with platform.session_factory() as session:
        session.add_all(
            [
                Task(
                    tenant_id=tenant_id,
                    kind=TaskKind.JOIN_CHANNEL.value,
                    title="Join Art News",
                    chat_id=channel.id,
                    chat_title="Art News",
                    chat_url="https://t.me/artnews_chat",
                    reward_xp=120,
                    position=0,
                ),
                Task(
                    tenant_id=tenant_id,
                    kind=TaskKind.CUSTOM.value,
                    title="Share a drawing",
                    reward_credits=5,
                    position=1,
                ),
            ]
        )
        await session.commit()
    alice = await platform.user("Alice")
    await platform.emulator.start(bot, alice)
    await platform.emulator.send_command(bot, alice, "tasks")
    listing = await _last(platform, bot, alice, 2)
    assert listing.text == (
        "🏆 Level 1 – Newcomer · 0 XP\n\nComplete tasks to earn rewards:\n"
        "100 XP to the next level.\n\n"
        "⬜ Join Art News — 120 XP\n⬜ Share a drawing — 5 credits"
    )
    buttons = [b for row in listing.reply_markup["inline_keyboard"] for b in row]
    check, proof = buttons
    assert check["text"] == "Check: Join Art News"
    assert proof["text"] == "Send proof: Share a drawing" and proof["web_app"]["url"].endswith(
        "#tasks"
    )

    await platform.emulator.press_button(bot, alice, listing.message_id, check["callback_data"])
    assert (await _last(platform, bot, alice, 3)).text == (
        "You haven't joined Art News yet. Join it, then tap Check again."
    )
    await platform.emulator.join_group(channel.id, user=alice)
    await platform.emulator.press_button(bot, alice, listing.message_id, check["callback_data"])
    assert (await _last(platform, bot, alice, 4)).text == (
        "✅ Done: Join Art News! You received 120 XP."
    )
    await platform.emulator.press_button(bot, alice, listing.message_id, check["callback_data"])
    assert (await _last(platform, bot, alice, 5)).text == (
        "You have already completed “Join Art News”."
    )
    await platform.emulator.send_command(bot, alice, "tasks")
    after = await _last(platform, bot, alice, 6)
    assert (after.text or "").startswith("🏆 Level 2 – Fan · 120 XP")
    assert "✅ Join Art News — 120 XP" in (after.text or "")
    assert [b["text"] for row in after.reply_markup["inline_keyboard"] for b in row] == [
        "Send proof: Share a drawing"
    ]


async def test_tasks_in_turkish_without_tasks(platform: Platform) -> None:
    bot, _, _ = await _owned_tenant(platform)
    ayse = await platform.user("Ayse", language_code="tr")
    await platform.emulator.start(bot, ayse)
    await platform.emulator.send_command(bot, ayse, "tasks")
    assert (await _last(platform, bot, ayse, 2)).text == (
        "🏆 Seviye 1 – Yeni gelen · 0 XP\n\nÖdül kazanmak için görevleri tamamla:\n"
        "Sonraki seviyeye 100 XP kaldı.\n\nŞu anda görev yok. Daha sonra tekrar bak!"
    )


async def _png_of(platform: Platform, entry: TranscriptEntry) -> Image.Image:
    assert entry.media is not None and entry.media["kind"] == "photo"
    async with httpx.AsyncClient(base_url=platform.emulator_url, timeout=10) as client:
        response = await client.get(f"/_emulator/files/{entry.media['file_id']}")
    assert response.status_code == 200
    assert response.content.startswith(b"\x89PNG")
    image = Image.open(io.BytesIO(response.content))
    image.load()
    return image


async def test_stats_sends_a_chart_to_admins_only(platform: Platform) -> None:
    bot, tenant_id, owner = await _owned_tenant(platform)
    fans = [await platform.user(f"Fan{n}") for n in range(3)]
    for person in (*fans, owner):
        await platform.emulator.start(bot, person)
        await platform.replies(bot, person, 1)  # the welcome: the fan's row is written
    async with platform.session_factory() as session:
        await stats.rollup_recent(session, datetime.now(UTC))
        await session.commit()

    await platform.emulator.send_command(bot, owner, "stats")
    await wait_until(
        lambda: platform.emulator.transcript(bot, owner, from_bot_only=True),
        lambda entries: any(e.media for e in entries),
    )
    photo = [e for e in await platform.emulator.transcript(bot, owner) if e.media][-1]
    image = await _png_of(platform, photo)
    assert image.size == (1200, 720) and image.format == "PNG"
    caption = photo.caption or ""
    assert caption.startswith("📊 Art Studio – last 30 days")
    assert "New fans: 4 (total 4)" in caption
    assert "Active fans today: 4 (" in caption

    # A co-admin in Russian gets it in Russian, for 7 days.
    helper = await platform.user("Helper", language_code="ru")
    await platform.emulator.start(bot, helper)
    async with platform.session_factory() as session:
        tenant = await session.get(Tenant, tenant_id)
        assert tenant is not None
        await admins.add_admin(session, tenant, by_telegram_id=owner.id, telegram_id=helper.id)
        await session.commit()
    await platform.emulator.send_command(bot, helper, "stats 7")
    await wait_until(
        lambda: platform.emulator.transcript(bot, helper, from_bot_only=True),
        lambda entries: any(e.media for e in entries),
    )
    russian = [e for e in await platform.emulator.transcript(bot, helper) if e.media][-1]
    assert (russian.caption or "").startswith("📊 Art Studio – последние 7 дн.")
    await _png_of(platform, russian)

    # A fan is told the command does not exist: /stats is not theirs to know about.
    await platform.emulator.send_command(bot, fans[0], "stats")
    reply = await _last(platform, bot, fans[0], 2)
    assert reply.text == "I don't know the command /stats. Send /help to see what I can do."
    assert reply.media is None


async def test_a_fans_day_is_recorded_once_behind_the_redis_gate(
    platform: Platform, redis_url: str
) -> None:
    bot, tenant_id, _ = await _owned_tenant(platform)
    alice = await platform.user("Alice")
    await platform.emulator.start(bot, alice)
    for n in range(4):
        await platform.emulator.send_command(bot, alice, "balance")
        await platform.replies(bot, alice, n + 2)
    await platform.settled(bot, alice)
    async with platform.session_factory() as session:
        rows = (
            await session.execute(
                select(UserActivityDay.source, UserActivityDay.day).where(
                    UserActivityDay.tenant_id == tenant_id
                )
            )
        ).all()
        user_id = (
            await session.execute(
                select(UserActivityDay.user_id).where(UserActivityDay.tenant_id == tenant_id)
            )
        ).scalar_one()
    today = datetime.now(UTC).date()
    assert rows == [("bot", today)]
    client = redis_asyncio.from_url(redis_url)
    try:
        key = f"act:{tenant_id}:{user_id}:bot:{today:%Y%m%d}"
        assert await client.get(key) == b"1"  # confirmed after the update committed
        assert await client.ttl(key) > 24 * 3600
    finally:
        await client.aclose()
