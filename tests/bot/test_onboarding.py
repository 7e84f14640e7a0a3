"""The manager bot end to end: /newbot, the token, every refusal, /mybots toggles."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.onboarding.service import toggle_tenant
from core.errors import PermissionDeniedError
from core.models import Tenant, TenantRole
from devtools.telegram.client import BotInfo, UserInfo
from tests.bot.conftest import Platform, wait_until


async def _tenant_count(platform: Platform) -> int:
    async with platform.session_factory() as session:
        return (await session.execute(select(func.count()).select_from(Tenant))).scalar_one()


async def _send_token(platform: Platform, manager: BotInfo, creator: UserInfo, token: str) -> str:
    """/newbot, then the token; returns the manager's answer to the token."""
    before = len(await platform.settled(manager, creator))
    await platform.emulator.send_command(manager, creator, "newbot")
    asked = await platform.replies(manager, creator, before + 1)
    assert asked[-1].text.startswith("Send me your bot's token")
    sent = await platform.emulator.send_message(manager, creator, token)
    answer = await platform.replies(manager, creator, before + 2)
    everything = await platform.emulator.transcript(manager, creator, include_deleted=True)
    token_message = next(e for e in everything if e.message_id == sent.message_id)
    assert token_message.deleted, "the token must be deleted from the chat"
    return answer[-1].text or ""


@pytest.fixture
async def manager(platform: Platform) -> BotInfo:
    bot, _ = await platform.add_tenant("Atelier", role=TenantRole.PLATFORM)
    return bot


async def test_connect_a_bot_end_to_end(platform: Platform, manager: BotInfo) -> None:
    creator = await platform.user("Carla")
    await platform.emulator.start(manager, creator)
    welcome = await platform.replies(manager, creator, 1)
    assert "/newbot" in (welcome[0].text or "")
    new_bot = await platform.emulator.create_bot(username="carla_art_bot", first_name="Carla Art")

    answer = await _send_token(platform, manager, creator, new_bot.token)

    assert answer.startswith("@carla_art_bot is connected!")
    assert "Plan: Basic" in answer
    assert f"{platform.api_url}/app/?bot={new_bot.id}#creator" in answer
    details = await platform.emulator.bot_details(new_bot)
    assert details["webhook_url"] == f"{platform.api_url}/tg/{new_bot.id}"
    async with platform.session_factory() as session:
        tenant = (
            await session.execute(select(Tenant).where(Tenant.owner_telegram_id == creator.id))
        ).scalar_one()
        assert (tenant.role, tenant.plan) == (TenantRole.CREATOR, "basic")

    # the new bot serves fans right away, through the same runtime
    fan = await platform.user("Fiona")
    await platform.emulator.start(new_bot, fan)
    assert (await platform.replies(new_bot, fan, 1))[0].text.startswith("Hi Fiona! Welcome to")


async def test_every_bad_token_gets_a_clear_reply_and_creates_nothing(
    platform: Platform, manager: BotInfo
) -> None:
    creator = await platform.user("Carla")
    await platform.emulator.start(manager, creator)
    taken, _ = await platform.add_tenant("Someone Else")
    revoked = await platform.emulator.create_bot(username="revoked_bot", first_name="Revoked")
    await platform.emulator.revoke_token(revoked)
    unknown = f"{revoked.id + 4242}:{'A' * 35}"
    tenants_before = await _tenant_count(platform)

    cases = {
        "hello, here is my token": "That doesn't look like a bot token.",
        revoked.token: "Telegram rejected this token",
        unknown: "Telegram rejected this token",
        taken.token: "This bot is already connected to Atelier.",
        manager.token: "That is my own token!",
    }
    for token, expected in cases.items():
        assert (await _send_token(platform, manager, creator, token)).startswith(expected)
    assert await _tenant_count(platform) == tenants_before


async def test_mybots_toggles_only_for_the_owner(platform: Platform, manager: BotInfo) -> None:
    creator = await platform.user("Carla")
    await platform.emulator.start(manager, creator)
    new_bot = await platform.emulator.create_bot(username="carla_toggle_bot", first_name="Carla")
    await _send_token(platform, manager, creator, new_bot.token)

    await platform.emulator.send_command(manager, creator, "mybots")
    listing = (await platform.replies(manager, creator, 4))[-1]
    assert "@carla_toggle_bot – active" in (listing.text or "")
    button = listing.buttons[0]
    assert len(button["callback_data"].encode()) <= 64
    answer = await platform.emulator.press_button(
        manager, creator, listing.message_id, button["callback_data"]
    )
    assert answer.text == (
        "@carla_toggle_bot is disabled. Fans get no answers until you enable it again."
    )

    fan = await platform.user("Fiona")
    await platform.emulator.start(new_bot, fan)
    await wait_until(
        lambda: platform.emulator.bot_details(new_bot),
        lambda details: details["pending_update_count"] == 0,
    )
    assert await platform.emulator.transcript(new_bot, fan, from_bot_only=True) == []

    edited = (await platform.emulator.transcript(manager, creator, from_bot_only=True))[-1]
    assert "disabled" in (edited.text or "")
    again = await platform.emulator.press_button(
        manager, creator, edited.message_id, edited.buttons[0]["callback_data"]
    )
    assert again.text == "@carla_toggle_bot is active again."

    tenant_id = int(button["callback_data"].split(":")[1])
    async with platform.session_factory() as session:
        with pytest.raises(PermissionDeniedError):
            await toggle_tenant(session, tenant_id, owner_telegram_id=fan.id)
