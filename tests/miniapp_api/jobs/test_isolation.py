"""Every id-taking jobs route × another user's job and another tenant's job → 404; and the
catalogue's slug routes × a tool hidden in the owner's tenant only."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import session_scope
from jobs.catalog.service import set_tenant_tool
from tests.miniapp_api.catalog.conftest import Fans

JOB_ROUTES = [
    ("GET", "/api/v1/jobs/{job}"),
    ("POST", "/api/v1/jobs/{job}/cancel"),
    ("GET", "/api/v1/jobs/{job}/events"),
]
TOOL_ROUTES = [
    ("GET", "/api/v1/catalog/tools/test-slow-image", None),
    ("PUT", "/api/v1/catalog/tools/test-slow-image/favourite", None),
    ("DELETE", "/api/v1/catalog/tools/test-slow-image/favourite", None),
    ("POST", "/api/v1/catalog/tools/test-slow-image/quote", {"params": {"prompt": "x"}}),
    ("POST", "/api/v1/catalog/tools/test-slow-image/run", {"params": {"prompt": "x"}}),
]


@pytest.mark.parametrize("intruder", ["same_tenant", "other_tenant"])
@pytest.mark.parametrize(("method", "path"), JOB_ROUTES, ids=[f"{m} {p}" for m, p in JOB_ROUTES])
async def test_others_jobs_are_404(
    client: httpx.AsyncClient, fans: Fans, intruder: str, method: str, path: str
) -> None:
    run = await client.post(
        "/api/v1/catalog/tools/image-generate/run",
        json={"params": {"prompt": "mine"}},
        headers=fans.alice.headers,
    )
    job_id = run.json()["id"]
    stranger = fans.bob if intruder == "same_tenant" else fans.carol
    response = await client.request(method, path.format(job=job_id), headers=stranger.headers)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"
    mine = await client.get(f"/api/v1/jobs/{job_id}", headers=fans.alice.headers)
    assert mine.json()["status"] == "queued"  # untouched (not cancelled)


@pytest.mark.parametrize(
    ("method", "path", "body"), TOOL_ROUTES, ids=[f"{m} {p}" for m, p, _ in TOOL_ROUTES]
)
async def test_a_tool_hidden_by_one_tenant_is_404_only_there(
    client: httpx.AsyncClient,
    fans: Fans,
    session_factory: async_sessionmaker[AsyncSession],
    method: str,
    path: str,
    body: dict[str, object] | None,
) -> None:
    async with session_scope(session_factory) as session:
        await set_tenant_tool(session, fans.carol.bot.tenant_id, "test-slow-image", hidden=True)
    hidden = await client.request(method, path, json=body, headers=fans.carol.headers)
    assert hidden.status_code == 404 and hidden.json()["error"]["code"] == "not_found"
    offered = await client.request(method, path, json=body, headers=fans.alice.headers)
    assert offered.is_success, offered.text
