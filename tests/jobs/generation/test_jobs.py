"""Jobs end to end on real PostgreSQL, Redis, storage and the arq worker (offline provider)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any

import pytest
from arq.connections import ArqRedis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import InsufficientFundsError, NotFoundError, ValidationError
from core.models import File, Folder, Job, JobStatus, LedgerEntry
from core.queue import pending_jobs, unit_of_work
from core.settings import Settings
from core.storage import Storage
from jobs.generation import service
from jobs.generation.errors import PlanLimitError, TenantUnavailableError
from jobs.generation.progress import subscribe_progress, user_channel
from tests.jobs.generation.conftest import Fan, make_fan, money, run_jobs

Factory = async_sessionmaker[AsyncSession]


async def create(factory: Factory, redis: ArqRedis, who: Fan, tool: str, **kwargs: Any) -> Job:
    async with unit_of_work(factory, redis) as session:
        return await service.create_job(
            session, tenant_id=who.tenant_id, user_id=who.user_id, tool_slug=tool, **kwargs
        )


async def reload(factory: Factory, job_id: int) -> Job:
    async with factory() as session:
        job = await session.get(Job, job_id)
        assert job is not None
        return job


async def count(factory: Factory, model: Any) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_job_runs_end_to_end_and_lands_in_the_drive(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, fan: Fan, storage: Storage
) -> None:
    params = {"prompt": "a red fox in the snow", "size": "96x64", "n": 2, "seed": 7}
    job = await create(session_factory, arq_redis, fan, "image-generate", params=params)
    assert (job.status, job.progress, job.price, job.base_cost) == ("queued", 0, 8, 4)
    held = await money(session_factory, fan)
    assert (held.fan_balance, held.fan_reserved) == (1000, 8)
    assert (held.platform_balance, held.platform_reserved) == (1000, 4)

    worker = await run_jobs(settings)

    assert worker.jobs_complete == 1 and worker.jobs_failed == 0
    done = await reload(session_factory, job.id)
    assert (done.status, done.progress, done.stage) == (JobStatus.SUCCEEDED, 100, "done")
    assert done.attempts == 1 and done.lease_token is None and done.finished_at is not None
    async with session_factory() as session:
        files = (await session.scalars(select(File).order_by(File.output_key))).all()
        folder = await session.get(Folder, files[0].folder_id)
        parent = await session.get(Folder, folder.parent_id) if folder else None
    assert [f.id for f in files] == done.result["file_ids"] and len(files) == 2
    assert folder is not None and folder.name == "Image from text"
    assert parent is not None and parent.name == "Generated" and parent.parent_id is None
    for index, file in enumerate(files):
        assert file.output_key == f"job:{job.id}:output:{index}"
        assert (file.mime_type, file.width, file.height) == ("image/png", 96, 64)
        data = b"".join([chunk async for chunk in storage.open_stream(file.storage_key)])
        assert len(data) == file.size and hashlib.sha256(data).hexdigest() == file.sha256
        assert file.thumbnail_key and await storage.exists(file.thumbnail_key)
        assert file.provenance["tool"] == "image-generate"
        assert file.provenance["prompt"] == "a red fox in the snow"
        assert file.provenance["job_id"] == job.id and file.provenance["params"]["seed"] == 7
    after = await money(session_factory, fan)
    assert (after.fan_balance, after.fan_reserved) == (992, 0)
    assert (after.platform_balance, after.platform_reserved) == (996, 0)
    assert after.captures == 2 and after.releases == 0


async def test_parameters_are_checked_field_by_field(
    session_factory: Factory, arq_redis: ArqRedis, fan: Fan
) -> None:
    with pytest.raises(ValidationError) as caught:
        await create(
            session_factory,
            arq_redis,
            fan,
            "video-from-text",
            params={"duration": 99, "fps": "fast", "colour": "red"},
        )
    fields = caught.value.details["fields"]
    assert set(fields) == {"prompt", "duration", "fps", "colour"}
    assert fields["prompt"] == "is required"
    assert "99" in fields["duration"] and "not a parameter" in fields["colour"]
    assert await count(session_factory, Job) == 0


async def test_input_files_must_be_the_users_and_the_right_kind(
    session_factory: Factory, arq_redis: ArqRedis, fan: Fan
) -> None:
    with pytest.raises(ValidationError) as caught:
        await create(
            session_factory, arq_redis, fan, "image-upscale", params={}, inputs={"image": 9}
        )
    assert caught.value.details["fields"] == {"image": "no such file in your drive"}
    with pytest.raises(NotFoundError):
        await create(session_factory, arq_redis, fan, "no-such-tool", params={})


async def test_not_enough_credits_creates_nothing(
    session_factory: Factory, arq_redis: ArqRedis, catalog: None
) -> None:
    poor = await make_fan(session_factory, credits=3)
    async with session_factory() as session:
        with pytest.raises(InsufficientFundsError) as caught:
            await service.create_job(
                session,
                tenant_id=poor.tenant_id,
                user_id=poor.user_id,
                tool_slug="video-from-text",
                params={"prompt": "waves", "duration": 2},
            )
        assert caught.value.details["price"] == 8 and caught.value.details["balance"] == 3
        # The caller may carry on with the session: the savepoint took everything back.
        assert pending_jobs(session) == []
        await session.commit()
    assert await count(session_factory, Job) == 0
    state = await money(session_factory, poor)
    assert (state.fan_balance, state.fan_reserved, state.platform_reserved) == (3, 0, 0)


async def test_a_tenant_out_of_platform_balance_is_unavailable_and_charges_nothing(
    session_factory: Factory, arq_redis: ArqRedis, catalog: None
) -> None:
    broke = await make_fan(session_factory, platform_credits=1)
    with pytest.raises(TenantUnavailableError) as caught:
        await create(
            session_factory, arq_redis, broke, "image-generate", params={"prompt": "a cat"}
        )
    assert caught.value.status_code == 503 and "temporarily unavailable" in caught.value.message
    assert await count(session_factory, Job) == 0
    state = await money(session_factory, broke)
    assert (state.fan_balance, state.fan_reserved) == (1000, 0)
    assert (state.platform_balance, state.platform_reserved) == (1, 0)
    async with session_factory() as session:
        reserves = await session.scalar(select(func.count()).where(LedgerEntry.kind == "reserve"))
    assert reserves == 0


async def test_a_permanent_provider_failure_releases_the_credits(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, fan: Fan
) -> None:
    job = await create(session_factory, arq_redis, fan, "test-failing", params={"prompt": "x"})

    worker = await run_jobs(settings)

    assert worker.jobs_complete == 1
    failed = await reload(session_factory, job.id)
    assert failed.status == JobStatus.FAILED and failed.error_code == "invalid_input"
    assert failed.error_message is not None and "refuses every request" in failed.error_message
    assert failed.attempts == 1  # permanent: never retried
    state = await money(session_factory, fan)
    assert (state.fan_balance, state.fan_reserved) == (1000, 0)
    assert (state.platform_balance, state.platform_reserved) == (1000, 0)
    assert state.captures == 0 and state.releases == 2
    assert await count(session_factory, File) == 0


async def test_the_plan_limits_concurrent_generations(
    session_factory: Factory, arq_redis: ArqRedis, fan: Fan
) -> None:
    for prompt in ("one", "two"):  # Basic: two at once per user
        await create(session_factory, arq_redis, fan, "chat", params={"prompt": prompt})
    with pytest.raises(PlanLimitError) as caught:
        await create(session_factory, arq_redis, fan, "chat", params={"prompt": "three"})
    assert caught.value.details["limit"] == 2 and caught.value.details["kind"] == "concurrent"
    assert await count(session_factory, Job) == 2


async def test_the_same_idempotency_key_returns_the_same_job(
    session_factory: Factory, arq_redis: ArqRedis, fan: Fan
) -> None:
    first = await create(
        session_factory, arq_redis, fan, "chat", params={"prompt": "hi"}, idempotency_key="m:1"
    )
    again = await create(
        session_factory, arq_redis, fan, "chat", params={"prompt": "hi"}, idempotency_key="m:1"
    )
    assert again.id == first.id
    assert await count(session_factory, Job) == 1
    assert (await money(session_factory, fan)).fan_reserved == 1


async def test_progress_is_published_in_order_up_to_100(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, fan: Fan
) -> None:
    pubsub = arq_redis.pubsub()
    await pubsub.subscribe(user_channel(fan.tenant_id, fan.user_id, arq_redis))
    job = await create(
        session_factory,
        arq_redis,
        fan,
        "video-from-text",
        params={"prompt": "a lighthouse", "duration": 1, "size": "96x64", "fps": 8},
    )
    await run_jobs(settings)

    events: list[dict[str, Any]] = []
    async with asyncio.timeout(10):
        while not events or events[-1]["status"] == "running":
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
            if message is not None:
                events.append(json.loads(message["data"]))
    await pubsub.aclose()

    assert {e["id"] for e in events} == {job.id}
    assert [e["seq"] for e in events] == sorted({e["seq"] for e in events})
    progress = [e["progress"] for e in events]
    assert progress == sorted(progress) and len(events) >= 3
    assert events[0]["stage"] == "starting"
    assert (events[-1]["status"], events[-1]["progress"]) == ("succeeded", 100)
    assert events[-1]["file_ids"] == (await reload(session_factory, job.id)).result["file_ids"]
    # A late subscriber gets the final state at once.
    seen = [e async for e in subscribe_progress(arq_redis, job.id, event_timeout=2)]
    assert [(e.status, e.progress) for e in seen] == [(JobStatus.SUCCEEDED, 100)]


async def test_subscribe_progress_follows_a_job_live(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, fan: Fan
) -> None:
    job = await create(
        session_factory, arq_redis, fan, "test-slow-image", params={"prompt": "slow"}
    )

    async def follow() -> list[Any]:
        return [e async for e in subscribe_progress(arq_redis, job.id, event_timeout=10)]

    follower = asyncio.create_task(follow())
    await asyncio.sleep(0.05)
    await run_jobs(settings)
    events = await asyncio.wait_for(follower, 10)
    assert events[-1].status == JobStatus.SUCCEEDED and events[-1].progress == 100
    assert [e.progress for e in events] == sorted(e.progress for e in events)
    assert len({e.stage for e in events}) >= 3  # starting, thinking slowly, ..., done
