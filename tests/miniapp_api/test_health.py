"""Liveness and readiness probes, with each dependency up, refusing, or hanging."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.miniapp_api.conftest import MakeClient

DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:1/atelier"


async def test_healthz(make_client: MakeClient) -> None:
    async with make_client(redis_url=DEAD_REDIS, database_url=DEAD_DATABASE) as client:
        response = await client.get("/healthz")  # alive even with every dependency down
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_ok(make_client: MakeClient) -> None:
    async with make_client() as client:
        response = await client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "redis": "ok"}}


async def test_readyz_names_redis_when_it_is_down(make_client: MakeClient) -> None:
    async with make_client(redis_url=DEAD_REDIS) as client:
        response = await asyncio.wait_for(client.get("/readyz"), timeout=30)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"].startswith("error: ")


async def test_readyz_names_the_database_when_it_is_down(make_client: MakeClient) -> None:
    async with make_client(database_url=DEAD_DATABASE) as client:
        response = await client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis"] == "ok"
    assert checks["database"].startswith("error: ")


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A TCP port that accepts connections and never answers (a hung Redis)."""
    connections: list[asyncio.StreamWriter] = []

    async def _accept(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)

    server = await asyncio.start_server(_accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield port
    for writer in connections:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_readyz_answers_in_time_when_redis_hangs(
    make_client: MakeClient, silent_server: int
) -> None:
    async with make_client(redis_url=f"redis://127.0.0.1:{silent_server}/0") as client:
        # The probe's own timeout must fire; the outer bound only turns a hang into a failure.
        response = await asyncio.wait_for(client.get("/readyz"), timeout=30)
    assert response.status_code == 503
    assert "no answer within" in response.json()["checks"]["redis"]
