"""Join-a-channel tasks end to end: the panel refuses a channel where the bot is not an
administrator (and says so), fans are verified with ``getChatMember`` through the emulator, a
fan who left is not rewarded, a completed task is rewarded once, and a bot that loses its
rights shows up as a problem in the panel instead of failing fans silently."""

from __future__ import annotations

from core import ledger
from tests.bot import conftest as bot_fixtures
from tests.bot.conftest import Platform
from tests.miniapp_api.creator.insights import Panel, open_panel

emulator = bot_fixtures.emulator
start_platform = bot_fixtures.start_platform
platform = bot_fixtures.platform


async def _channel(
    panel: Panel, *, admin: bool, member: bool = True, name: str = "artnews1"
) -> int:
    emulator = panel.platform.emulator
    owner = panel.owner.user
    if admin:
        group = await emulator.create_group(
            "Art News", owner=owner, admins=[panel.bot], channel=True, username=name
        )
    else:
        bots = [panel.bot] if member else []
        group = await emulator.create_group(
            "Art News", owner=owner, bots=bots, channel=True, username=name
        )
    return group.id


def _join_task(chat: str) -> dict[str, object]:
    return {
        "kind": "join_channel",
        "title": "Join Art News",
        "chat": chat,
        "reward_xp": 50,
        "reward_credits": 20,
    }


async def test_panel_refuses_a_channel_where_the_bot_is_not_admin(platform: Platform) -> None:
    panel = await open_panel(platform)
    await _channel(panel, admin=False, name="quietnews")
    check = await panel.ok("POST", "/creator/tasks/check-chat", json={"chat": "@quietnews"})
    assert check["bot_is_admin"] is False
    assert check["bot_status"] == "member"
    assert check["problem"] == "bot_not_admin"
    assert "administrator" in check["message"]

    refused = await panel.call("POST", "/creator/tasks", json=_join_task("t.me/quietnews"))
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "bot_not_admin"
    assert f"@{panel.bot.username} is not an administrator of Art News" in error["message"]

    await _channel(panel, admin=False, member=False, name="elsewhere")
    missing = await panel.call("POST", "/creator/tasks", json=_join_task("@elsewhere"))
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "chat_not_found"
    nonsense = await panel.call("POST", "/creator/tasks", json=_join_task("not a channel!"))
    assert nonsense.status_code == 422
    assert (await panel.ok("GET", "/creator/tasks"))["items"] == []


async def test_joining_fan_is_rewarded_once_and_a_fan_who_left_is_not(
    platform: Platform,
) -> None:
    panel = await open_panel(platform)
    channel_id = await _channel(panel, admin=True, name="artnews2")
    created = await panel.ok("POST", "/creator/tasks", json=_join_task("https://t.me/artnews2"))
    assert (created["chat_id"], created["chat_title"]) == (channel_id, "Art News")
    assert created["chat_url"] == "https://t.me/artnews2" and created["problem"] is None
    task_id = created["id"]

    alice = await panel.fan("Alice")
    listed = await panel.ok("GET", "/tasks", alice)
    assert [(t["id"], t["status"], t["action_url"]) for t in listed["tasks"]] == [
        (task_id, "available", "https://t.me/artnews2")
    ]
    assert listed["tasks"][0]["reward"]["text"] == "50 XP, 20 credits"

    early = await panel.ok("POST", f"/tasks/{task_id}/claim", alice, json={})
    assert early["outcome"] == "not_yet"
    assert early["message"] == "You haven't joined Art News yet. Join it, then tap Check again."

    await platform.emulator.join_group(channel_id, user=alice.user)
    done = await panel.ok("POST", f"/tasks/{task_id}/claim", alice, json={})
    assert done["outcome"] == "completed"
    assert done["message"] == "✅ Done: Join Art News! You received 50 XP, 20 credits."
    assert (done["task"]["status"], done["level"]["xp"]) == ("completed", 50)
    # Leaving afterwards takes nothing back, and claiming again gives nothing more.
    await platform.emulator.leave_group(channel_id, user=alice.user)
    again = await panel.ok("POST", f"/tasks/{task_id}/claim", alice, json={})
    assert again["outcome"] == "already_completed"
    assert (await panel.ok("GET", "/wallet", alice))["balance"] == 20
    assert (await panel.ok("GET", "/tasks/me", alice))["xp"] == 50

    # Bob joined and left before checking: not a member now, so no reward.
    bob = await panel.fan("Bob")
    await platform.emulator.join_group(channel_id, user=bob.user)
    await platform.emulator.leave_group(channel_id, user=bob.user)
    left = await panel.ok("POST", f"/tasks/{task_id}/claim", bob, json={})
    assert left["outcome"] == "not_yet"
    assert (await panel.ok("GET", "/wallet", bob))["balance"] == 0

    counted = await panel.ok("GET", f"/creator/tasks/{task_id}")
    assert (counted["completed"], counted["pending"]) == (1, 0)


async def test_lost_admin_rights_show_in_the_panel(platform: Platform) -> None:
    panel = await open_panel(platform)
    channel_id = await _channel(panel, admin=True, name="artnews3")
    task_id = (await panel.ok("POST", "/creator/tasks", json=_join_task("@artnews3")))["id"]
    alice = await panel.fan("Alice")
    await platform.emulator.join_group(channel_id, user=alice.user)

    await platform.emulator.demote(channel_id, bot=panel.bot)
    blocked = await panel.ok("POST", f"/tasks/{task_id}/claim", alice, json={})
    assert blocked["outcome"] == "unavailable"
    assert blocked["message"] == "This task can't be checked right now. Please try again later."
    task = await panel.ok("GET", f"/creator/tasks/{task_id}")
    assert task["problem"] == "bot_not_admin"
    assert "not an administrator" in task["problem_message"]

    await platform.emulator.promote(channel_id, bot=panel.bot)
    fixed = await panel.ok("POST", f"/creator/tasks/{task_id}/recheck")
    assert fixed["problem"] is None
    done = await panel.ok("POST", f"/tasks/{task_id}/claim", alice, json={})
    assert done["outcome"] == "completed"


async def test_task_rewards_reach_the_ledger_once(platform: Platform) -> None:
    panel = await open_panel(platform)
    channel_id = await _channel(panel, admin=True, name="artnews4")
    task_id = (await panel.ok("POST", "/creator/tasks", json=_join_task("@artnews4")))["id"]
    alice = await panel.fan("Alice")
    await platform.emulator.join_group(channel_id, user=alice.user)
    await panel.ok("POST", f"/tasks/{task_id}/claim", alice, json={})
    async with platform.session_factory() as session:
        user_id = (await panel.ok("GET", "/auth/me", alice))["user_id"]
        balance = await ledger.user_balance(session, panel.tenant_id, user_id)
    assert balance.balance == 20
    history = (await panel.ok("GET", "/wallet/history", alice))["entries"]
    assert [(e["kind"], e["amount"], e["reason"]) for e in history] == [
        ("credit", 20, "task reward")
    ]
