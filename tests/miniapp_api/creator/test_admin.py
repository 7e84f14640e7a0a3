"""Tenant admin in the creator panel, against the emulator: the dashboard with the bot's live
webhook status and recent activity, fans with search, detail and history, the texts editor
with sandbox errors and a live preview (and the bot using a saved text at once), settings,
credit packs, tool prices and the plan's usage."""

from __future__ import annotations

from core.db import session_scope
from jobs.catalog.service import sync_catalog
from tests.bot import conftest as bot_fixtures
from tests.bot.conftest import Platform
from tests.miniapp_api.creator.insights import open_panel

emulator = bot_fixtures.emulator
start_platform = bot_fixtures.start_platform
platform = bot_fixtures.platform


async def test_dashboard_shows_the_bot_and_what_happened(platform: Platform) -> None:
    panel = await open_panel(platform)
    alice = await panel.fan("Alice")
    task = await panel.ok(
        "POST", "/creator/tasks", json={"kind": "custom", "title": "Draw", "reward_xp": 5}
    )
    await panel.ok("POST", f"/tasks/{task['id']}/claim", alice, json={"proof": "look"})

    board = await panel.ok("GET", "/creator/dashboard")
    bot = board["bot"]
    assert (bot["username"], bot["bot_active"], bot["tenant_active"]) == (
        panel.bot.username,
        True,
        True,
    )
    assert bot["webhook"]["url_matches"] is True and bot["webhook_error"] is None
    assert board["pending_submissions"] == 1
    kinds = [(e["kind"], e["data"].get("name") or e["data"].get("title")) for e in board["recent"]]
    assert ("task", "Draw") in kinds and ("joined", "Alice") in kinds
    assert board["plan"] == "basic" and board["tenant_name"] == "Art Studio"

    await platform.emulator.revoke_token(panel.bot)  # Telegram no longer answers for it
    broken = (await panel.ok("GET", "/creator/dashboard"))["bot"]
    assert broken["webhook"] is None and "Telegram did not answer" in broken["webhook_error"]


async def test_fans_search_detail_and_history(platform: Platform) -> None:
    panel = await open_panel(platform)
    names = ["Alice", "Boris", "Alina", "Carla"]
    fans = [await panel.fan(name) for name in names]
    task = await panel.ok(
        "POST",
        "/creator/tasks",
        json={"kind": "custom", "title": "Say hi", "reward_xp": 7, "reward_credits": 3},
    )
    await panel.ok("POST", f"/tasks/{task['id']}/claim", fans[0], json={"proof": "hi"})
    submission = (await panel.ok("GET", "/creator/tasks/submissions"))["items"][0]
    await panel.ok("POST", f"/creator/tasks/submissions/{submission['id']}/approve")

    everyone = await panel.ok("GET", "/creator/users", params={"limit": 3})
    assert [f["first_name"] for f in everyone["items"]] == ["Carla", "Alina", "Boris"]
    rest = await panel.ok(
        "GET", "/creator/users", params={"limit": 3, "cursor": everyone["next_cursor"]}
    )
    assert [f["first_name"] for f in rest["items"]] == ["Alice", "Owner"]
    assert rest["next_cursor"] is None

    found = await panel.ok("GET", "/creator/users", params={"q": "ali"})
    assert sorted(f["first_name"] for f in found["items"]) == ["Alice", "Alina"]
    by_username = await panel.ok("GET", "/creator/users", params={"q": f"@{fans[1].user.username}"})
    assert [f["first_name"] for f in by_username["items"]] == ["Boris"]
    by_id = await panel.ok("GET", "/creator/users", params={"q": str(fans[3].user.id)})
    assert [f["first_name"] for f in by_id["items"]] == ["Carla"]
    assert (await panel.ok("GET", "/creator/users", params={"q": "100%"}))["items"] == []

    alice_id = submission["user_id"]
    detail = await panel.ok("GET", f"/creator/users/{alice_id}")
    assert (detail["first_name"], detail["balance"], detail["tasks_completed"]) == ("Alice", 3, 1)
    assert (detail["level"]["xp"], detail["level"]["name"]) == (7, "Newcomer")
    history = await panel.ok("GET", f"/creator/users/{alice_id}/history")
    kinds = [e["kind"] for e in history["items"]]
    assert kinds[-1] == "joined"
    assert "task" in kinds and "credits" in kinds
    credits = next(e for e in history["items"] if e["kind"] == "credits")
    assert credits["data"] == {"amount": 3, "balance_after": 3, "reason": "task reward"}
    first = await panel.ok("GET", f"/creator/users/{alice_id}/history", params={"limit": 1})
    assert len(first["items"]) == 1 and first["next_cursor"] is not None
    assert (await panel.call("GET", "/creator/users/999999999")).status_code == 404


async def test_texts_editor_validates_previews_and_reaches_the_bot(platform: Platform) -> None:
    panel = await open_panel(platform)
    listed = await panel.ok("GET", "/creator/texts")
    welcome = next(t for t in listed["items"] if t["key"] == "start.welcome")
    assert welcome["defaults"]["tr"].startswith("Merhaba {{ user_name }}!")
    assert "user_name" in welcome["variables"] and welcome["overrides"] == {}
    assert not any(t["key"].startswith("manager.") for t in listed["items"])

    broken = await panel.call(
        "PUT",
        "/creator/texts/start.welcome/en",
        json={"template": "Hello!\n{% for x in range(9) %}{{ x }}{% endfor %}"},
    )
    assert broken.status_code == 422
    error = broken.json()["error"]
    assert error["code"] == "template_rejected"
    assert error["details"] == {"line": 2, "reason": "loops ({% for %}) are not allowed"}
    sneaky = await panel.call(
        "POST",
        "/creator/texts/preview",
        json={"key": "help", "language": "en", "template": "{{ user_name.__class__ }}"},
    )
    assert sneaky.status_code == 422 and sneaky.json()["error"]["details"]["line"] == 1

    draft = await panel.ok(
        "POST",
        "/creator/texts/preview",
        json={
            "key": "start.welcome",
            "language": "en",
            "template": "Hey {{ user_name }}, this is {{ bot_name }}!",
            "variables": {"user_name": "Zoe"},
        },
    )
    assert draft == {"text": "Hey Zoe, this is Art Studio!", "source": "draft"}
    saved = await panel.ok(
        "PUT", "/creator/texts/start.welcome/en", json={"template": "Hey {{ user_name }}!"}
    )
    assert saved["template"] == "Hey {{ user_name }}!"
    current = await panel.ok(
        "POST", "/creator/texts/preview", json={"key": "start.welcome", "language": "en"}
    )
    assert current == {"text": "Hey Alice!", "source": "override"}

    fan = await platform.user("Dana")
    await platform.emulator.start(panel.bot, fan)
    assert (await platform.replies(panel.bot, fan, 1))[0].text == "Hey Dana!"

    assert (await panel.call("DELETE", "/creator/texts/start.welcome/en")).status_code == 204
    assert (await panel.call("DELETE", "/creator/texts/start.welcome/en")).status_code == 404
    assert (
        await panel.call("PUT", "/creator/texts/manager.welcome/en", json={"template": "x"})
    ).status_code == 404
    bad_language = await panel.call("PUT", "/creator/texts/help/de", json={"template": "x"})
    assert bad_language.status_code == 422


async def test_settings_packs_tools_and_plan(platform: Platform) -> None:
    panel = await open_panel(platform)
    settings = await panel.ok("GET", "/creator/settings")
    assert (settings["languages"], settings["default_language"]) == (["en", "tr", "ru", "ar"], "en")
    assert settings["referral_reward"] == 10 and settings["welcome"]["en"] is None

    changed = await panel.ok(
        "PATCH",
        "/creator/settings",
        json={
            "languages": ["tr", "en"],
            "default_language": "tr",
            "referral_reward": 25,
            "welcome": {"tr": "Selam {{ user_name }}!"},
        },
    )
    assert (changed["languages"], changed["default_language"]) == (["en", "tr"], "tr")
    assert changed["welcome"]["tr"] == "Selam {{ user_name }}!"
    refused = await panel.call("PATCH", "/creator/settings", json={"default_language": "ru"})
    assert refused.status_code == 422
    bad_welcome = await panel.call(
        "PATCH", "/creator/settings", json={"welcome": {"en": "{{ broken"}}
    )
    assert bad_welcome.status_code == 422 and bad_welcome.json()["error"]["details"]["line"] == 1
    assert (await panel.ok("GET", "/creator/settings"))["welcome"]["en"] is None

    # The bot follows at once: Turkish by default, and the new referral reward.
    pedro = await platform.user("Pedro", language_code="pt")
    await platform.emulator.start(panel.bot, pedro)
    assert (await platform.replies(panel.bot, pedro, 1))[0].text == "Selam Pedro!"
    await platform.emulator.send_command(panel.bot, pedro, "invite")
    invite = (await platform.replies(panel.bot, pedro, 2))[-1].text or ""
    assert "25" in invite

    packs = (await panel.ok("GET", "/creator/settings/packs"))["items"]
    assert [(p["stars"], p["total_credits"]) for p in packs] == [(50, 100), (250, 550), (500, 1200)]
    new = await panel.ok(
        "POST", "/creator/settings/packs", json={"stars": 1000, "credits": 3000, "bonus": 500}
    )
    await panel.ok("PATCH", f"/creator/settings/packs/{packs[0]['id']}", json={"bonus": 10})
    assert (
        await panel.call("DELETE", f"/creator/settings/packs/{packs[2]['id']}")
    ).status_code == 204
    fan = await panel.fan("Alice")
    offered = (await panel.ok("GET", "/wallet/packs", fan))["packs"]
    assert [(p["stars"], p["total_credits"]) for p in offered] == [
        (50, 110),
        (250, 550),
        (1000, 3500),
    ]
    assert new["is_active"] is True
    too_cheap = await panel.call("POST", "/creator/settings/packs", json={"stars": 0, "credits": 1})
    assert too_cheap.status_code == 422

    async with session_scope(platform.session_factory) as session:
        await sync_catalog(session)
    tools = (await panel.ok("GET", "/creator/settings/tools"))["items"]
    tool = next(t for t in tools if t["slug"] == "image-generate")
    below = await panel.call(
        "PATCH", "/creator/settings/tools/image-generate", json={"price": tool["base_cost"] - 1}
    )
    assert below.status_code == 422
    priced = await panel.ok(
        "PATCH",
        "/creator/settings/tools/image-generate",
        json={"price": tool["base_cost"] + 7, "is_hidden": True},
    )
    assert (priced["price"], priced["custom_price"], priced["is_hidden"]) == (
        tool["base_cost"] + 7,
        tool["base_cost"] + 7,
        True,
    )
    offered_tools = [t["slug"] for t in await panel.ok("GET", "/catalog/tools", fan)]
    assert "image-generate" not in offered_tools and offered_tools  # hidden from fans

    plan = await panel.ok("GET", "/creator/plan")
    assert (plan["code"], plan["name"]) == ("basic", "Basic")
    assert plan["storage_bytes"] == {"limit": 5 * 1024**3, "used": 0}
    # The bar shows the quota the broadcast sender enforces (basic: 2,000 a day).
    assert plan["broadcast_messages_per_day"] == {"limit": 2_000, "used": 0}  # none yet today
    assert plan["assistant_messages_per_day"] == {"limit": 100, "used": 0}
    assert plan["groups"] == {"limit": 5, "used": 0}
    assert plan["monthly_credits"] == 1000 and plan["platform_balance"] == 0
