"""Media of a locked post is unreachable by every route: the feed, the post, the content route
(forged, altered or stale links), the storage route, the drive by file id, and share links —
while the blurred preview is served, and the media opens once (and only while) the fan may."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from PIL import Image, ImageFilter, ImageStat

from core.db import session_scope, utcnow
from core.models import VipSubscription
from jobs.content_tasks import content_post_preview
from tenants.vip import service as vip
from tests.miniapp_api.content.conftest import (
    Factory,
    Studio,
    create_package,
    create_post,
    local,
    noisy_png,
    upload,
    worker_ctx,
)


def edges(data: bytes) -> float:
    """Mean edge strength: high for fine detail, near zero for a blur."""
    with Image.open(io.BytesIO(data)) as image:
        gray = image.convert("L").resize((160, 120))
    return float(ImageStat.Stat(gray.filter(ImageFilter.FIND_EDGES)).mean[0])


async def _feed_item(client: httpx.AsyncClient, who: Any, post_id: int) -> dict[str, Any]:
    items = (await client.get("/api/v1/feed", headers=who.headers)).json()["items"]
    return next(item for item in items if item["id"] == post_id)


def _with_query(url: str, **changes: Any) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query.update({k: str(v) for k, v in changes.items()})
    return f"{parts.path}?{urlencode(query)}"


async def test_locked_media_is_unreachable_by_every_route(
    client: httpx.AsyncClient, studio: Studio, settings: Any, session_factory: Factory
) -> None:
    owner, alice = studio.owner, studio.alice
    original = noisy_png()
    file_id = await upload(client, owner, "secret.png", original)
    post = await create_post(
        client,
        owner,
        text="<b>For buyers</b> only",
        teaser="Behind the scenes",
        access="ppv",
        price_stars=50,
        file_ids=[file_id],
        publish=True,
    )
    ctx = worker_ctx(settings, session_factory)
    assert (await content_post_preview(ctx, post["id"], studio.bot.tenant_id))["preview"]
    creator_view = (
        await client.get(f"/api/v1/creator/content/posts/{post['id']}", headers=owner.headers)
    ).json()
    owner_link = creator_view["media"][0]["url"]
    async with session_factory() as session:
        from core.models import File

        storage_key = (await session.get(File, file_id)).storage_key  # type: ignore[union-attr]

    # 1. The feed and the post: teaser, kinds and preview only; no text, no link, no key, no id.
    for path in ("/api/v1/feed", f"/api/v1/feed/{post['id']}"):
        response = await client.get(path, headers=alice.headers)
        assert response.status_code == 200
        raw = response.text
        assert storage_key not in raw and "For buyers" not in raw and "/media/" not in raw
        item = await _feed_item(client, alice, post["id"])
        assert item["locked"] is True and item["media"] == [] and item["text_html"] is None
        assert (item["teaser"], item["media_count"], item["media_kinds"]) == (
            "Behind the scenes",
            1,
            ["photo"],
        )
        assert item["unlock"] == {"kind": "ppv", "price_stars": 50, "packages": [], "task_id": None}
    preview = await client.get(local(item["preview_url"]))
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    assert preview.content != original and edges(preview.content) < edges(original) / 10

    # 2. The content route: the creator's own link is for the creator; changing whose it is,
    # what it serves, or its signature is refused; so is a link for another item.
    for forged in (
        _with_query(owner_link, u=alice.user_id),
        _with_query(owner_link, p="thumb"),
        _with_query(owner_link, exp=int(utcnow().timestamp()) + 10_000),
        _with_query(owner_link, sig="A" * 43),
        _with_query(owner_link, u=alice.user_id, sig="A" * 43),
    ):
        refused = await client.get(forged)
        assert refused.status_code == 403, forged
        assert refused.json()["error"]["code"] == "bad_link"
    path = urlsplit(owner_link).path
    other = await client.get(_with_query(owner_link).replace(path, path[:-1] + "9"))
    assert other.status_code == 404

    # 3. The storage route: no valid signature can be made without the server's key.
    for guess in (f"/files/{storage_key}", f"/files/{storage_key}?exp=9999999999&sig=abc"):
        assert (await client.get(guess)).status_code == 403

    # 4. The drive by file id: the creator's files are not in the fan's drive.
    h = alice.headers
    assert (await client.get(f"/api/v1/drive/files/{file_id}", headers=h)).status_code == 404
    download = await client.get(f"/api/v1/drive/files/{file_id}/download", headers=h)
    assert download.status_code == 404
    share = await client.post(
        f"/api/v1/drive/files/{file_id}/shares", json={"expires_in": 600}, headers=h
    )
    assert share.status_code == 404

    # 5. Share links: not even the creator can share premium media publicly.
    refused = await client.post(
        f"/api/v1/drive/files/{file_id}/shares", json={"expires_in": 600}, headers=owner.headers
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "premium_file"

    # Unlocked (a gift here), the fan gets their own links; they serve the original bytes.
    gift = await client.post(
        f"/api/v1/creator/content/posts/{post['id']}/gifts",
        json={"telegram_id": alice.telegram_id},
        headers=owner.headers,
    )
    assert gift.json() == {"granted": True}
    item = await _feed_item(client, alice, post["id"])
    assert item["locked"] is False and item["unlocked_via"] == "unlock"
    assert item["text_html"] == "<b>For buyers</b> only"
    link = item["media"][0]["url"]
    served = await client.get(local(link))
    assert served.status_code == 200 and served.content == original
    assert served.headers["x-content-type-options"] == "nosniff"
    part = await client.get(local(link), headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == original[:10]
    # Bob, same tenant, holds no unlock: Alice's link is hers, his own attempt is refused.
    assert (await client.get(_with_query(link, u=studio.bob.user_id))).status_code == 403

    # The unlock revoked (what a refund does): the link she already holds stops working.
    async with session_scope(session_factory) as session:
        from tenants.content import repository as repo

        await repo.revoke_unlock(
            session,
            studio.bot.tenant_id,
            post["id"],
            alice.user_id,
            f"admin:{owner.telegram_id}",
            utcnow(),
        )
    locked = await client.get(local(link))
    assert locked.status_code == 403 and locked.json()["error"]["code"] == "content_locked"


async def test_a_share_link_stops_when_its_file_becomes_premium(
    client: httpx.AsyncClient, studio: Studio
) -> None:
    owner = studio.owner
    file_id = await upload(client, owner, "free.png", noisy_png(seed=2))
    created = await client.post(
        f"/api/v1/drive/files/{file_id}/shares", json={"expires_in": 600}, headers=owner.headers
    )
    share_url = local(created.json()["url"])
    assert (await client.get(share_url)).status_code == 307
    post = await create_post(client, owner, text="free", file_ids=[file_id], publish=True)
    assert (await client.get(share_url)).status_code == 307  # a free post shares like before
    changed = await client.patch(
        f"/api/v1/creator/content/posts/{post['id']}",
        json={"access": "ppv", "price_stars": 5},
        headers=owner.headers,
    )
    assert changed.status_code == 200, changed.text
    gone = await client.get(share_url)
    assert gone.status_code == 404
    # Deleting the post frees the file again.
    await client.delete(f"/api/v1/creator/content/posts/{post['id']}", headers=owner.headers)
    assert (await client.get(share_url)).status_code == 307


async def test_vip_media_opens_while_subscribed_and_closes_at_expiry(
    client: httpx.AsyncClient, studio: Studio, session_factory: Factory
) -> None:
    owner, alice = studio.owner, studio.alice
    gold = await create_package(client, owner, "Gold")
    silver = await create_package(client, owner, "Silver", 100)
    file_id = await upload(client, owner, "vip.png", noisy_png(seed=3))
    post = await create_post(
        client,
        owner,
        text="vip",
        access="vip",
        package_ids=[gold["id"]],
        file_ids=[file_id],
        publish=True,
    )
    item = await _feed_item(client, alice, post["id"])
    assert item["locked"] and item["unlock"]["kind"] == "vip"
    assert [p["name"] for p in item["unlock"]["packages"]] == ["Gold"]

    now = utcnow()

    async def subscribe(package: dict[str, Any]) -> None:
        async with session_scope(session_factory) as session:
            session.add(
                VipSubscription(
                    tenant_id=studio.bot.tenant_id,
                    user_id=alice.user_id,
                    package_id=package["id"],
                    period_end=now + timedelta(days=30),
                    is_recurring=False,
                    subscription_charge_id=f"c{package['id']}",
                )
            )

    await subscribe(silver)  # Silver does not open this post
    assert (await _feed_item(client, alice, post["id"]))["locked"] is True
    await subscribe(gold)
    item = await _feed_item(client, alice, post["id"])
    assert item["locked"] is False and item["unlocked_via"] == "vip"
    link = local(item["media"][0]["url"])
    assert (await client.get(link)).status_code == 200

    async with session_scope(session_factory) as session:
        notices = await vip.run_vip_expiry(session, now + timedelta(days=31))
    assert sorted(n.kind for n in notices) == ["expired", "expired"]
    assert (await client.get(link)).status_code == 403
    assert (await _feed_item(client, alice, post["id"]))["locked"] is True


async def test_drafts_scheduled_and_other_tenants_see_nothing(
    client: httpx.AsyncClient, studio: Studio, session_factory: Factory
) -> None:
    owner = studio.owner
    file_id = await upload(client, owner, "a.png", noisy_png(seed=4))
    draft = await create_post(client, owner, text="draft", file_ids=[file_id])
    later = await create_post(
        client,
        owner,
        text="later",
        publish_at=(utcnow() + timedelta(hours=2)).isoformat(),
    )
    assert later["status"] == "scheduled"
    for fan in (studio.alice, studio.carol):
        assert (await client.get("/api/v1/feed", headers=fan.headers)).json()["items"] == []
        for post in (draft, later):
            missing = await client.get(f"/api/v1/feed/{post['id']}", headers=fan.headers)
            assert missing.status_code == 404
    link = draft["media"][0]["url"]  # the creator's own link to the draft's media
    as_alice = _with_query(link, u=studio.alice.user_id)
    assert (await client.get(as_alice)).status_code == 403
    # A link of tenant 1 replayed under tenant 2's id: no such item there.
    other_tenant = local(link).replace(
        f"/content/{studio.bot.tenant_id}/", f"/content/{studio.other_bot.tenant_id}/"
    )
    assert (await client.get(other_tenant)).status_code == 404
    assert json.dumps(draft)  # the creator sees their draft in full
