"""The jobs API: listing with filters and cursors, detail with output links, cancelling."""

from __future__ import annotations

from typing import Any

import httpx

from core.settings import Settings
from tests.jobs.generation.conftest import run_jobs
from tests.miniapp_api.catalog.conftest import Fans

RUN = "/api/v1/catalog/tools/{}/run"


async def start(client: httpx.AsyncClient, fan_headers: dict[str, str], **params: Any) -> int:
    body = {"params": {"prompt": "a fox", **params}}
    response = await client.post(RUN.format("image-generate"), json=body, headers=fan_headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def test_a_finished_job_shows_its_outputs_with_links(
    client: httpx.AsyncClient, fans: Fans, settings: Settings
) -> None:
    job_id = await start(client, fans.alice.headers, n=2, size="96x64")
    await run_jobs(settings)
    response = await client.get(f"/api/v1/jobs/{job_id}", headers=fans.alice.headers)
    job = response.json()
    assert (job["status"], job["progress"], job["error"]) == ("succeeded", 100, None)
    assert job["params"]["n"] == 2 and len(job["outputs"]) == 2
    assert sorted(job["file_ids"]) == sorted(f["id"] for f in job["outputs"])
    output = job["outputs"][0]
    assert output["mime_type"].startswith("image/") and output["thumbnail_url"]
    image = await client.get(output["url"])
    assert image.status_code == 200 and image.content[:4] in (b"\x89PNG", b"RIFF")
    download = await client.get(output["download_url"])
    assert "attachment" in download.headers["content-disposition"]
    wallet = (await client.get("/api/v1/wallet", headers=fans.alice.headers)).json()
    assert wallet == {"balance": 1000 - 8, "reserved": 0, "available": 992}


async def test_list_is_newest_first_filtered_and_paged(
    client: httpx.AsyncClient, fans: Fans, settings: Settings
) -> None:
    h = fans.alice.headers
    first = await start(client, h)
    await run_jobs(settings)
    second, third = await start(client, h), await start(client, h)
    await client.post(f"/api/v1/jobs/{third}/cancel", headers=h)

    page = (await client.get("/api/v1/jobs", params={"limit": 2}, headers=h)).json()
    assert [j["id"] for j in page["jobs"]] == [third, second] and page["next_cursor"]
    rest = await client.get(
        "/api/v1/jobs", params={"limit": 2, "cursor": page["next_cursor"]}, headers=h
    )
    assert [j["id"] for j in rest.json()["jobs"]] == [first] and rest.json()["next_cursor"] is None

    async def ids(status: str) -> list[int]:
        response = await client.get("/api/v1/jobs", params={"status": status}, headers=h)
        return [j["id"] for j in response.json()["jobs"]]

    assert (
        await ids("succeeded"),
        await ids("cancelled"),
        await ids("queued"),
        await ids("active"),
    ) == (
        [first],
        [third],
        [second],
        [second],
    )
    assert (await client.get("/api/v1/jobs", headers=fans.bob.headers)).json()["jobs"] == []
    for bad in ({"status": "lost"}, {"limit": 0}, {"limit": 101}, {"cursor": "abc"}):
        response = await client.get("/api/v1/jobs", params=bad, headers=h)
        assert response.status_code == 422, bad


async def test_cancel_a_queued_job_returns_its_credits(
    client: httpx.AsyncClient, fans: Fans
) -> None:
    job_id = await start(client, fans.alice.headers)
    response = await client.post(f"/api/v1/jobs/{job_id}/cancel", headers=fans.alice.headers)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["error"]["code"]) == (
        "cancelled",
        "cancelled",
    )
    wallet = (await client.get("/api/v1/wallet", headers=fans.alice.headers)).json()
    assert wallet == {"balance": 1000, "reserved": 0, "available": 1000}
    again = await client.post(f"/api/v1/jobs/{job_id}/cancel", headers=fans.alice.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "job_finished"


async def test_unknown_and_malformed_job_ids(client: httpx.AsyncClient, fans: Fans) -> None:
    h = fans.alice.headers
    assert (await client.get("/api/v1/jobs/999999", headers=h)).status_code == 404
    for path in ("/api/v1/jobs/0", "/api/v1/jobs/abc", f"/api/v1/jobs/{2**63}"):
        assert (await client.get(path, headers=h)).status_code == 422, path
    assert (await client.get("/api/v1/jobs")).status_code == 401
