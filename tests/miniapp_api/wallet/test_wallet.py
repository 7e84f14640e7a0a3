"""The wallet API: balance, reserved and available; the ledger history newest first, paged."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.miniapp_api.auth.helpers import sign_in
from tests.miniapp_api.catalog.conftest import Fans, fund

Factory = async_sessionmaker[AsyncSession]


async def test_balance_and_history(
    client: httpx.AsyncClient, fans: Fans, session_factory: Factory
) -> None:
    h = fans.alice.headers
    await fund(session_factory, fans.alice, 50)
    run = await client.post(
        "/api/v1/catalog/tools/image-generate/run", json={"params": {"prompt": "x"}}, headers=h
    )
    job_id = run.json()["id"]
    await client.post(f"/api/v1/jobs/{job_id}/cancel", headers=h)

    assert (await client.get("/api/v1/wallet", headers=h)).json() == {
        "balance": 1050,
        "reserved": 0,
        "available": 1050,
    }
    entries = (await client.get("/api/v1/wallet/history", headers=h)).json()["entries"]
    assert [(e["kind"], e["amount"], e["reserved_delta"]) for e in entries] == [
        ("release", 0, -4),
        ("reserve", 0, 4),
        ("credit", 50, 0),
        ("credit", 1000, 0),
    ]
    assert (entries[0]["job_id"], entries[0]["tool"]) == (job_id, "image-generate")
    assert entries[-1]["reason"] == "test top-up" and entries[-1]["created_at"]

    first = (await client.get("/api/v1/wallet/history", params={"limit": 3}, headers=h)).json()
    assert len(first["entries"]) == 3 and first["next_cursor"]
    rest = await client.get(
        "/api/v1/wallet/history", params={"limit": 3, "cursor": first["next_cursor"]}, headers=h
    )
    assert [e["amount"] for e in rest.json()["entries"]] == [1000]
    assert rest.json()["next_cursor"] is None


async def test_history_is_the_fans_own(client: httpx.AsyncClient, fans: Fans) -> None:
    bob = (await client.get("/api/v1/wallet/history", headers=fans.bob.headers)).json()
    carol = (await client.get("/api/v1/wallet/history", headers=fans.carol.headers)).json()
    assert [e["amount"] for e in bob["entries"]] == [1000]
    assert [e["amount"] for e in carol["entries"]] == [1000]


async def test_a_new_fan_has_an_empty_wallet(client: httpx.AsyncClient, fans: Fans) -> None:
    newcomer = await sign_in(client, fans.alice.bot)
    assert (await client.get("/api/v1/wallet", headers=newcomer.headers)).json() == {
        "balance": 0,
        "reserved": 0,
        "available": 0,
    }
    history = await client.get("/api/v1/wallet/history", headers=newcomer.headers)
    assert history.json() == {"entries": [], "next_cursor": None}


async def test_bad_paging_is_422_and_anonymous_is_401(
    client: httpx.AsyncClient, fans: Fans
) -> None:
    for bad in ({"limit": 0}, {"limit": 101}, {"cursor": "-1"}, {"cursor": "1" * 25}):
        response = await client.get(
            "/api/v1/wallet/history", params=bad, headers=fans.alice.headers
        )
        assert response.status_code == 422 and response.json()["error"]["code"] == "invalid"
    assert (await client.get("/api/v1/wallet")).status_code == 401
