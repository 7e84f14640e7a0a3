"""The drive API as a fan uses it: folders, uploads, listing, search, tags, trash, sharing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import session_scope
from core.drive import service as drive
from core.models import File
from core.models.drive import FileSource
from miniapp_api.drive.schemas import ListingOut, PageOut, TrashOut
from tests.miniapp_api.drive.conftest import Fans, png


async def upload(
    client: httpx.AsyncClient, headers: dict[str, str], data: bytes, name: str, **params: Any
) -> httpx.Response:
    return await client.post(
        "/api/v1/drive/files", params={"name": name, **params}, content=data, headers=headers
    )


async def fetch(client: httpx.AsyncClient, url: str, **kwargs: Any) -> httpx.Response:
    parts = urlsplit(url)
    return await client.get(f"{parts.path}?{parts.query}", **kwargs)


async def test_folders_tree_breadcrumbs_and_cycles(client: httpx.AsyncClient, fans: Fans) -> None:
    h = fans.alice.headers
    art = (await client.post("/api/v1/drive/folders", json={"name": "Art"}, headers=h)).json()
    sub = await client.post(
        "/api/v1/drive/folders",
        json={"name": "Sketches", "parent_id": art["id"], "color": "#ff8800"},
        headers=h,
    )
    assert sub.status_code == 201
    sub_id = sub.json()["id"]
    dup = await client.post("/api/v1/drive/folders", json={"name": "Art"}, headers=h)
    assert (dup.status_code, dup.json()["error"]["code"]) == (409, "folder_conflict")
    cycle = await client.patch(
        f"/api/v1/drive/folders/{art['id']}", json={"parent_id": sub_id}, headers=h
    )
    assert cycle.status_code == 409
    renamed = await client.patch(
        f"/api/v1/drive/folders/{sub_id}", json={"name": "Drafts", "parent_id": None}, headers=h
    )
    assert renamed.json()["parent_id"] is None and renamed.json()["name"] == "Drafts"
    await client.patch(f"/api/v1/drive/folders/{sub_id}", json={"parent_id": art["id"]}, headers=h)
    listing = (
        await client.get("/api/v1/drive/list", params={"folder_id": sub_id}, headers=h)
    ).json()
    assert [c["name"] for c in listing["breadcrumbs"]] == ["Art", "Drafts"]
    tree = (await client.get("/api/v1/drive/folders", headers=h)).json()
    assert {(f["name"], f["color"]) for f in tree} == {("Art", None), ("Drafts", "#ff8800")}
    bad = await client.post("/api/v1/drive/folders", json={"name": "x", "color": "red"}, headers=h)
    assert bad.status_code == 422


async def test_upload_sniffs_sanitises_and_serves_with_range(
    client: httpx.AsyncClient, fans: Fans
) -> None:
    h = fans.alice.headers
    data = png()
    response = await upload(client, h, data, "../../etc/pass\x00wd.txt")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["mime_type"] == "image/png" and body["type"] == "image"  # not the .txt name
    assert body["name"] == ".._.._etc_pass wd.txt"
    full = await fetch(client, body["url"])
    assert full.status_code == 200 and full.content == data
    assert full.headers["x-content-type-options"] == "nosniff"
    part = await fetch(client, body["url"], headers={"Range": "bytes=0-7"})
    assert part.status_code == 206 and part.content == data[:8]
    link = (await client.get(f"/api/v1/drive/files/{body['id']}/download", headers=h)).json()
    assert "attachment" in (await fetch(client, link["url"])).headers["content-disposition"]
    usage = (await client.get("/api/v1/drive/usage", headers=h)).json()
    assert usage["user_bytes"] == len(data) and usage["quota_bytes"] == 5 * 1024**3


@pytest.mark.parametrize(
    ("data", "name", "status", "code"),
    [
        (b"\x00\x01\x02binary junk" * 10, "x.png", 415, "unsupported_media_type"),
        (b"hello", "", 422, "invalid"),
        (b"hello", "..", 422, "invalid"),
    ],
)
async def test_bad_uploads(
    client: httpx.AsyncClient, fans: Fans, data: bytes, name: str, status: int, code: str
) -> None:
    response = await upload(client, fans.alice.headers, data, name)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


async def test_decompression_bomb_is_refused(client: httpx.AsyncClient, fans: Fans) -> None:
    response = await upload(client, fans.alice.headers, png(10_000, 6_000, "black"), "bomb.png")
    assert (response.status_code, response.json()["error"]["code"]) == (413, "image_too_large")


async def test_quota_is_checked_before_and_while_streaming(
    client: httpx.AsyncClient, fans: Fans, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drive, "MAX_FILE_BYTES", 1000)
    h = fans.alice.headers
    declared = await upload(client, h, b"a" * 2000, "big.txt")
    assert (declared.status_code, declared.json()["error"]["code"]) == (413, "quota_exceeded")

    async def stream() -> Any:
        for _ in range(20):
            yield b"b" * 100

    streamed = await client.post(
        "/api/v1/drive/files", params={"name": "s.txt"}, content=stream(), headers=h
    )
    assert streamed.status_code == 413
    assert (await client.get("/api/v1/drive/usage", headers=h)).json()["user_bytes"] == 0


async def test_listing_sorting_and_cursor_pages(client: httpx.AsyncClient, fans: Fans) -> None:
    h = fans.alice.headers
    for i, name in enumerate(["delta.txt", "alpha.txt", "charlie.txt", "bravo.txt", "echo.txt"]):
        await upload(client, h, b"x" * (i + 1), name)
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"sort": "name", "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/drive/list", params=params, headers=h)).json()
        seen += [f["name"] for f in page["files"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(seen) and len(seen) == 5
    by_size = await client.get(
        "/api/v1/drive/list", params={"sort": "size", "order": "desc", "limit": 2}, headers=h
    )
    assert [f["size"] for f in by_size.json()["files"]] == [5, 4]
    second = await client.get(
        "/api/v1/drive/list",
        params={
            "sort": "size",
            "order": "desc",
            "limit": 2,
            "cursor": by_size.json()["next_cursor"],
        },
        headers=h,
    )
    assert [f["size"] for f in second.json()["files"]] == [3, 2]
    wrong = await client.get(
        "/api/v1/drive/list",
        params={"sort": "name", "cursor": by_size.json()["next_cursor"]},
        headers=h,
    )
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "invalid_cursor")
    junk = await client.get("/api/v1/drive/list", params={"cursor": "!!!"}, headers=h)
    assert junk.status_code == 400
    bad_sort = await client.get("/api/v1/drive/list", params={"sort": "colour"}, headers=h)
    assert bad_sort.status_code == 422


async def test_move_tags_search(client: httpx.AsyncClient, fans: Fans) -> None:
    h = fans.alice.headers
    folder = (await client.post("/api/v1/drive/folders", json={"name": "Cats"}, headers=h)).json()
    a = (await upload(client, h, png(), "Tabby cat.png")).json()
    b = (await upload(client, h, b"meow notes", "cat_notes.txt")).json()
    c = (await upload(client, h, b"dog notes", "dog.txt")).json()
    moved = await client.post(
        "/api/v1/drive/files/move",
        json={"file_ids": [a["id"], b["id"]], "folder_id": folder["id"]},
        headers=h,
    )
    assert moved.json() == {"moved": sorted([a["id"], b["id"]])}
    inside = (
        await client.get("/api/v1/drive/list", params={"folder_id": folder["id"]}, headers=h)
    ).json()
    assert {f["name"] for f in inside["files"]} == {"Tabby cat.png", "cat_notes.txt"}
    tags = await client.put(
        f"/api/v1/drive/files/{c['id']}/tags", json={"tags": ["Pets", "pets", "draft"]}, headers=h
    )
    assert tags.json() == {"tags": ["draft", "pets"]}
    assert (await client.get("/api/v1/drive/tags", headers=h)).json() == [
        {"tag": "draft", "files": 1},
        {"tag": "pets", "files": 1},
    ]

    async def names(**params: str) -> set[str]:
        found = await client.get("/api/v1/drive/search", params=params, headers=h)
        assert found.status_code == 200, found.text
        return {f["name"] for f in found.json()["files"]}

    assert await names(q="CAT") == {"Tabby cat.png", "cat_notes.txt"}
    assert await names(q="_") == {"cat_notes.txt"}  # wildcards are literal
    assert await names(tag="pets") == {"dog.txt"}
    assert await names(type="image") == {"Tabby cat.png"}
    assert await names(q="notes", type="text") == {"cat_notes.txt"}
    assert (await client.get("/api/v1/drive/search", headers=h)).status_code == 422
    renamed = await client.patch(
        f"/api/v1/drive/files/{c['id']}", json={"name": "puppy.txt", "folder_id": None}, headers=h
    )
    assert renamed.json()["name"] == "puppy.txt" and renamed.json()["tags"] == ["draft", "pets"]


async def test_trash_restore_and_purge(client: httpx.AsyncClient, fans: Fans) -> None:
    h = fans.alice.headers
    folder = (await client.post("/api/v1/drive/folders", json={"name": "Old"}, headers=h)).json()
    inner = (await upload(client, h, b"inner", "inner.txt", folder_id=folder["id"])).json()
    loose = (await upload(client, h, b"loose", "loose.txt")).json()
    assert (
        await client.delete(f"/api/v1/drive/folders/{folder['id']}", headers=h)
    ).status_code == 204
    assert (await client.delete(f"/api/v1/drive/files/{loose['id']}", headers=h)).status_code == 204
    root = (await client.get("/api/v1/drive/list", headers=h)).json()
    assert root["folders"] == [] and root["files"] == []
    assert (await client.get("/api/v1/drive/search", params={"q": "inner"}, headers=h)).json()[
        "files"
    ] == []
    trash = (await client.get("/api/v1/drive/trash", headers=h)).json()
    assert [f["name"] for f in trash["folders"]] == ["Old"]
    assert [f["name"] for f in trash["files"]] == ["loose.txt"]  # inner.txt went with its folder
    restored = await client.post(f"/api/v1/drive/folders/{folder['id']}/restore", headers=h)
    assert restored.status_code == 200
    inside = (
        await client.get("/api/v1/drive/list", params={"folder_id": folder["id"]}, headers=h)
    ).json()
    assert [f["id"] for f in inside["files"]] == [inner["id"]]
    live = await client.delete(f"/api/v1/drive/files/{inner['id']}/purge", headers=h)
    assert (live.status_code, live.json()["error"]["code"]) == (409, "not_in_trash")
    assert (
        await client.delete(f"/api/v1/drive/files/{loose['id']}/purge", headers=h)
    ).status_code == 204
    assert (await client.get(f"/api/v1/drive/files/{loose['id']}", headers=h)).status_code == 404
    await client.delete(f"/api/v1/drive/files/{inner['id']}", headers=h)
    assert (await client.delete("/api/v1/drive/trash", headers=h)).json() == {"purged": 1}
    assert (await client.get("/api/v1/drive/trash", headers=h)).json() == {
        "folders": [],
        "files": [],
        "next_cursor": None,
    }


async def test_share_links(client: httpx.AsyncClient, fans: Fans) -> None:
    h = fans.alice.headers
    data = png()
    file = (await upload(client, h, data, "share me.png")).json()
    created = await client.post(
        f"/api/v1/drive/files/{file['id']}/shares", json={"expires_in": 3600}, headers=h
    )
    assert created.status_code == 201
    share = created.json()
    public = await fetch(client, share["url"])  # no Authorization header
    assert public.status_code == 307
    assert (await fetch(client, public.headers["location"])).content == data
    listed = (await client.get(f"/api/v1/drive/files/{file['id']}/shares", headers=h)).json()
    assert [s["id"] for s in listed] == [share["id"]] and listed[0]["url"] is None
    assert (
        await client.delete(f"/api/v1/drive/shares/{share['id']}", headers=h)
    ).status_code == 204
    assert (await fetch(client, share["url"])).status_code == 404
    assert (await client.get("/api/v1/share/not-a-token")).status_code == 404
    short = await client.post(
        f"/api/v1/drive/files/{file['id']}/shares", json={"expires_in": 5}, headers=h
    )
    assert short.status_code == 422


async def test_s3_upload_and_presigned_download(s3_client: httpx.AsyncClient, fans: Fans) -> None:
    h = fans.alice.headers
    data = png(32, 32, "blue")
    body = (await upload(s3_client, h, data, "s3.png")).json()
    assert body["url"].startswith("http://127.0.0.1")
    async with httpx.AsyncClient() as outside:
        got = await outside.get(body["url"], headers={"Range": "bytes=0-3"})
    assert got.status_code == 206 and got.content == data[:4]


async def test_listings_answer_what_their_schemas_promise(
    client: httpx.AsyncClient, fans: Fans
) -> None:
    """Folder pages, searches and the trash are written as JSON directly (no model per file):
    what they send must still be exactly what the API schema documents."""
    h = fans.alice.headers
    folder = (await client.post("/api/v1/drive/folders", json={"name": "Pics"}, headers=h)).json()
    image = (await upload(client, h, png(), "cat.png", folder_id=folder["id"])).json()
    note = (await upload(client, h, b"notes", "note.txt")).json()
    await client.put(f"/api/v1/drive/files/{image['id']}/tags", json={"tags": ["pets"]}, headers=h)
    await client.delete(f"/api/v1/drive/files/{note['id']}", headers=h)

    listing = await client.get("/api/v1/drive/list", params={"folder_id": folder["id"]}, headers=h)
    page = ListingOut.model_validate_json(listing.content, strict=True)
    assert [c.name for c in page.breadcrumbs] == ["Pics"] and page.folder is not None
    assert [(f.name, f.tags, f.type) for f in page.files] == [("cat.png", ["pets"], "image")]
    opened = (await client.get(f"/api/v1/drive/files/{image['id']}", headers=h)).json()
    # A page lists what a grid shows; the file's own link comes when it is opened.
    assert listing.json()["files"][0] == {k: v for k, v in opened.items() if k != "url"}
    assert opened["tags"] == ["pets"] and opened["url"]
    found = await client.get("/api/v1/drive/search", params={"tag": "pets"}, headers=h)
    assert [f.id for f in PageOut.model_validate_json(found.content).files] == [image["id"]]
    trash = await client.get("/api/v1/drive/trash", headers=h)
    trashed = TrashOut.model_validate_json(trash.content)
    assert [f.name for f in trashed.files] == ["note.txt"] and trashed.files[0].deleted_at


async def test_links_stay_the_same_and_the_browser_may_keep_what_they_fetch(
    client: httpx.AsyncClient, fans: Fans
) -> None:
    """A file opened twice gets the same link (its expiry is rounded), so the browser's cache
    serves it again; the answer says how long it may keep it."""
    h = fans.alice.headers
    cat = (await upload(client, h, png(), "cat.png")).json()
    first, again = [
        (await client.get(f"/api/v1/drive/files/{cat['id']}", headers=h)).json() for _ in range(2)
    ]
    assert first["url"] == again["url"]
    answer = await fetch(client, first["url"])
    assert answer.status_code == 200
    directive, _, age = answer.headers["cache-control"].partition(", max-age=")
    assert directive == "private" and 3600 - 5 <= int(age) <= 3600 + 300


async def test_the_trash_pages_latest_first(client: httpx.AsyncClient, fans: Fans) -> None:
    h = fans.alice.headers
    folder = (await client.post("/api/v1/drive/folders", json={"name": "Old"}, headers=h)).json()
    ids = [(await upload(client, h, b"x" * (i + 1), f"f{i}.txt")).json()["id"] for i in range(5)]
    for file_id in ids:
        await client.delete(f"/api/v1/drive/files/{file_id}", headers=h)
    await client.delete(f"/api/v1/drive/folders/{folder['id']}", headers=h)
    pages, cursor = [], None
    while True:
        answer = await client.get(
            "/api/v1/drive/trash",
            params={"limit": 2, **({"cursor": cursor} if cursor else {})},
            headers=h,
        )
        assert answer.status_code == 200, answer.text
        pages.append(TrashOut.model_validate_json(answer.content))
        cursor = pages[-1].next_cursor
        if cursor is None:
            break
    assert [[f.name for f in p.folders] for p in pages] == [["Old"], [], []]
    assert [f.id for p in pages for f in p.files] == ids[::-1]  # each once, latest first
    wrong = await client.get("/api/v1/drive/trash", params={"cursor": "e30"}, headers=h)
    assert (wrong.status_code, wrong.json()["error"]["code"]) == (400, "invalid_cursor")


async def test_generated_files_list_their_provenance_and_uploads_none(
    client: httpx.AsyncClient, fans: Fans, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The "run again" button reads the tool, prompt and form values from the listing."""
    h, tenant_id = fans.alice.headers, fans.alice.bot.tenant_id
    await upload(client, h, png(), "mine.png")
    made = {"tool": "image-generate", "prompt": "a red fox", "job_id": 7, "params": {"seed": 7}}
    async with session_scope(session_factory) as session:
        session.add(
            File(
                tenant_id=tenant_id,
                user_id=fans.alice.user_id,
                name="fox.png",
                storage_key=f"generated/{tenant_id}/fox",
                mime_type="image/png",
                size=1000,
                sha256="0" * 64,
                source=FileSource.GENERATED,
                output_key="job:7:output:0",
                provenance=made,
            )
        )
    listed = (await client.get("/api/v1/drive/list", headers=h)).json()["files"]
    assert {f["name"]: f["provenance"] for f in listed} == {"fox.png": made, "mine.png": None}
    found = (await client.get("/api/v1/drive/search", params={"q": "fox"}, headers=h)).json()
    assert [f["provenance"] for f in found["files"]] == [made]
