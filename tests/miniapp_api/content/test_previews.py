"""The worker's blurred previews: made once per source picture, replaced (and the old object
deleted) when the post's first picture changes, dropped when nothing is left to blur."""

from __future__ import annotations

import io
from typing import Any

import httpx
from PIL import Image

from core.models import Post
from core.storage import ObjectNotFoundError, create_storage
from jobs.content_tasks import content_post_preview
from tests.jobs.conftest import run_burst_worker
from tests.miniapp_api.content.conftest import (
    Factory,
    Studio,
    create_post,
    local,
    noisy_png,
    upload,
    worker_ctx,
)


def wav() -> bytes:
    import wave

    out = io.BytesIO()
    with wave.open(out, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes(b"\x00\x10" * 8000)
    return out.getvalue()


async def _post_row(factory: Factory, post_id: int) -> Post:
    async with factory() as session:
        post = await session.get(Post, post_id)
    assert post is not None
    return post


async def test_preview_follows_the_first_picture(
    client: httpx.AsyncClient, studio: Studio, settings: Any, session_factory: Factory
) -> None:
    owner = studio.owner
    first = await upload(client, owner, "one.png", noisy_png(640, 480, seed=11))
    second = await upload(client, owner, "two.png", noisy_png(200, 300, seed=12))
    sound = await upload(client, owner, "tune.wav", wav())
    post = await create_post(
        client, owner, text="x", access="ppv", price_stars=9, file_ids=[sound, first], publish=True
    )
    await run_burst_worker(settings)  # thumbnails of the uploads, then the preview
    row = await _post_row(session_factory, post["id"])
    assert row.preview_source == f"file:{first}" and row.preview_key
    old_key = row.preview_key
    ctx = worker_ctx(settings, session_factory)
    assert (await content_post_preview(ctx, post["id"], studio.bot.tenant_id))["unchanged"]

    item = (await client.get(f"/api/v1/feed/{post['id']}", headers=studio.alice.headers)).json()
    shown = await client.get(local(item["preview_url"]))
    with Image.open(io.BytesIO(shown.content)) as image:
        assert image.format == "JPEG" and max(image.size) <= 480

    changed = await client.patch(
        f"/api/v1/creator/content/posts/{post['id']}",
        json={"file_ids": [second]},
        headers=owner.headers,
    )
    assert changed.status_code == 200
    await run_burst_worker(settings)  # the new preview, then the old object's deletion
    row = await _post_row(session_factory, post["id"])
    assert row.preview_source == f"file:{second}" and row.preview_key != old_key
    storage = create_storage(settings)
    try:
        await storage.stat(old_key)
        raise AssertionError("the old preview object is still stored")
    except ObjectNotFoundError:
        pass

    await client.patch(
        f"/api/v1/creator/content/posts/{post['id']}",
        json={"file_ids": [sound]},
        headers=owner.headers,
    )
    row = await _post_row(session_factory, post["id"])
    assert row.preview_key is None and row.preview_source is None
    item = (await client.get(f"/api/v1/feed/{post['id']}", headers=studio.alice.headers)).json()
    assert item["preview_url"] is None and item["media_kinds"] == ["audio"]
