"""The predictions adapter against the Replicate-compatible stand-in over real HTTP."""

from __future__ import annotations

import asyncio
import io
import wave
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from arq.connections import ArqRedis
from PIL import Image
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import session_scope
from core.models import File, Job, JobStatus, Tool
from core.queue import unit_of_work
from core.settings import Settings
from devtools.predictions import Fault, PredictionsServerControl, running_predictions_server
from jobs.generation.service import create_job
from jobs.providers import create_provider
from jobs.providers.base import (
    MediaInput,
    PermanentProviderError,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderCancelled,
    ProviderNotConfigured,
    ProviderRateLimited,
    ProviderRequest,
    ProviderUnavailable,
    ToolKind,
    TransientProviderError,
)
from jobs.providers.predictions import PollPolicy, PredictionsProvider
from tests.jobs.generation.conftest import FAST as FAST_JOBS
from tests.jobs.generation.conftest import make_fan, run_jobs

FAST = PollPolicy(initial=0.02, factor=1.5, maximum=0.05, transient_retries=2)


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[tuple[str, PredictionsServerControl]]:
    async with running_predictions_server() as running:
        yield running


@pytest.fixture
async def control(server: tuple[str, PredictionsServerControl]) -> PredictionsServerControl:
    server[1].reset()
    return server[1]


@pytest.fixture
async def provider(
    server: tuple[str, PredictionsServerControl], control: PredictionsServerControl
) -> AsyncIterator[PredictionsProvider]:
    async with PredictionsProvider(
        base_url=server[0], api_key=control.api_key, poll=FAST, timeout=5
    ) as adapter:
        yield adapter


def request(kind: ToolKind, tmp_path: Path, **params: object) -> ProviderRequest:
    return ProviderRequest(kind, params, workdir=tmp_path)


async def test_image_happy_path_with_rising_progress(
    provider: PredictionsProvider, control: PredictionsServerControl, tmp_path: Path
) -> None:
    seen: list[int] = []

    async def progress(percent: int, stage: str) -> None:
        seen.append(percent)

    call = request(
        ToolKind.TEXT_TO_IMAGE,
        tmp_path,
        model="acme/sdxl",
        prompt="a lighthouse",
        width=96,
        height=64,
        num_outputs=2,
    )
    call.progress = progress
    result = await provider.run(call)

    assert [o.mime_type for o in result.outputs] == ["image/png", "image/png"]
    assert Image.open(io.BytesIO(await result.output.read_bytes())).size == (96, 64)
    assert result.provider == "predictions" and result.model == "acme/sdxl"
    assert seen == sorted(set(seen)) and seen[-1] == 100
    assert any(10 < p < 90 for p in seen), seen  # the logs' percentages came through
    created = control.requests_to("POST", "/v1/predictions")[0]
    assert created.json == {
        "model": "acme/sdxl",
        "input": {"prompt": "a lighthouse", "width": 96, "height": 64, "num_outputs": 2},
    }
    assert created.headers["authorization"] == f"Bearer {control.api_key}"
    assert "authorization" not in control.requests_to("GET", "/files/")[0].headers


async def test_audio_by_version_with_an_image_input(
    provider: PredictionsProvider, control: PredictionsServerControl, tmp_path: Path
) -> None:
    call = request(ToolKind.TEXT_TO_AUDIO, tmp_path, model="acme/musicgen:abc123", prompt="hum")
    call.inputs = (MediaInput.from_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16),)
    result = await provider.run(call)

    assert result.output.mime_type == "audio/wav"
    assert result.output.path is not None and result.output.path.suffix == ".wav"
    with wave.open(str(result.output.path)) as wav:
        assert wav.getnframes() > 0
    body = control.requests_to("POST", "/v1/predictions")[0].json
    assert body["version"] == "acme/musicgen:abc123"
    assert body["input"]["image"].startswith("data:image/png;base64,")


async def test_text_model_joins_tokens(provider: PredictionsProvider, tmp_path: Path) -> None:
    result = await provider.run(request(ToolKind.TEXT, tmp_path, model="meta/llm", prompt="yo"))
    assert result.text == "You said: yo"


async def test_cancellation_sends_cancel_and_stops_polling(
    provider: PredictionsProvider, control: PredictionsServerControl, tmp_path: Path
) -> None:
    control.duration = 30
    cancelled, running = asyncio.Event(), asyncio.Event()

    async def progress(percent: int, stage: str) -> None:
        running.set()

    call = request(ToolKind.TEXT_TO_IMAGE, tmp_path, model="acme/sdxl", prompt="x")
    call.is_cancelled = cancelled.is_set
    call.progress = progress
    task = asyncio.create_task(provider.run(call))
    await asyncio.wait_for(running.wait(), 2)
    await asyncio.sleep(0.1)  # a few polls while it runs
    cancelled.set()
    with pytest.raises(ProviderCancelled):
        await asyncio.wait_for(task, 2)

    assert len(control.requests_to("POST", "/cancel")) == 1
    polls = len(control.requests_to("GET", "/v1/predictions/"))
    assert polls >= 1
    await asyncio.sleep(0.15)
    assert len(control.requests_to("GET", "/v1/predictions/")) == polls
    assert next(iter(control.predictions.values())).canceled_at is not None


async def test_task_cancellation_also_cancels_the_prediction(
    provider: PredictionsProvider, control: PredictionsServerControl, tmp_path: Path
) -> None:
    control.duration = 30
    call = request(ToolKind.TEXT_TO_IMAGE, tmp_path, model="acme/sdxl", prompt="x")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(provider.run(call), 0.2)
    assert len(control.requests_to("POST", "/cancel")) == 1


async def test_429_on_create_is_transient_with_retry_after(
    provider: PredictionsProvider, control: PredictionsServerControl, tmp_path: Path
) -> None:
    control.add_fault(Fault("status", status=429, headers={"Retry-After": "7"}, method="POST"))
    call = request(ToolKind.TEXT_TO_IMAGE, tmp_path, model="acme/sdxl", prompt="x")
    with pytest.raises(ProviderRateLimited) as caught:
        await provider.run(call)
    assert caught.value.transient and caught.value.retry_after == 7
    # The job system retries: the next attempt succeeds.
    assert (await provider.run(call)).output.mime_type == "image/png"


async def test_polling_rides_out_a_few_transient_failures(
    provider: PredictionsProvider, control: PredictionsServerControl, tmp_path: Path
) -> None:
    control.add_fault(Fault("status", status=503, remaining=2, method="GET", path="/v1/"))
    call = request(ToolKind.TEXT_TO_IMAGE, tmp_path, model="acme/sdxl", prompt="x")
    assert (await provider.run(call)).output.mime_type == "image/png"

    control.add_fault(Fault("status", status=500, remaining=10, method="GET", path="/v1/"))
    with pytest.raises(ProviderUnavailable):
        await provider.run(call)
    assert len(control.requests_to("POST", "/cancel")) == 1


async def test_failed_prediction_is_permanent(
    provider: PredictionsProvider, control: PredictionsServerControl, tmp_path: Path
) -> None:
    control.fail_next("CUDA out of memory")
    call = request(ToolKind.TEXT_TO_IMAGE, tmp_path, model="acme/sdxl", prompt="x")
    with pytest.raises(PermanentProviderError, match="CUDA out of memory") as caught:
        await provider.run(call)
    assert not caught.value.transient


@pytest.mark.parametrize("chunked", [False, True])
async def test_too_large_output_is_refused(
    server: tuple[str, PredictionsServerControl],
    control: PredictionsServerControl,
    tmp_path: Path,
    chunked: bool,
) -> None:
    control.chunked_outputs = chunked
    call = request(ToolKind.TEXT_TO_IMAGE, tmp_path, model="acme/sdxl", prompt="x", width=512)
    async with PredictionsProvider(
        base_url=server[0], api_key=control.api_key, poll=FAST, max_output_bytes=1000
    ) as small:
        with pytest.raises(ProviderBadResponse, match="larger than 1000"):
            await small.run(call)
    assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []


async def test_garbage_body_is_permanent(
    provider: PredictionsProvider, control: PredictionsServerControl, tmp_path: Path
) -> None:
    control.add_fault(Fault("garbage", method="POST"))
    call = request(ToolKind.TEXT_TO_IMAGE, tmp_path, model="acme/sdxl", prompt="x")
    with pytest.raises(ProviderBadResponse) as caught:
        await provider.run(call)
    assert not isinstance(caught.value, TransientProviderError)


async def test_wrong_key_is_an_auth_error(
    server: tuple[str, PredictionsServerControl], tmp_path: Path
) -> None:
    async with PredictionsProvider(base_url=server[0], api_key="r8_wrong", poll=FAST) as bad:
        with pytest.raises(ProviderAuthError):
            await bad.run(request(ToolKind.TEXT_TO_IMAGE, tmp_path, model="a/b", prompt="x"))


def test_missing_key_is_not_configured() -> None:
    settings = SimpleNamespace(predictions_base_url="https://api.example", predictions_api_key="")
    with pytest.raises(ProviderNotConfigured):
        create_provider("predictions", settings)
    settings.predictions_api_key = "r8_key"
    assert isinstance(create_provider("predictions", settings), PredictionsProvider)


async def test_a_job_retries_a_rate_limited_prediction_then_stores_the_image(
    settings: Settings,
    session_factory: async_sessionmaker[AsyncSession],
    arq_redis: ArqRedis,
    server: tuple[str, PredictionsServerControl],
    control: PredictionsServerControl,
) -> None:
    fan = await make_fan(session_factory)
    async with session_scope(session_factory) as session:
        session.add(
            Tool(
                slug="test-predictions-image",
                category="image",
                kind="text_to_image",
                provider="predictions",
                model="acme/sdxl",
                names={lang: "Hosted image" for lang in ("en", "tr", "ru", "ar")},
                descriptions={lang: "test tool" for lang in ("en", "tr", "ru", "ar")},
                params_schema={
                    "type": "object",
                    "properties": {"prompt": {"type": "string", "minLength": 1}},
                    "required": ["prompt"],
                },
                preset={},
                input_types=[],
                output_types=["image"],
                pricing_model="per_use",
                price=5,
                base_cost=2,
                examples=[],
                is_active=True,
                timeout_s=30,
                sort_order=100,
            )
        )
    async with unit_of_work(session_factory, arq_redis) as session:
        job = await create_job(
            session,
            tenant_id=fan.tenant_id,
            user_id=fan.user_id,
            tool_slug="test-predictions-image",
            params={"prompt": "a harbour at dusk"},
        )
    control.add_fault(Fault("status", status=429, headers={"Retry-After": "0"}, method="POST"))
    online = settings.model_copy(
        update={"predictions_base_url": server[0], "predictions_api_key": control.api_key}
    )

    worker = await run_jobs(settings, ctx={"settings": online, "generation_config": FAST_JOBS})

    async with session_factory() as session:
        done = await session.get(Job, job.id)
        assert done is not None
        assert done.status == JobStatus.SUCCEEDED, done.error_message
        assert done.attempts == 2 and worker.jobs_retried == 1
        assert done.result["provider"] == "predictions"
        stored = await session.scalar(select(File).where(File.job_id == job.id))
        assert stored is not None and stored.mime_type == "image/png"
    assert control.requests_to("POST", "/v1/predictions")[-1].json == {
        "model": "acme/sdxl",
        "input": {"prompt": "a harbour at dusk"},
    }
