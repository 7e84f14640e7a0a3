"""Every drive endpoint × another user's object and another tenant's object → 404."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.miniapp_api.drive.conftest import Fans, png

# (method, path, JSON body); {file}, {folder}, {trashed_file}, {trashed_folder}, {share} are
# ids of the owner's objects.
ENDPOINTS: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/api/v1/drive/list?folder_id={folder}", None),
    ("POST", "/api/v1/drive/folders", {"name": "x", "parent_id": "{folder}"}),
    ("PATCH", "/api/v1/drive/folders/{folder}", {"name": "renamed"}),
    ("DELETE", "/api/v1/drive/folders/{folder}", None),
    ("POST", "/api/v1/drive/folders/{trashed_folder}/restore", None),
    ("DELETE", "/api/v1/drive/folders/{trashed_folder}/purge", None),
    ("POST", "/api/v1/drive/files?name=a.txt&folder_id={folder}", None),
    ("GET", "/api/v1/drive/files/{file}", None),
    ("GET", "/api/v1/drive/files/{file}/download", None),
    ("PATCH", "/api/v1/drive/files/{file}", {"name": "renamed"}),
    ("POST", "/api/v1/drive/files/move", {"file_ids": ["{file}"], "folder_id": None}),
    ("PUT", "/api/v1/drive/files/{file}/tags", {"tags": ["x"]}),
    ("DELETE", "/api/v1/drive/files/{file}", None),
    ("POST", "/api/v1/drive/files/{trashed_file}/restore", None),
    ("DELETE", "/api/v1/drive/files/{trashed_file}/purge", None),
    ("POST", "/api/v1/drive/files/{file}/shares", {"expires_in": 600}),
    ("GET", "/api/v1/drive/files/{file}/shares", None),
    ("DELETE", "/api/v1/drive/shares/{share}", None),
]


def _fill(value: Any, ids: dict[str, int]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    if isinstance(value, list):
        return [_fill(v, ids) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, ids) for k, v in value.items()}
    return value


async def _objects(client: httpx.AsyncClient, h: dict[str, str]) -> dict[str, int]:
    async def make_folder(name: str) -> int:
        response = await client.post("/api/v1/drive/folders", json={"name": name}, headers=h)
        return int(response.json()["id"])

    async def make_file(name: str) -> int:
        response = await client.post(
            "/api/v1/drive/files", params={"name": name}, content=png(), headers=h
        )
        return int(response.json()["id"])

    ids = {
        "folder": await make_folder("mine"),
        "trashed_folder": await make_folder("old"),
        "file": await make_file("mine.png"),
        "trashed_file": await make_file("old.png"),
    }
    await client.delete(f"/api/v1/drive/folders/{ids['trashed_folder']}", headers=h)
    await client.delete(f"/api/v1/drive/files/{ids['trashed_file']}", headers=h)
    share = await client.post(
        f"/api/v1/drive/files/{ids['file']}/shares", json={"expires_in": 600}, headers=h
    )
    ids["share"] = share.json()["id"]
    return ids


@pytest.mark.parametrize("intruder", ["same_tenant", "other_tenant"])
@pytest.mark.parametrize(
    ("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS]
)
async def test_others_objects_are_404(
    client: httpx.AsyncClient,
    fans: Fans,
    intruder: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    ids = await _objects(client, fans.alice.headers)
    stranger = fans.bob if intruder == "same_tenant" else fans.carol
    response = await client.request(
        method,
        path.format(**ids),
        json=_fill(body, ids),
        content=b"hello" if body is None and method == "POST" else None,
        headers=stranger.headers,
    )
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"
    # ...and the owner still has everything untouched.
    mine = await client.get(f"/api/v1/drive/files/{ids['file']}", headers=fans.alice.headers)
    assert mine.status_code == 200 and mine.json()["name"] == "mine.png"
