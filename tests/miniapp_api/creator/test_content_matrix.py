"""Every creator endpoint of content and VIP × role and tenant: no token → 401, a fan → 403,
a co-admin → allowed, the owner of another tenant → 404 on this tenant's objects (and their
lists show none of them)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from core.db import session_scope, utcnow
from core.models import VipSubscription
from tests.miniapp_api.content.conftest import (
    Factory,
    Studio,
    create_package,
    create_post,
    noisy_png,
    upload,
)

# (method, path, JSON body, status for a creator of this tenant); {post} and {package} are ids
# of the studio's objects.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None, int]] = [
    ("GET", "/api/v1/creator/content/posts/{post}", None, 200),
    ("PATCH", "/api/v1/creator/content/posts/{post}", {"teaser": "new"}, 200),
    ("POST", "/api/v1/creator/content/posts/{post}/publish", None, 200),
    ("POST", "/api/v1/creator/content/posts/{post}/unpublish", None, 200),
    ("POST", "/api/v1/creator/content/posts/{post}/pin", None, 200),
    ("DELETE", "/api/v1/creator/content/posts/{post}/pin", None, 200),
    ("GET", "/api/v1/creator/content/posts/{post}/stats", None, 200),
    ("POST", "/api/v1/creator/content/posts/{post}/gifts", {"telegram_id": "{fan}"}, 200),
    ("GET", "/api/v1/creator/vip/packages/{package}", None, 200),
    ("PATCH", "/api/v1/creator/vip/packages/{package}", {"price_stars": 400}, 200),
    ("GET", "/api/v1/creator/vip/packages/{package}/subscribers", None, 200),
    ("DELETE", "/api/v1/creator/vip/packages/{package}", None, 204),
    ("DELETE", "/api/v1/creator/content/posts/{post}", None, 204),
]
LISTS: list[tuple[str, str, dict[str, Any] | None, int]] = [
    ("GET", "/api/v1/creator/content/posts", None, 200),
    ("POST", "/api/v1/creator/content/posts", {"text": "hello"}, 201),
    ("GET", "/api/v1/creator/vip/packages", None, 200),
    ("POST", "/api/v1/creator/vip/packages", {"name": "Gold", "price_stars": 10}, 201),
    ("GET", "/api/v1/creator/vip/subscribers", None, 200),
]


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


async def _objects(client: httpx.AsyncClient, studio: Studio, factory: Factory) -> dict[str, int]:
    package = await create_package(client, studio.owner)
    async with session_scope(factory) as session:
        session.add(
            VipSubscription(
                tenant_id=studio.bot.tenant_id,
                user_id=studio.alice.user_id,
                package_id=package["id"],
                period_end=utcnow() + timedelta(days=30),
                subscription_charge_id="charge-1",
            )
        )
    file_id = await upload(client, studio.owner, "p.png", noisy_png(64, 48))
    post = await create_post(
        client,
        studio.owner,
        text="vip",
        access="vip",
        package_ids=[package["id"]],
        file_ids=[file_id],
        publish=True,
    )
    return {"post": post["id"], "package": package["id"], "fan": studio.alice.telegram_id}


async def _call(
    client: httpx.AsyncClient, method: str, path: str, body: Any, headers: dict[str, str]
) -> httpx.Response:
    return await client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body", "ok"), ENDPOINTS + LISTS)
async def test_fans_get_403_and_strangers_401(
    client: httpx.AsyncClient,
    studio: Studio,
    session_factory: Factory,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    ok: int,
) -> None:
    ids = await _objects(client, studio, session_factory)
    url, payload = path.format(**ids), _fill(body, ids)
    refused = await _call(client, method, url, payload, studio.alice.headers)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "forbidden"
    assert (await _call(client, method, url, payload, {})).status_code == 401


@pytest.mark.parametrize(("method", "path", "body", "ok"), ENDPOINTS)
async def test_another_tenants_owner_gets_404_and_co_admins_get_in(
    client: httpx.AsyncClient,
    studio: Studio,
    session_factory: Factory,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    ok: int,
) -> None:
    ids = await _objects(client, studio, session_factory)
    url, payload = path.format(**ids), _fill(body, ids)
    foreign = await _call(client, method, url, payload, studio.other_owner.headers)
    assert foreign.status_code == 404, foreign.text
    assert foreign.json()["error"]["code"] == "not_found"

    added = await client.post(
        "/api/v1/creator/admins",
        json={"telegram_id": studio.bob.telegram_id},
        headers=studio.owner.headers,
    )
    assert added.status_code == 201
    allowed = await _call(client, method, url, payload, studio.bob.headers)
    assert allowed.status_code == ok, allowed.text


@pytest.mark.parametrize(("method", "path", "body", "ok"), LISTS)
async def test_lists_of_another_tenant_show_nothing_of_this_one(
    client: httpx.AsyncClient,
    studio: Studio,
    session_factory: Factory,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    ok: int,
) -> None:
    await _objects(client, studio, session_factory)
    response = await _call(client, method, path, body, studio.other_owner.headers)
    assert response.status_code == ok, response.text
    if method == "GET":
        assert response.json()["items"] == []
    mine = (await _call(client, "GET", path, None, studio.owner.headers)).json()["items"]
    assert len(mine) == 1  # this tenant's own list has its one object
