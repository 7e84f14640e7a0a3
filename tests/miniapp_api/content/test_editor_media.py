"""The post editor's round trip (issue 8): each media item of the creator's post carries the
drive ``file_id`` next to the post-media ``id``, so the editor can send ``file_ids`` back
unchanged, or add a file to them, and the post keeps its media."""

from __future__ import annotations

from typing import Any

import httpx

from tests.miniapp_api.content.conftest import Studio, create_post, noisy_png, upload

POSTS = "/api/v1/creator/content/posts"


def files_of(post: dict[str, Any]) -> list[int]:
    return [item["file_id"] for item in post["media"]]


async def test_editing_the_text_with_the_posts_own_file_ids_keeps_its_media(
    client: httpx.AsyncClient, studio: Studio
) -> None:
    owner = studio.owner
    first = await upload(client, owner, "one.png", noisy_png(64, 48, seed=1))
    second = await upload(client, owner, "two.png", noisy_png(48, 64, seed=2))
    third = await upload(client, owner, "three.png", noisy_png(32, 32, seed=3))
    post = await create_post(client, owner, text="before", file_ids=[second, first])
    assert files_of(post) == [second, first]
    assert [item["name"] for item in post["media"]] == ["two.png", "one.png"]

    shown = await client.get(f"{POSTS}/{post['id']}", headers=owner.headers)
    media_ids = [item["id"] for item in shown.json()["media"]]
    edited = await client.patch(
        f"{POSTS}/{post['id']}",
        json={"text": "after", "file_ids": files_of(shown.json())},  # what the editor sends
        headers=owner.headers,
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["text_html"] == "after"
    assert files_of(edited.json()) == [second, first]
    assert [item["id"] for item in edited.json()["media"]] == media_ids  # untouched rows

    grown = await client.patch(
        f"{POSTS}/{post['id']}",
        json={"file_ids": [*files_of(edited.json()), third]},
        headers=owner.headers,
    )
    assert grown.status_code == 200, grown.text
    assert [item["name"] for item in grown.json()["media"]] == ["two.png", "one.png", "three.png"]
