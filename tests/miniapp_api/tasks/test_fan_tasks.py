"""Tasks from the fan's side: invite-friends counts referrals, open-the-app counts UTC days in a
row (moved with an injectable clock), custom tasks wait for the creator's review, levels follow
XP — and however many claims race, a task is rewarded exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

from sqlalchemy import func, select

from core.models import LedgerEntry, Referral, TaskCompletion, User
from tests.bot import conftest as bot_fixtures
from tests.bot.conftest import Platform, wait_until
from tests.miniapp_api.creator.insights import Panel, Person, open_panel, sign_in

emulator = bot_fixtures.emulator
start_platform = bot_fixtures.start_platform
platform = bot_fixtures.platform

DAY1 = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
_friend_ids = count(900_000_001)


async def _user_id(panel: Panel, person: Person) -> int:
    me = await panel.ok("GET", "/auth/me", person)
    return int(me["user_id"])


async def _refer(panel: Panel, referrer: Person, how_many: int) -> None:
    """``count`` friends who joined through the fan's link (as the bot records them)."""
    referrer_id = await _user_id(panel, referrer)
    async with panel.platform.session_factory() as session:
        for _ in range(how_many):
            friend = User(tenant_id=panel.tenant_id, telegram_id=next(_friend_ids))
            session.add(friend)
            await session.flush()
            session.add(
                Referral(tenant_id=panel.tenant_id, referrer_id=referrer_id, referred_id=friend.id)
            )
        await session.commit()


def _task(kind: str, **fields: Any) -> dict[str, Any]:
    return {"kind": kind, "title": f"{kind} task", "reward_xp": 40, **fields}


async def test_invite_friends_counts_referrals(platform: Platform) -> None:
    panel = await open_panel(platform)
    task = await panel.ok(
        "POST", "/creator/tasks", json=_task("invite_friends", target=3, reward_credits=15)
    )
    alice = await panel.fan("Alice")
    await _refer(panel, alice, 2)
    listed = (await panel.ok("GET", "/tasks", alice))["tasks"][0]
    assert (listed["progress"], listed["target"]) == (2, 3)
    assert listed["action_url"].startswith(f"https://t.me/{panel.bot.username}?start=ref_")
    short = await panel.ok("POST", f"/tasks/{task['id']}/claim", alice, json={})
    assert short["outcome"] == "not_yet"
    assert short["message"] == (
        "You have invited 2 of 3 friends so far. Send /invite to get your link."
    )
    await _refer(panel, alice, 1)
    done = await panel.ok("POST", f"/tasks/{task['id']}/claim", alice, json={})
    assert done["outcome"] == "completed"
    assert (await panel.ok("GET", "/wallet", alice))["balance"] == 15


async def test_open_app_streak_across_days(platform: Platform) -> None:
    panel = await open_panel(platform)
    task = await panel.ok("POST", "/creator/tasks", json=_task("open_app_streak", target=3))
    alice = await panel.fan("Alice")

    async def open_on(moment: datetime) -> int:
        panel.set_clock(moment)
        return int((await panel.ok("POST", "/tasks/opens", alice))["streak"])

    assert await open_on(DAY1) == 1
    assert await open_on(DAY1 + timedelta(minutes=10)) == 1  # the same UTC day
    assert await open_on(DAY1 + timedelta(hours=2)) == 2  # 00:30 the next day
    panel.set_clock(DAY1 + timedelta(days=1, hours=12))
    not_yet = await panel.ok("POST", f"/tasks/{task['id']}/claim", alice, json={})
    assert (not_yet["outcome"], not_yet["task"]["progress"]) == ("not_yet", 2)
    assert not_yet["message"] == (
        "You have opened the app 2 of 3 days in a row. Come back tomorrow!"
    )
    # A day missed: the streak starts again.
    assert await open_on(DAY1 + timedelta(days=3)) == 1
    assert await open_on(DAY1 + timedelta(days=4)) == 2
    # Signing in counts as opening the app.
    panel.set_clock(DAY1 + timedelta(days=5))
    alice.token = await sign_in(platform, panel.bot, alice.user)
    listed = (await panel.ok("GET", "/tasks", alice))["tasks"][0]
    assert listed["progress"] == 3
    done = await panel.ok("POST", f"/tasks/{task['id']}/claim", alice, json={})
    assert done["outcome"] == "completed" and done["level"]["xp"] == 40
    # The streak holds until the day after is over (03-07 22:30), then breaks (03-08 00:30).
    panel.set_clock(DAY1 + timedelta(days=6))
    assert (await panel.ok("GET", "/tasks", alice))["tasks"][0]["progress"] == 3
    panel.set_clock(DAY1 + timedelta(days=6, hours=2))
    assert (await panel.ok("GET", "/tasks", alice))["tasks"][0]["progress"] == 0


async def test_custom_task_review_and_notifications(platform: Platform) -> None:
    panel = await open_panel(platform)
    task = await panel.ok(
        "POST",
        "/creator/tasks",
        json=_task("custom", title="Share a drawing", reward_credits=30),
    )
    alice = await panel.fan("Alice")
    missing = await panel.ok("POST", f"/tasks/{task['id']}/claim", alice, json={})
    assert missing["outcome"] == "proof_required"
    sent = await panel.ok(
        "POST", f"/tasks/{task['id']}/claim", alice, json={"proof": "https://x.test/1"}
    )
    assert (sent["outcome"], sent["task"]["status"]) == ("pending_review", "pending")

    queue = await panel.ok("GET", "/creator/tasks/submissions")
    assert [(s["task_title"], s["proof"], s["status"]) for s in queue["items"]] == [
        ("Share a drawing", "https://x.test/1", "pending")
    ]
    submission_id = queue["items"][0]["id"]
    rejected = await panel.ok("POST", f"/creator/tasks/submissions/{submission_id}/reject")
    assert rejected["status"] == "rejected"
    again = await panel.call("POST", f"/creator/tasks/submissions/{submission_id}/approve")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_reviewed"

    await wait_until(
        lambda: platform.emulator.transcript(panel.bot, alice.user, from_bot_only=True),
        lambda entries: any("was not accepted" in (e.text or "") for e in entries),
    )
    await panel.ok("POST", f"/tasks/{task['id']}/claim", alice, json={"proof": "https://x.test/2"})
    approved = await panel.ok("POST", f"/creator/tasks/submissions/{submission_id}/approve")
    assert (approved["status"], approved["proof"]) == ("completed", "https://x.test/2")
    await wait_until(
        lambda: platform.emulator.transcript(panel.bot, alice.user, from_bot_only=True),
        lambda entries: any(
            (e.text or "")
            == "✅ Your proof for “Share a drawing” was approved! You received 40 XP, 30 credits."
            for e in entries
        ),
    )
    assert (await panel.ok("GET", "/wallet", alice))["balance"] == 30
    late = await panel.ok("POST", f"/tasks/{task['id']}/claim", alice, json={"proof": "more"})
    assert late["outcome"] == "already_completed"
    assert (await panel.ok("GET", "/creator/tasks/submissions"))["items"] == []


async def test_racing_claims_and_approvals_reward_once(platform: Platform) -> None:
    panel = await open_panel(platform)
    invite = await panel.ok(
        "POST", "/creator/tasks", json=_task("invite_friends", target=1, reward_credits=25)
    )
    custom = await panel.ok("POST", "/creator/tasks", json=_task("custom", reward_credits=7))
    alice = await panel.fan("Alice")
    await _refer(panel, alice, 1)

    claims = await asyncio.gather(
        *(panel.call("POST", f"/tasks/{invite['id']}/claim", alice, json={}) for _ in range(12))
    )
    outcomes = sorted(r.json()["outcome"] for r in claims)
    assert outcomes == ["already_completed"] * 11 + ["completed"]

    await panel.ok("POST", f"/tasks/{custom['id']}/claim", alice, json={"proof": "done"})
    submission_id = (await panel.ok("GET", "/creator/tasks/submissions"))["items"][0]["id"]
    reviews = await asyncio.gather(
        *(
            panel.call("POST", f"/creator/tasks/submissions/{submission_id}/approve")
            for _ in range(6)
        )
    )
    assert sorted(r.status_code for r in reviews) == [200] + [409] * 5

    user_id = await _user_id(panel, alice)
    async with platform.session_factory() as session:
        completions = await session.scalar(
            select(func.count()).where(TaskCompletion.user_id == user_id)
        )
        rewards = (
            await session.execute(
                select(LedgerEntry.amount).where(
                    LedgerEntry.tenant_id == panel.tenant_id, LedgerEntry.reason == "task reward"
                )
            )
        ).scalars()
        assert completions == 2
        assert sorted(rewards) == [7, 25]
    assert (await panel.ok("GET", "/wallet", alice))["balance"] == 32
    assert (await panel.ok("GET", "/tasks/me", alice))["xp"] == 80


async def test_levels_follow_xp_in_the_fans_language(platform: Platform) -> None:
    panel = await open_panel(platform)
    task = await panel.ok(
        "POST", "/creator/tasks", json=_task("invite_friends", target=1, reward_xp=120)
    )
    boris = await panel.fan("Boris", language_code="ru")
    start = await panel.ok("GET", "/tasks/me", boris)
    assert (start["number"], start["name"], start["next_at"]) == (1, "Новичок", 100)
    await _refer(panel, boris, 1)
    await panel.ok("POST", f"/tasks/{task['id']}/claim", boris, json={})
    assert (await panel.ok("GET", "/tasks/me", boris))["name"] == "Фанат"

    custom = {
        "levels": [
            {"xp": 0, "names": {"en": "Rookie", "ru": "Салага"}},
            {"xp": 100, "names": {"en": "Regular"}},
            {"xp": 500, "names": {"en": "Patron", "ru": "Меценат"}},
        ]
    }
    ladder = await panel.ok("PUT", "/creator/tasks/levels", json=custom)
    assert ladder["custom"] is True
    assert [lvl["names"]["ru"] for lvl in ladder["levels"]] == ["Салага", "Regular", "Меценат"]
    level = await panel.ok("GET", "/tasks/me", boris)
    assert (level["number"], level["name"], level["floor"], level["next_at"]) == (
        2,
        "Regular",
        100,
        500,
    )
    bad = await panel.call(
        "PUT", "/creator/tasks/levels", json={"levels": [{"xp": 10, "names": {}}]}
    )
    assert bad.status_code == 422 and "0 XP" in bad.json()["error"]["message"]
    reset = await panel.ok("PUT", "/creator/tasks/levels", json={"levels": None})
    assert reset["custom"] is False and reset["levels"][4]["names"]["en"] == "Legend"


async def test_archived_tasks_disappear_for_fans_but_keep_their_xp(platform: Platform) -> None:
    panel = await open_panel(platform)
    task = await panel.ok("POST", "/creator/tasks", json=_task("invite_friends", target=1))
    alice = await panel.fan("Alice")
    await _refer(panel, alice, 1)
    await panel.ok("POST", f"/tasks/{task['id']}/claim", alice, json={})
    assert (await panel.call("DELETE", f"/creator/tasks/{task['id']}")).status_code == 204
    assert (await panel.ok("GET", "/tasks", alice))["tasks"] == []
    assert (await panel.ok("GET", "/tasks/me", alice))["xp"] == 40
    gone = await panel.call("POST", f"/tasks/{task['id']}/claim", alice, json={})
    assert gone.status_code == 404
    edited = await panel.ok(
        "PATCH", f"/creator/tasks/{task['id']}", json={"is_active": True, "reward_xp": 99}
    )
    assert (edited["is_active"], edited["reward_xp"], edited["completed"]) == (True, 99, 1)
    # The completion keeps the reward it was given.
    assert (await panel.ok("GET", "/tasks/me", alice))["xp"] == 40
    refused = await panel.call("POST", "/creator/tasks", json=_task("custom", reward_xp=0))
    assert refused.status_code == 422
