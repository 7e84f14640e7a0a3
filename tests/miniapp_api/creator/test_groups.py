"""The groups and channels a tenant's bot is in, through the emulator: kept from the bot's own
``my_chat_member`` updates, listed with usage against the plan, refreshed from Telegram, left
on request, and one more than the plan allows refused in the chat's face (politely)."""

from __future__ import annotations

from typing import Any

from core.db import session_scope
from core.models import Tenant, VipPackage
from tests.bot import conftest as bot_fixtures
from tests.bot.conftest import Platform, wait_until
from tests.miniapp_api.creator.insights import Panel, open_panel

emulator = bot_fixtures.emulator
start_platform = bot_fixtures.start_platform
platform = bot_fixtures.platform


async def _handled(panel: Panel) -> None:
    """Every update the emulator queued for the bot was answered by our webhook."""
    await wait_until(
        lambda: panel.platform.emulator.bot_details(panel.bot),
        lambda details: details["pending_update_count"] == 0,
    )


async def _groups(panel: Panel) -> dict[str, Any]:
    await _handled(panel)
    listing: dict[str, Any] = await panel.ok("GET", "/creator/groups")
    return listing


async def _custom_plan(panel: Panel, **limits: int) -> None:
    async with session_scope(panel.platform.session_factory) as session:
        tenant = await session.get(Tenant, panel.tenant_id)
        assert tenant is not None
        tenant.plan = "enterprise"
        tenant.config = {**(tenant.config or {}), "limits": limits}


async def test_groups_follow_the_bot_in_and_out(platform: Platform) -> None:
    panel = await open_panel(platform)
    emulator, owner = platform.emulator, panel.owner.user
    fan = await platform.user("Alice")
    group = await emulator.create_group("Art club", owner=owner, members=[fan], bots=[panel.bot])

    listing = await _groups(panel)
    assert listing["usage"] == {"limit": 5, "used": 1}
    (item,) = listing["items"]
    assert (item["chat_id"], item["type"], item["title"], item["bot_status"]) == (
        group.id,
        "supergroup",
        "Art club",
        "member",
    )
    assert item["added_by"] == owner.id and not item["refused"]
    assert not any(item["rights"].values()) and item["member_count"] is None

    await emulator.promote(group.id, bot=panel.bot)
    (item,) = (await _groups(panel))["items"]
    assert item["bot_status"] == "administrator" and item["rights"]["can_invite_users"]

    refreshed = await panel.ok("POST", f"/creator/groups/{item['id']}/refresh")
    assert refreshed["member_count"] == 3 and refreshed["bot_status"] == "administrator"
    plan = await panel.ok("GET", "/creator/plan")
    assert plan["groups"] == {"limit": 5, "used": 1}

    left = await panel.call("DELETE", f"/creator/groups/{item['id']}")
    assert left.status_code == 204
    assert panel.bot.id not in (await emulator.group(group.id))["bots"]
    listing = await _groups(panel)
    assert listing["usage"]["used"] == 0 and listing["items"][0]["bot_status"] == "left"
    # Telegram no longer shows the chat to the bot: a refresh keeps it as left.
    again = await panel.ok("POST", f"/creator/groups/{item['id']}/refresh")
    assert again["bot_status"] == "left"

    missing = await panel.call("POST", "/creator/groups/999999999/refresh")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    bad = await panel.call("DELETE", "/creator/groups/abc")
    assert bad.status_code == 422 and "error" in bad.json()


async def test_one_group_over_the_plan_is_refused_in_the_tenants_language(
    platform: Platform,
) -> None:
    panel = await open_panel(platform, default_language="tr")
    await _custom_plan(panel, max_groups=1)
    platform.runtime.routes.invalidate(panel.bot.id)
    emulator, owner = platform.emulator, panel.owner.user
    first = await emulator.create_group("First", owner=owner, bots=[panel.bot])
    await _handled(panel)
    second = await emulator.create_group("Second", owner=owner, bots=[panel.bot])

    listing = await _groups(panel)
    assert listing["usage"] == {"limit": 1, "used": 1}
    by_chat = {item["chat_id"]: item for item in listing["items"]}
    assert by_chat[first.id]["bot_status"] == "member" and not by_chat[first.id]["refused"]
    assert by_chat[second.id]["bot_status"] == "left" and by_chat[second.id]["refused"]
    assert panel.bot.id not in (await emulator.group(second.id))["bots"]
    said = await emulator.transcript(panel.bot, second.id, from_bot_only=True)
    assert [e.text for e in said] == [
        "Üzgünüm, Art Studio burada kalamıyor: planı 1 grup ve kanala izin veriyor ve hepsi "
        "dolu. Botun sahibi planı yükseltebilir ya da botu başka bir sohbetten çıkarıp yeniden "
        "ekleyebilir."
    ]

    # Room again once the bot left the first one: the second may be added back.
    await emulator.leave_group(first.id, bot=panel.bot)
    await _handled(panel)
    await emulator.join_group(second.id, bot=panel.bot)
    by_chat = {item["chat_id"]: item for item in (await _groups(panel))["items"]}
    assert by_chat[second.id]["bot_status"] == "member" and not by_chat[second.id]["refused"]


async def test_a_vip_channel_without_the_rights_it_needs_is_flagged(platform: Platform) -> None:
    panel = await open_panel(platform)
    emulator, owner = platform.emulator, panel.owner.user
    channel = await emulator.create_group("VIP lounge", owner=owner, bots=[panel.bot], channel=True)
    async with session_scope(platform.session_factory) as session:
        session.add(
            VipPackage(
                tenant_id=panel.tenant_id, name="Gold", price_stars=50, channel_chat_id=channel.id
            )
        )
    (item,) = (await _groups(panel))["items"]
    assert item["type"] == "channel" and item["used_by"] == ["vip"]
    assert item["missing"] == ["administrator", "can_invite_users", "can_restrict_members"]
    await emulator.promote(channel.id, bot=panel.bot)
    (item,) = (await _groups(panel))["items"]
    assert item["missing"] == [] and item["rights"]["can_post_messages"]
