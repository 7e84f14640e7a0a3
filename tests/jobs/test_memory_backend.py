"""``ATELIER_REDIS_URL=memory://``: API and worker share an in-process Redis, same arq code."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.redis import (
    close_redis,
    create_redis,
    memory_server,
    reset_memory_servers,
    uses_memory_backend,
)
from core.settings import Settings
from jobs.worker import worker_settings
from tests.jobs.conftest import run_burst_worker
from tests.jobs.probes import PROBE_KEY
from tests.miniapp_api.conftest import build_app


@pytest.fixture
def memory_settings(settings: Settings, engine: AsyncEngine) -> Iterator[Settings]:
    reset_memory_servers()
    yield settings.model_copy(update={"redis_url": "memory://"})
    reset_memory_servers()


def test_clients_for_the_same_url_share_one_server() -> None:
    assert memory_server("memory://") is memory_server("memory://")
    assert memory_server("memory://a") is not memory_server("memory://b")
    assert uses_memory_backend(create_redis(url="memory://"))
    assert not uses_memory_backend(create_redis(url="redis://127.0.0.1:6379/0"))


def test_worker_settings_use_the_in_process_pool(memory_settings: Settings) -> None:
    config = worker_settings(memory_settings)
    assert "redis_settings" not in config
    assert uses_memory_backend(config["redis_pool"])


async def test_a_job_runs_end_to_end_in_process(memory_settings: Settings) -> None:
    app = build_app(memory_settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            assert (await client.get("/readyz")).json()["checks"]["redis"] == "ok"
            response = await client.post("/api/v1/test/tenants", params={"name": "in-memory"})
            assert response.status_code == 200

        # The worker starts (arq's INFO call included) and runs the job on the shared server.
        worker = await run_burst_worker(memory_settings)

        assert worker.jobs_complete == 1 and worker.jobs_failed == 0
        redis = create_redis(memory_settings)
        try:
            assert await redis.get(PROBE_KEY.format("in-memory")) == b"row"
        finally:
            await close_redis(redis)
