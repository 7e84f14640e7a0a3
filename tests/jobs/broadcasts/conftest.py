"""Broadcast tests: an emulator in this process, fans seeded in it and in PostgreSQL, and the
real arq worker (in-process burst, or a subprocess for the crash test)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from arq.connections import ArqRedis
from arq.worker import Worker
from sqlalchemy.ext.asyncio import AsyncEngine

from core.models import Broadcast
from core.queue import unit_of_work
from core.settings import Settings
from devtools.telegram import Limits
from jobs.broadcasts import service
from jobs.broadcasts.schemas import AudienceSpec
from jobs.broadcasts.sender import SenderConfig
from tests.jobs.broadcasts.harness import Factory, Fans, Stage, stage
from tests.jobs.conftest import run_burst_worker

FAST = SenderConfig(
    batch_size=50,
    chunk_seconds=3.0,
    heartbeat_interval=0.2,
    stale_after=1.5,
    idle_requeue_after=3.0,
    flush_interval=0.1,
    chat_edit_interval=0.2,
)
LOOSE = Limits(bot_per_second=1000, bot_burst=1000, private_per_second=1000, private_burst=1000)


class Tenant:
    """What the service needs of a tenant."""

    def __init__(self, fans: Fans, default_language: str = "en") -> None:
        self.id = fans.tenant_id
        self.default_language = default_language


async def start_broadcast(
    factory: Factory,
    redis: ArqRedis,
    fans: Fans,
    text: str = "Hello <b>fans</b>!",
    spec: AudienceSpec | None = None,
    **kwargs: Any,
) -> Broadcast:
    tenant = Tenant(fans)
    async with unit_of_work(factory, redis) as session:
        draft = await service.create_draft(
            session,
            tenant,
            by_telegram_id=fans.owner_telegram_id,
            text=text,
            audience_spec=spec,
            **kwargs,
        )
        return await service.start(session, tenant, draft.id)


@pytest.fixture
async def loose_stage() -> AsyncIterator[Stage]:
    async with stage(LOOSE) as running:
        yield running


def worker_settings(settings: Settings, running: Stage, rate: float = 1000.0) -> Settings:
    return settings.model_copy(
        update={"telegram_api_base": running.base_url, "broadcast_rate": rate}
    )


async def run_broadcasts(
    settings: Settings, running: Stage, *, rate: float = 1000.0, **overrides: Any
) -> Worker:
    """An in-process burst worker until every broadcast chunk has run."""
    config = overrides.pop("config", FAST)
    worker_config = worker_settings(settings, running, rate)
    return await run_burst_worker(
        worker_config,
        ctx={"settings": worker_config, "broadcast_config": config},
        **overrides,
    )


@pytest.fixture
def needs_db(engine: AsyncEngine, redis_url: str) -> None:
    """Ask for the database and Redis (cleaned after the test)."""
