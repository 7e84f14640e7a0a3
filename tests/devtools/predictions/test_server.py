"""The predictions stand-in speaks Replicate's wire shape over real HTTP."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from PIL import Image

from devtools.predictions import Fault, PredictionsServerControl, running_predictions_server


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[tuple[str, PredictionsServerControl]]:
    async with running_predictions_server() as running:
        yield running


@pytest.fixture
async def api(
    server: tuple[str, PredictionsServerControl],
) -> AsyncIterator[httpx.AsyncClient]:
    server[1].reset()
    headers = {"Authorization": f"Bearer {server[1].api_key}"}
    async with httpx.AsyncClient(base_url=server[0], headers=headers, timeout=5) as client:
        yield client


async def wait_done(api: httpx.AsyncClient, prediction_id: str) -> dict[str, Any]:
    for _ in range(100):
        body: dict[str, Any] = (await api.get(f"/v1/predictions/{prediction_id}")).json()
        if body["status"] not in ("starting", "processing"):
            return body
        await asyncio.sleep(0.02)
    raise AssertionError("the prediction never finished")


async def test_prediction_runs_to_an_image(api: httpx.AsyncClient) -> None:
    created = await api.post(
        "/v1/predictions",
        json={"model": "acme/sdxl", "input": {"prompt": "a fox", "width": 80, "height": 48}},
    )
    assert created.status_code == 201
    assert created.json()["status"] == "starting"
    statuses = set()
    logs = ""
    for _ in range(100):
        body = (await api.get(f"/v1/predictions/{created.json()['id']}")).json()
        statuses.add(body["status"])
        logs = body["logs"]
        if body["status"] == "succeeded":
            break
        await asyncio.sleep(0.02)
    assert {"processing", "succeeded"} <= statuses
    assert "100%|" in logs
    image = await api.get(body["output"])
    assert image.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(image.content)).size == (80, 48)


async def test_audio_and_text_models(api: httpx.AsyncClient) -> None:
    audio = await api.post("/v1/predictions", json={"model": "acme/musicgen", "input": {}})
    text = await api.post(
        "/v1/predictions", json={"version": "acme/llm:abc", "input": {"prompt": "hi"}}
    )
    done = await wait_done(api, audio.json()["id"])
    wav = await api.get(done["output"])
    assert wav.content[:4] == b"RIFF" and wav.headers["content-type"] == "audio/wav"
    assert (await wait_done(api, text.json()["id"]))["output"] == ["You ", "said: ", "hi"]


async def test_cancel_stops_a_running_prediction(api: httpx.AsyncClient) -> None:
    created = (await api.post("/v1/predictions", json={"model": "a/b", "input": {}})).json()
    cancelled = (await api.post(f"/v1/predictions/{created['id']}/cancel")).json()
    assert cancelled["status"] == "canceled"
    await asyncio.sleep(0.35)
    assert (await api.get(f"/v1/predictions/{created['id']}")).json()["output"] is None


async def test_auth_faults_and_failures(
    api: httpx.AsyncClient, server: tuple[str, PredictionsServerControl]
) -> None:
    control = server[1]
    anonymous = await api.post(
        "/v1/predictions", json={"model": "a/b", "input": {}}, headers={"Authorization": ""}
    )
    assert anonymous.status_code == 401 and anonymous.json()["status"] == 401
    assert (await api.post("/v1/predictions", json={"model": "a/b"})).status_code == 422

    control.add_fault(Fault("status", status=429, headers={"Retry-After": "3"}))
    throttled = await api.post("/v1/predictions", json={"model": "a/b", "input": {}})
    assert throttled.status_code == 429 and throttled.headers["retry-after"] == "3"

    control.add_fault(Fault("garbage", method="GET"))
    control.fail_next("CUDA out of memory")
    created = (await api.post("/v1/predictions", json={"model": "a/b", "input": {}})).json()
    garbage = await api.get(f"/v1/predictions/{created['id']}")
    with pytest.raises(ValueError):
        garbage.json()
    failed = await wait_done(api, created["id"])
    assert failed["status"] == "failed" and failed["error"] == "CUDA out of memory"
    assert len(control.requests_to("POST", "/v1/predictions")) == 4


async def test_chunked_outputs_have_no_length(
    api: httpx.AsyncClient, server: tuple[str, PredictionsServerControl]
) -> None:
    server[1].chunked_outputs = True
    created = (await api.post("/v1/predictions", json={"model": "a/b", "input": {}})).json()
    done = await wait_done(api, created["id"])
    image = await api.get(done["output"])
    assert "content-length" not in image.headers
    assert image.content[:8] == b"\x89PNG\r\n\x1a\n"
