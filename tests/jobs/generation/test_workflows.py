"""Workflows end to end: priced up front, each step a job, outputs fed forward."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from arq.connections import ArqRedis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import InsufficientFundsError, ValidationError
from core.models import File, Job, JobStatus, RunStatus, WorkflowRun
from core.queue import unit_of_work
from core.settings import Settings
from core.storage import Storage
from jobs import media
from jobs.generation import workflows
from tests.jobs.generation.conftest import Fan, make_fan, money, run_jobs

Factory = async_sessionmaker[AsyncSession]

DOG_IN_SPACE: list[dict[str, Any]] = [
    {"tool": "image-generate", "params": {"prompt": "a dog in space", "size": "160x120"}},
    {
        "tool": "video-from-image",
        "params": {"image": "$steps.0.output", "duration": 5, "size": "160x120", "fps": 8},
    },
    {"tool": "sound-effect", "params": {"prompt": "space sounds", "duration": 5}},
    {"tool": "video-add-audio", "params": {"video": "$steps.1.output", "audio": "$steps.2.output"}},
]
# image 4 + video 5 s × 3 + sound 5 s × 1 + merge 2; base costs 2 + 5 + 5 + 1
DOG_PRICE, DOG_BASE_COST = 26, 13


async def start(factory: Factory, redis: ArqRedis, who: Fan, **kwargs: Any) -> WorkflowRun:
    async with unit_of_work(factory, redis) as session:
        return await workflows.start_workflow(
            session, tenant_id=who.tenant_id, user_id=who.user_id, **kwargs
        )


async def reload_run(factory: Factory, run_id: int) -> tuple[WorkflowRun, list[Job]]:
    async with factory() as session:
        run = await session.get(WorkflowRun, run_id)
        jobs = (
            await session.scalars(
                select(Job).where(Job.workflow_run_id == run_id).order_by(Job.step_index)
            )
        ).all()
        assert run is not None
        return run, list(jobs)


async def test_dog_in_space_becomes_a_video_with_sound(
    settings: Settings,
    session_factory: Factory,
    arq_redis: ArqRedis,
    fan: Fan,
    storage: Storage,
    tmp_path: Path,
) -> None:
    async with session_factory() as session:
        quote = await workflows.quote_workflow(session, fan.tenant_id, DOG_IN_SPACE)
    assert (quote.price, quote.base_cost) == (DOG_PRICE, DOG_BASE_COST)
    run = await start(session_factory, arq_redis, fan, steps=DOG_IN_SPACE, name="dog in space")
    held = await money(session_factory, fan)
    assert (held.fan_reserved, held.platform_reserved) == (DOG_PRICE, DOG_BASE_COST)

    await run_jobs(settings)

    run, jobs = await reload_run(session_factory, run.id)
    assert run.status == RunStatus.SUCCEEDED, run.error_message
    assert [j.status for j in jobs] == [JobStatus.SUCCEEDED] * 4
    assert [s["status"] for s in run.steps] == ["succeeded"] * 4
    video_step, audio_step, merge = jobs[1], jobs[2], jobs[3]
    assert video_step.inputs == {"image": jobs[0].result["file_ids"][0]}
    assert merge.inputs == {
        "video": video_step.result["file_ids"][0],
        "audio": audio_step.result["file_ids"][0],
    }
    async with session_factory() as session:
        final = await session.get(File, merge.result["file_ids"][0])
    assert final is not None and final.mime_type == "video/mp4"
    local = tmp_path / "final.mp4"
    local.write_bytes(b"".join([c async for c in storage.open_stream(final.storage_key)]))
    info = await media.media_info(local)
    assert info.has_video and info.has_audio
    assert info.duration is not None and 4.5 <= info.duration <= 5.5
    assert final.provenance["workflow_run_id"] == run.id

    state = await money(session_factory, fan)
    assert (state.fan_balance, state.fan_reserved) == (1000 - DOG_PRICE, 0)
    assert (state.platform_balance, state.platform_reserved) == (1000 - DOG_BASE_COST, 0)
    assert (state.captures, state.releases) == (8, 0)

    # The run can be saved and started again later, at the same price.
    async with unit_of_work(session_factory, arq_redis) as session:
        saved = await workflows.save_workflow(
            session, tenant_id=fan.tenant_id, user_id=fan.user_id, name="Space dog", run_id=run.id
        )
        assert saved.steps == [{"tool": s["tool"], "params": s["params"]} for s in DOG_IN_SPACE]
        again = await workflows.quote_workflow(session, fan.tenant_id, saved.steps)
    assert again.price == DOG_PRICE
    rerun = await start(session_factory, arq_redis, fan, workflow_id=saved.id)
    assert rerun.name == "Space dog" and rerun.price == DOG_PRICE


async def test_a_failing_step_stops_the_run_and_releases_the_rest(
    settings: Settings, session_factory: Factory, arq_redis: ArqRedis, fan: Fan
) -> None:
    steps = [
        {"tool": "image-generate", "params": {"prompt": "a cat", "size": "64x64"}},
        {"tool": "test-failing", "params": {"prompt": "meow"}},
        {"tool": "video-from-image", "params": {"image": "$steps.0.output", "duration": 2}},
    ]
    run = await start(session_factory, arq_redis, fan, steps=steps)
    assert run.price == 4 + 3 + 6

    await run_jobs(settings)

    run, jobs = await reload_run(session_factory, run.id)
    assert run.status == RunStatus.FAILED
    assert run.error_message is not None and run.error_message.startswith("Step 2 (test-failing)")
    assert "credits were released" in run.error_message
    assert [j.status for j in jobs] == [JobStatus.SUCCEEDED, JobStatus.FAILED]
    assert [s["status"] for s in run.steps] == ["succeeded", "failed", "skipped"]
    state = await money(session_factory, fan)
    assert (state.fan_balance, state.fan_reserved) == (1000 - 4, 0)
    assert (state.platform_balance, state.platform_reserved) == (1000 - 2, 0)
    assert (state.captures, state.releases) == (2, 4)


async def test_a_chain_is_checked_before_anything_is_reserved(
    session_factory: Factory, arq_redis: ArqRedis, fan: Fan, catalog: None
) -> None:
    wrong_media = [
        {"tool": "sound-effect", "params": {"prompt": "wind", "duration": 2}},
        {"tool": "video-from-image", "params": {"image": "$steps.0.output"}},
    ]
    with pytest.raises(ValidationError) as caught:
        await start(session_factory, arq_redis, fan, steps=wrong_media)
    assert "steps.1.image" in caught.value.details["fields"]
    forward = [{"tool": "video-add-audio", "params": {"video": "$steps.1.output"}}]
    with pytest.raises(ValidationError) as caught:
        await start(session_factory, arq_redis, fan, steps=forward)
    assert "steps.0.video" in caught.value.details["fields"]
    poor = await make_fan(session_factory, credits=20, telegram_id=2002)
    with pytest.raises(InsufficientFundsError) as funds:
        await start(session_factory, arq_redis, poor, steps=DOG_IN_SPACE)
    assert funds.value.details == {"price": DOG_PRICE, "balance": 20, "workflow": None}
    async with session_factory() as session:
        assert (await session.scalars(select(WorkflowRun))).all() == []
    assert (await money(session_factory, poor)).fan_reserved == 0
