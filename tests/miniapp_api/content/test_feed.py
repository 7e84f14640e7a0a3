"""The fan's feed and the creator's editor: order and pages, views counted once, drafts and
schedules, pins, validation, sanitized text, and the PPV invoice refusals."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import update

from core.db import session_scope, utcnow
from core.models import Post
from jobs.content_tasks import publish_due_posts
from tests.miniapp_api.content.conftest import (
    Factory,
    Studio,
    create_package,
    create_post,
    noisy_png,
    upload,
    worker_ctx,
)


async def _backdate(factory: Factory, post_id: int, minutes: int) -> None:
    async with session_scope(factory) as session:
        await session.execute(
            update(Post)
            .where(Post.id == post_id)
            .values(published_at=utcnow() - timedelta(minutes=minutes))
        )


async def _pages(client: httpx.AsyncClient, headers: dict[str, str], limit: int) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/feed", params=params, headers=headers)).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


async def test_pinned_first_then_newest_across_pages(
    client: httpx.AsyncClient, studio: Studio, session_factory: Factory
) -> None:
    owner = studio.owner
    ids = []
    for n in range(5):
        post = await create_post(client, owner, text=f"post {n}", publish=True)
        await _backdate(session_factory, post["id"], 60 - n)  # post 4 is the newest
        ids.append(post["id"])
    await create_post(client, owner, text="a draft")
    pinned = await client.post(f"/api/v1/creator/content/posts/{ids[1]}/pin", headers=owner.headers)
    assert pinned.json()["pinned"] is True
    expected = [ids[1], ids[4], ids[3], ids[2], ids[0]]
    for limit in (1, 2, 5, 50):
        assert await _pages(client, studio.alice.headers, limit) == expected
    huge = base64.urlsafe_b64encode(json.dumps([0, utcnow().isoformat(), 2**70]).encode())
    for cursor in ("bm9wZQ", huge.decode().rstrip("=")):
        bad = await client.get("/api/v1/feed", params={"cursor": cursor}, headers=owner.headers)
        assert bad.status_code == 422
    listed = await client.get(
        "/api/v1/creator/content/posts", params={"cursor": 2**63}, headers=owner.headers
    )
    assert listed.status_code == 422
    assert (await _pages(client, studio.carol.headers, 10)) == []  # another tenant's fan


async def test_views_count_once_per_fan_even_when_racing(
    client: httpx.AsyncClient, studio: Studio
) -> None:
    post = await create_post(client, studio.owner, text="hello", publish=True)
    url = f"/api/v1/feed/{post['id']}/view"
    results = await asyncio.gather(
        *(client.post(url, headers=studio.alice.headers) for _ in range(10))
    )
    assert sorted(r.json()["counted"] for r in results) == [False] * 9 + [True]
    assert (await client.post(url, headers=studio.bob.headers)).json() == {"counted": True}
    stats = await client.get(
        f"/api/v1/creator/content/posts/{post['id']}/stats", headers=studio.owner.headers
    )
    assert stats.json() == {
        "views": 2,
        "unlocks": 0,
        "unlocks_by_source": {},
        "revenue_stars": 0,
        "purchases": 0,
    }
    assert (await client.post(url, headers=studio.carol.headers)).status_code == 404


async def test_draft_schedule_publish_unpublish(
    client: httpx.AsyncClient, studio: Studio, settings: Any, session_factory: Factory
) -> None:
    owner, alice = studio.owner, studio.alice
    soon = utcnow() + timedelta(minutes=30)
    post = await create_post(client, owner, text="soon", publish_at=soon.isoformat())
    assert (post["status"], post["publish_at"] is not None) == ("scheduled", True)
    assert (await client.get("/api/v1/feed", headers=alice.headers)).json()["items"] == []

    ctx = worker_ctx(settings, session_factory)
    assert await publish_due_posts(ctx) == 0
    later = (soon + timedelta(minutes=1)).timestamp()
    assert await publish_due_posts(ctx, later) == 1
    listed = await client.get(
        "/api/v1/creator/content/posts", params={"status": "published"}, headers=owner.headers
    )
    assert [p["id"] for p in listed.json()["items"]] == [post["id"]]
    # Fans see it from publish_at on: move the clock by moving the post instead.
    await _backdate(session_factory, post["id"], 1)
    assert [
        p["id"] for p in (await client.get("/api/v1/feed", headers=alice.headers)).json()["items"]
    ] == [post["id"]]

    down = await client.post(
        f"/api/v1/creator/content/posts/{post['id']}/unpublish", headers=owner.headers
    )
    assert (down.json()["status"], down.json()["published_at"]) == ("draft", None)
    assert (await client.get("/api/v1/feed", headers=alice.headers)).json()["items"] == []
    up = await client.post(
        f"/api/v1/creator/content/posts/{post['id']}/publish", headers=owner.headers
    )
    assert up.json()["status"] == "published"
    gone = await client.delete(f"/api/v1/creator/content/posts/{post['id']}", headers=owner.headers)
    assert gone.status_code == 204
    missing = await client.get(f"/api/v1/creator/content/posts/{post['id']}", headers=owner.headers)
    assert missing.status_code == 404


async def test_text_is_sanitized_to_telegram_html(
    client: httpx.AsyncClient, studio: Studio
) -> None:
    post = await create_post(
        client,
        studio.owner,
        text=(
            "<p>Hi <strong>all</strong> <script>alert(1)</script><img src=x onerror=alert(2)>"
            '<a href="javascript:alert(3)">bad</a> <a href="https://t.me/x" onclick="y">ok</a>'
            "<i>open</p><br>2 &lt; 3"
        ),
        publish=True,
    )
    assert post["text_html"] == (
        'Hi <b>all</b> bad <a href="https://t.me/x">ok</a><i>open\n\n2 &lt; 3</i>'
    )


async def test_invalid_posts_are_refused(client: httpx.AsyncClient, studio: Studio) -> None:
    owner = studio.owner
    foreign_package = await create_package(client, studio.other_owner, "Theirs")
    alices_file = await upload(client, studio.alice, "mine.png", noisy_png(32, 32))
    own = [await upload(client, owner, f"{n}.png", noisy_png(16, 16, n)) for n in range(11)]
    cases: list[tuple[dict[str, Any], int]] = [
        ({"text": ""}, 422),
        ({"text": "x", "access": "ppv"}, 422),
        ({"text": "x", "access": "ppv", "price_stars": 10_001}, 422),
        ({"text": "x", "access": "vip"}, 422),
        ({"text": "x", "access": "vip", "package_ids": [foreign_package["id"]]}, 404),
        ({"text": "x", "access": "task"}, 422),
        ({"text": "x", "file_ids": [alices_file]}, 404),
        ({"text": "x", "file_ids": own}, 422),
        ({"text": "x", "file_ids": [own[0], own[0]]}, 422),
        ({"text": "x" * 4097}, 422),
        ({"text": "x", "file_ids": [2**63]}, 422),  # ids past bigint: refused, never a 500
        ({"text": "x", "access": "vip", "package_ids": [2**64]}, 422),
        ({"text": "x", "publish_at": "2030-01-01T00:00:00"}, 422),  # a time without a zone
    ]
    for body, status in cases:
        response = await client.post(
            "/api/v1/creator/content/posts", json=body, headers=owner.headers
        )
        assert response.status_code == status, (body, response.text)
        assert "error" in response.json()
    listed = await client.get("/api/v1/creator/content/posts", headers=owner.headers)
    assert listed.json()["items"] == []


async def test_ppv_invoice_refusals_before_any_order(
    client: httpx.AsyncClient, studio: Studio
) -> None:
    free = await create_post(client, studio.owner, text="free", publish=True)
    draft = await create_post(client, studio.owner, text="draft", access="ppv", price_stars=5)
    h = studio.alice.headers
    not_for_sale = await client.post(f"/api/v1/feed/{free['id']}/invoice", headers=h)
    assert not_for_sale.status_code == 409
    assert not_for_sale.json()["error"]["code"] == "not_for_sale"
    for post_id in (draft["id"], 999_999):
        assert (await client.post(f"/api/v1/feed/{post_id}/invoice", headers=h)).status_code == 404
    foreign = await client.post(f"/api/v1/feed/{free['id']}/invoice", headers=studio.carol.headers)
    assert foreign.status_code == 404
    huge = await client.post(f"/api/v1/feed/{2**63}/invoice", headers=h)
    assert huge.status_code == 422
