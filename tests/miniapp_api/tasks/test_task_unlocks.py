"""Tasks and premium posts meet: completing a task opens the posts it promises — the task's
reward post and every post whose access is "complete this task" — once, for good."""

from __future__ import annotations

from typing import Any

from tests.bot import conftest as bot_fixtures
from tests.bot.conftest import Platform
from tests.miniapp_api.creator.insights import Panel, Person, open_panel
from tests.miniapp_api.tasks.test_fan_tasks import _refer

emulator = bot_fixtures.emulator
start_platform = bot_fixtures.start_platform
platform = bot_fixtures.platform


async def _post(panel: Panel, **fields: Any) -> int:
    body = {"text": "<b>secret</b> recipe", "teaser": "a teaser", "publish": True, **fields}
    created = await panel.ok("POST", "/creator/content/posts", json=body)
    return int(created["id"])


async def _locked(panel: Panel, fan: Person, post_id: int) -> bool:
    return bool((await panel.ok("GET", f"/feed/{post_id}", fan))["locked"])


async def test_completing_a_task_opens_its_posts(platform: Platform) -> None:
    panel = await open_panel(platform)
    reward_post = await _post(panel, access="ppv", price_stars=25)
    task = await panel.ok(
        "POST",
        "/creator/tasks",
        json={
            "kind": "invite_friends",
            "title": "Bring a friend",
            "target": 1,
            "reward_post_id": reward_post,
        },
    )
    task_post = await _post(panel, access="task", unlock_task_id=task["id"])
    alice, bob = await panel.fan("Alice"), await panel.fan("Bob")
    assert await _locked(panel, alice, reward_post) and await _locked(panel, alice, task_post)
    locked = await panel.ok("GET", f"/feed/{task_post}", alice)
    assert locked["text_html"] is None
    assert locked["unlock"] == {**locked["unlock"], "kind": "task", "task_id": task["id"]}

    await _refer(panel, alice, 1)
    done = await panel.ok("POST", f"/tasks/{task['id']}/claim", alice, json={})
    assert done["outcome"] == "completed"
    for post_id in (reward_post, task_post):
        opened = await panel.ok("GET", f"/feed/{post_id}", alice)
        assert not opened["locked"]
        assert opened["text_html"] == "<b>secret</b> recipe"
    # Only the fan who did the task: Bob still sees both locked.
    assert await _locked(panel, bob, reward_post) and await _locked(panel, bob, task_post)
    again = await panel.ok("POST", f"/tasks/{task['id']}/claim", alice, json={})
    assert again["outcome"] == "already_completed"


async def test_tasks_and_posts_refuse_ids_of_nothing(platform: Platform) -> None:
    panel = await open_panel(platform)
    missing_post = await panel.call(
        "POST",
        "/creator/tasks",
        json={"kind": "custom", "title": "Say hi", "reward_post_id": 999_999},
    )
    assert missing_post.status_code == 404
    assert missing_post.json()["error"]["code"] == "not_found"
    missing_task = await panel.call(
        "POST",
        "/creator/content/posts",
        json={"text": "x", "access": "task", "unlock_task_id": 999_999},
    )
    assert missing_task.status_code == 404
