"""``GET /api/v1/creator/users/{id}/messages``: a fan's conversation with the bot, newest first
in keyset pages; another tenant's fan is 404; the settings switch stops recording at once."""

from __future__ import annotations

from jobs.chatlog_tasks import drain_chatlog
from tests.bot import conftest as bot_fixtures
from tests.bot.conftest import Platform
from tests.miniapp_api.creator.insights import Panel, open_panel

emulator = bot_fixtures.emulator
start_platform = bot_fixtures.start_platform
platform = bot_fixtures.platform


async def _drain(platform: Platform) -> None:
    await platform.runtime.replies.flush()  # the API's held replies (written within 0.25 s)
    ctx = {"redis": platform.app.state.redis, "session_factory": platform.session_factory}
    await drain_chatlog(ctx)


async def _fan_id(panel: Panel, name: str) -> int:
    fans = (await panel.ok("GET", "/creator/users", params={"q": name}))["items"]
    return int(fans[0]["id"])


async def test_pages_newest_first_and_tenant_walls(platform: Platform) -> None:
    panel = await open_panel(platform)
    alice = await panel.fan("Alice")
    for n in range(1, 6):
        await platform.emulator.send_message(panel.bot, alice.user, f"note {n}")
    await platform.settled(panel.bot, alice.user)
    await _drain(platform)
    alice_id = await _fan_id(panel, "Alice")

    path = f"/creator/users/{alice_id}/messages"
    seen: list[dict[str, object]] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"before": cursor} if cursor else {})
        page = await panel.ok("GET", path, params=params)
        assert len(page["items"]) <= 3
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    stamps = [(m["created_at"], m["id"]) for m in seen]
    assert stamps == sorted(stamps, reverse=True) and len(set(stamps)) == len(stamps)
    fan_texts = [m["text"] for m in seen if m["direction"] == "in"]
    assert fan_texts == [f"note {n}" for n in range(5, 0, -1)] + ["/start"]
    assert any(m["direction"] == "out" and m["kind"] == "text" for m in seen)

    bad = await panel.call("GET", path, params={"before": "yesterday"})
    assert bad.status_code == 422 and "error" in bad.json()
    other = await open_panel(platform, "Other Studio")
    assert (await other.call("GET", path)).status_code == 404
    assert (await panel.call("GET", path, alice)).status_code == 403  # a fan is no creator


async def test_the_settings_switch(platform: Platform) -> None:
    panel = await open_panel(platform)
    assert (await panel.ok("GET", "/creator/settings"))["chat_history"] is True
    changed = await panel.ok("PATCH", "/creator/settings", json={"chat_history": False})
    assert changed["chat_history"] is False
    bob = await panel.fan("Bob")  # /start after the switch
    await platform.emulator.send_message(panel.bot, bob.user, "not for the record")
    await platform.settled(panel.bot, bob.user)
    await _drain(platform)
    bob_id = await _fan_id(panel, "Bob")
    assert (await panel.ok("GET", f"/creator/users/{bob_id}/messages"))["items"] == []
    bad = await panel.call("PATCH", "/creator/settings", json={"chat_history": "maybe"})
    assert bad.status_code == 422

    await panel.ok("PATCH", "/creator/settings", json={"chat_history": True})
    await platform.emulator.send_message(panel.bot, bob.user, "on the record")
    await platform.settled(panel.bot, bob.user)
    await _drain(platform)
    texts = [
        m["text"] for m in (await panel.ok("GET", f"/creator/users/{bob_id}/messages"))["items"]
    ]
    assert "on the record" in texts and "not for the record" not in texts
