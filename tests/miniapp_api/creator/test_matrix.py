"""The role and isolation matrix of every creator endpoint of the tasks, stats and tenant
admin areas: anonymous 401, a fan 403, a co-admin allowed, and another tenant's admin 404 on
every object of this tenant — with a check that the table below lists every such endpoint."""

from __future__ import annotations

import re
from typing import Any

import pytest

from core.models import Tenant
from tenants import admins
from tests.bot import conftest as bot_fixtures
from tests.bot.conftest import Platform, wait_until
from tests.miniapp_api.creator.insights import Panel, Person, open_panel

emulator = bot_fixtures.emulator
start_platform = bot_fixtures.start_platform
platform = bot_fixtures.platform

# (method, path, body); {names} are this tenant's objects.
ENDPOINTS: list[tuple[str, str, Any]] = [
    ("GET", "/creator/tasks", None),
    ("POST", "/creator/tasks", {"kind": "custom", "title": "x", "reward_xp": 1}),
    ("POST", "/creator/tasks/check-chat", {"chat": "@no_such_chat"}),
    ("GET", "/creator/tasks/submissions", None),
    ("POST", "/creator/tasks/submissions/{submission_id}/approve", None),
    ("POST", "/creator/tasks/submissions/{submission_id}/reject", None),
    ("GET", "/creator/tasks/levels", None),
    ("PUT", "/creator/tasks/levels", {"levels": None}),
    ("GET", "/creator/tasks/{task_id}", None),
    ("PATCH", "/creator/tasks/{task_id}", {"title": "renamed"}),
    ("DELETE", "/creator/tasks/{task_id}", None),
    ("POST", "/creator/tasks/{task_id}/recheck", None),
    ("GET", "/creator/stats", None),
    ("GET", "/creator/dashboard", None),
    ("GET", "/creator/users", None),
    ("GET", "/creator/users/{user_id}", None),
    ("GET", "/creator/users/{user_id}/history", None),
    ("GET", "/creator/users/{user_id}/messages", None),
    ("GET", "/creator/texts", None),
    ("PUT", "/creator/texts/{key}/{language}", {"template": "Hi {{ user_name }}"}),
    ("DELETE", "/creator/texts/{key}/{language}", None),
    ("POST", "/creator/texts/preview", {"key": "help", "language": "en"}),
    ("GET", "/creator/settings", None),
    ("PATCH", "/creator/settings", {"referral_reward": 5}),
    ("GET", "/creator/settings/packs", None),
    ("POST", "/creator/settings/packs", {"stars": 10, "credits": 20}),
    ("PATCH", "/creator/settings/packs/{pack_id}", {"bonus": 1}),
    ("DELETE", "/creator/settings/packs/{pack_id}", None),
    ("GET", "/creator/settings/tools", None),
    ("PATCH", "/creator/settings/tools/{slug}", {"is_hidden": True}),
    ("GET", "/creator/plan", None),
    ("GET", "/creator/groups", None),
    ("POST", "/creator/groups/{group_id}/refresh", None),
    ("DELETE", "/creator/groups/{group_id}", None),
]
TENANT_OBJECTS = ("{task_id}", "{submission_id}", "{user_id}", "{pack_id}", "{group_id}")
NOT_OURS = ("/creator/me", "/creator/admins")  # the roles issue's own endpoints and tests


def _shape(path: str) -> str:
    """``/creator/x/{post}``, ``/api/v1/creator/x/{post_id}`` and ``/creator/x/7`` name the
    same route."""
    path = re.sub(r"\{[^}]*\}", "{}", path.removeprefix("/api/v1"))
    return re.sub(r"/\d+(?=/|$)", "/{}", path)


def _other_matrices() -> set[tuple[str, str]]:
    """Creator endpoints whose role and isolation matrix lives with their own area's tests."""
    from tests.miniapp_api.creator import test_broadcasts as broadcasts
    from tests.miniapp_api.creator import test_content_matrix as content
    from tests.miniapp_api.ton import test_invoices as ton

    tables = [content.ENDPOINTS, content.LISTS, ton.CREATOR_ROUTES, broadcasts.routes(7)]
    return {(method, _shape(path)) for table in tables for method, path, *_ in table}


def test_the_matrix_lists_every_creator_endpoint() -> None:
    """Every ``/creator/...`` route is in this table or in another area's matrix, so a new
    endpoint cannot ship without its role and isolation checks."""
    from miniapp_api.app import create_app

    paths = create_app().openapi()["paths"]
    served = {
        (method.upper(), _shape(path))
        for path, methods in paths.items()
        if path.startswith("/api/v1/creator/")
        and not path.removeprefix("/api/v1").startswith(NOT_OURS)
        for method in methods
    }
    ours = {(method, _shape(path)) for method, path, _ in ENDPOINTS}
    assert served == ours | _other_matrices()


async def _objects(panel: Panel) -> dict[str, Any]:
    task = await panel.ok(
        "POST", "/creator/tasks", json={"kind": "custom", "title": "Proof", "reward_xp": 5}
    )
    fan = await panel.fan("Alice")
    await panel.ok("POST", f"/tasks/{task['id']}/claim", fan, json={"proof": "done"})
    submission = (await panel.ok("GET", "/creator/tasks/submissions"))["items"][0]
    packs = (await panel.ok("GET", "/creator/settings/packs"))["items"]
    await panel.platform.emulator.create_group("Club", owner=panel.owner.user, bots=[panel.bot])
    groups = await wait_until(
        lambda: panel.ok("GET", "/creator/groups"), lambda listing: listing["items"]
    )
    return {
        "task_id": task["id"],
        "submission_id": submission["id"],
        "user_id": submission["user_id"],
        "pack_id": packs[0]["id"],
        "group_id": groups["items"][0]["id"],
        "key": "help",
        "language": "en",
        "slug": "no-such-tool",
    }


@pytest.mark.parametrize("as_who", ["anonymous", "fan"])
async def test_only_admins_get_in(platform: Platform, as_who: str) -> None:
    panel = await open_panel(platform)
    ids = await _objects(panel)
    who = await panel.fan("Mallory") if as_who == "fan" else Person(panel.owner.user, "")
    expected = 403 if as_who == "fan" else 401
    for method, path, body in ENDPOINTS:
        response = await panel.call(method, path.format(**ids), who, json=body)
        assert response.status_code == expected, (method, path, response.text)
        assert response.json()["error"]["code"] in ("forbidden", "invalid_token")


async def test_another_tenants_admin_finds_nothing_here(platform: Platform) -> None:
    panel = await open_panel(platform)
    ids = await _objects(panel)
    other = await open_panel(platform, "Other Studio")
    for method, path, body in ENDPOINTS:
        if not any(name in path for name in TENANT_OBJECTS):
            continue
        response = await other.call(method, path.format(**ids), json=body)
        assert response.status_code == 404, (method, path, response.text)
    # Lists show the other tenant's own things only.
    assert (await other.ok("GET", "/creator/tasks"))["items"] == []
    assert (await other.ok("GET", "/creator/tasks/submissions"))["items"] == []
    fans = (await other.ok("GET", "/creator/users"))["items"]
    assert ids["user_id"] not in [f["id"] for f in fans]
    packs = (await other.ok("GET", "/creator/settings/packs"))["items"]
    assert ids["pack_id"] not in [p["id"] for p in packs]
    assert (await other.ok("GET", "/creator/groups"))["items"] == []
    # and nothing of this tenant changed
    task = await panel.ok("GET", f"/creator/tasks/{ids['task_id']}")
    assert (task["title"], task["is_active"], task["pending"]) == ("Proof", True, 1)


async def test_a_co_admin_uses_every_endpoint(platform: Platform) -> None:
    panel = await open_panel(platform)
    ids = await _objects(panel)
    helper = await panel.fan("Helper")
    async with platform.session_factory() as session:
        tenant = await session.get(Tenant, panel.tenant_id)
        assert tenant is not None
        await admins.add_admin(
            session, tenant, by_telegram_id=panel.owner.user.id, telegram_id=helper.user.id
        )
        await session.commit()
    for method, path, body in ENDPOINTS:
        response = await panel.call(method, path.format(**ids), helper, json=body)
        # Allowed in: whatever the answer, it is not a refusal of the caller.
        assert response.status_code not in (401, 403), (method, path, response.text)
        assert response.status_code < 500, (method, path, response.text)
