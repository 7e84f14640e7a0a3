"""Folder pages and search as a fan pages through them: every sort and every search criterion
returns each matching file exactly once, in order, however many ties and whichever of the
search's two steps (newest files first, then the index) answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.drive import repository
from core.models import File
from tests.miniapp_api.drive.conftest import Fans, png

MP4 = b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64
MP3 = b"\xff\xfb\x90\x64" + b"\x00" * 64


async def upload(
    client: httpx.AsyncClient, h: dict[str, str], data: bytes, name: str, **params: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/drive/files", params={"name": name, **params}, content=data, headers=h
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def every_page(
    client: httpx.AsyncClient, h: dict[str, str], path: str, params: dict[str, Any]
) -> list[dict[str, Any]]:
    """All files of a listing or search, following ``next_cursor`` page by page."""
    found: list[dict[str, Any]] = []
    cursor = None
    for _ in range(100):
        page = await client.get(
            path, params={**params, **({"cursor": cursor} if cursor else {})}, headers=h
        )
        assert page.status_code == 200, page.text
        found += page.json()["files"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return found
    raise AssertionError("the cursor never ran out")


async def share_timestamps(
    factory: async_sessionmaker[AsyncSession], groups: list[list[int]]
) -> None:
    """Give every file of a group the same ``created_at`` (a job's outputs share one)."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    async with factory() as session:
        for n, ids in enumerate(groups):
            await session.execute(
                update(File).where(File.id.in_(ids)).values(created_at=base + timedelta(hours=n))
            )
        await session.commit()


SORT_KEYS = {"name": "name", "date": "created_at", "size": "size", "type": "mime_type"}


async def test_every_sort_pages_through_ties_exactly_once(
    client: httpx.AsyncClient, fans: Fans, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    h = fans.alice.headers
    folder = (await client.post("/api/v1/drive/folders", json={"name": "Ties"}, headers=h)).json()
    other = (await client.post("/api/v1/drive/folders", json={"name": "Other"}, headers=h)).json()
    sub = await client.post(
        "/api/v1/drive/folders", json={"name": "Sub", "parent_id": folder["id"]}, headers=h
    )
    made = []
    for i, (name, data) in enumerate(
        [
            ("same.txt", b"aaaa"),
            ("same.txt", b"bbbb"),
            ("same.txt", b"cc"),
            ("same.txt", b"aaaa"),
            ("b.png", png()),
            ("b.png", png()),
            ("clip.mp4", MP4),
            ("clip.mp4", MP4),
            ("tune.mp3", MP3),
            ("a.txt", b"cc"),
            ("z.txt", b"x" * 9),
            ("m.txt", b"x" * 9),
            ("m.txt", b"x" * 9),
        ]
    ):
        made.append(await upload(client, h, data, name, folder_id=folder["id"]))
        assert made[-1]["name"] == name, i
    trashed = await upload(client, h, b"gone", "gone.txt", folder_id=folder["id"])
    await client.delete(f"/api/v1/drive/files/{trashed['id']}", headers=h)
    await upload(client, h, b"elsewhere", "same.txt", folder_id=other["id"])
    await upload(client, fans.bob.headers, b"bob", "same.txt")
    ids = [f["id"] for f in made]
    await share_timestamps(session_factory, [ids[:5], ids[5:9], ids[9:]])

    listing = (
        await client.get("/api/v1/drive/list", params={"folder_id": folder["id"]}, headers=h)
    ).json()
    expected_rows = {f["id"]: f for f in listing["files"]}
    assert set(expected_rows) == set(ids)  # no trash, no other folder, no other fan
    assert [f["name"] for f in listing["folders"]] == [sub.json()["name"]]
    assert [c["name"] for c in listing["breadcrumbs"]] == ["Ties"]

    for sort, key in SORT_KEYS.items():
        for order in ("asc", "desc"):
            params = {"folder_id": folder["id"], "sort": sort, "order": order, "limit": 2}
            seen = await every_page(client, h, "/api/v1/drive/list", params)
            want = sorted(
                expected_rows.values(), key=lambda f: (f[key], f["id"]), reverse=order == "desc"
            )
            assert [f["id"] for f in seen] == [f["id"] for f in want], (sort, order)


async def test_a_file_added_mid_walk_neither_repeats_nor_hides_others(
    client: httpx.AsyncClient, fans: Fans
) -> None:
    h = fans.alice.headers
    before = [await upload(client, h, b"x" * (i + 1), f"f{i:02d}.txt") for i in range(7)]
    first = (
        await client.get("/api/v1/drive/list", params={"sort": "name", "limit": 3}, headers=h)
    ).json()
    await upload(client, h, b"new", "f00a.txt")  # sorts inside the first page, behind the cursor
    await upload(client, h, b"new", "f99.txt")  # sorts after everything: shows up at the end
    rest = await every_page(
        client,
        h,
        "/api/v1/drive/list",
        {"sort": "name", "limit": 3, "cursor": first["next_cursor"]},
    )
    names = [f["name"] for f in first["files"] + rest]
    assert names == [f["name"] for f in before] + ["f99.txt"]


async def test_a_trashed_folder_cannot_be_listed(client: httpx.AsyncClient, fans: Fans) -> None:
    h = fans.alice.headers
    folder = (await client.post("/api/v1/drive/folders", json={"name": "Old"}, headers=h)).json()
    await client.delete(f"/api/v1/drive/folders/{folder['id']}", headers=h)
    gone = await client.get("/api/v1/drive/list", params={"folder_id": folder["id"]}, headers=h)
    assert (gone.status_code, gone.json()["error"]["code"]) == (404, "not_found")


# -- search ------------------------------------------------------------------------------------

DRIVE = [
    # (name, content, folder, tags)
    ("Tabby cat.png", png(), "root", ["pets", "cats"]),
    ("cat_notes.txt", b"meow", "root", ["pets"]),
    ("Cathedral.mp4", MP4, "trips", ["travel"]),
    ("concat 100%.txt", b"percent", "trips", []),
    ("dog.png", png(color="blue"), "root", ["pets"]),
    ("dog walk.mp4", MP4, "trips", ["pets", "travel"]),
    ("lake sunset.png", png(color="green"), "trips", ["travel"]),
    ("lake notes.txt", b"notes", "trips", ["travel", "draft"]),
    ("song.mp3", MP3, "root", []),
    ("CAT song.mp3", MP3, "root", ["pets"]),
    ("scatter.txt", b"scatter", "root", ["draft"]),
    ("zebra_crossing.png", png(color="white"), "trips", []),
]
SEARCHES: list[dict[str, str]] = [
    {"q": "cat"},
    {"q": "CAT"},
    {"q": "_"},
    {"q": "%"},
    {"q": "lake "},
    {"q": "nothing like it"},
    {"tag": "pets"},
    {"tag": "  PETS "},
    {"tag": "travel"},
    {"tag": "nobody"},
    {"type": "image"},
    {"type": "video"},
    {"type": "audio/mpeg"},
    {"type": "text"},
    {"type": "application"},
    {"q": "cat", "type": "image"},
    {"q": "lake", "tag": "travel"},
    {"tag": "pets", "type": "video"},
    {"q": "o", "tag": "pets", "type": "audio"},
]


def matches(row: dict[str, Any], params: dict[str, str]) -> bool:
    wanted = params.get("type")
    return (
        ("q" not in params or params["q"].lower() in row["name"].lower())
        and ("tag" not in params or params["tag"].strip().lower() in row["tags"])
        and (not wanted or row["mime_type"].startswith(wanted if "/" in wanted else f"{wanted}/"))
    )


@pytest.mark.parametrize(
    ("window", "walk"),
    [(2, 0), (3, 1000), (repository.SEARCH_WINDOW, repository.SEARCH_WALK)],
    # A window of 2 holds the page or nothing matches in it: the index finds the rest. A
    # window of 3 holds one match of a page of two: the walk goes on, then the index.
    ids=["index step", "walk on", "recent step"],
)
async def test_search_finds_exactly_the_matches_newest_first(
    client: httpx.AsyncClient,
    fans: Fans,
    session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
    window: int,
    walk: int,
) -> None:
    monkeypatch.setattr(repository, "SEARCH_WINDOW", window)
    monkeypatch.setattr(repository, "SEARCH_WALK", walk)
    h = fans.alice.headers
    trips = (await client.post("/api/v1/drive/folders", json={"name": "Trips"}, headers=h)).json()
    rows = []
    for name, data, where, tags in DRIVE:
        params = {"folder_id": trips["id"]} if where == "trips" else {}
        row = await upload(client, h, data, name, **params)
        if tags:
            await client.put(
                f"/api/v1/drive/files/{row['id']}/tags", json={"tags": tags}, headers=h
            )
        rows.append({**row, "tags": tags})
    trashed = await upload(client, h, b"cat", "trashed cat.txt")
    await client.put(
        f"/api/v1/drive/files/{trashed['id']}/tags", json={"tags": ["pets"]}, headers=h
    )
    await client.delete(f"/api/v1/drive/files/{trashed['id']}", headers=h)
    bobs = await upload(client, fans.bob.headers, png(), "bob's cat.png")
    await client.put(
        f"/api/v1/drive/files/{bobs['id']}/tags", json={"tags": ["pets"]}, headers=fans.bob.headers
    )
    ids = [r["id"] for r in rows]
    await share_timestamps(session_factory, [ids[0:4], ids[4:5], ids[5:9], ids[9:]])
    created = {
        f["id"]: f["created_at"]
        for folder in (None, trips["id"])
        for f in await every_page(
            client,
            h,
            "/api/v1/drive/list",
            {"limit": 50, **({"folder_id": folder} if folder else {})},
        )
    }

    for params in SEARCHES:
        found = await every_page(client, h, "/api/v1/drive/search", {**params, "limit": 2})
        want = sorted(
            (r for r in rows if matches(r, params)),
            key=lambda r: (created[r["id"]], r["id"]),
            reverse=True,
        )
        assert [f["id"] for f in found] == [r["id"] for r in want], params
        assert all(f["tags"] == sorted(r["tags"]) for f, r in zip(found, want, strict=True))


async def test_search_needs_a_criterion_and_a_matching_cursor(
    client: httpx.AsyncClient, fans: Fans
) -> None:
    h = fans.alice.headers
    for i in range(3):
        await upload(client, h, b"x", f"cat {i}.txt")
    assert (await client.get("/api/v1/drive/search", headers=h)).status_code == 422
    page = (
        await client.get("/api/v1/drive/search", params={"q": "cat", "limit": 2}, headers=h)
    ).json()
    listing_cursor = await client.get(
        "/api/v1/drive/list", params={"cursor": page["next_cursor"]}, headers=h
    )
    assert (listing_cursor.status_code, listing_cursor.json()["error"]["code"]) == (
        400,
        "invalid_cursor",
    )
