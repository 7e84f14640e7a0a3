"""Metrics by route template and status; JSON logs stamped with the request id."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from core.logging import configure_logging
from core.settings import Settings
from tests.miniapp_api.conftest import MakeClient


async def test_metrics_count_requests_by_route_template_and_status(
    client: httpx.AsyncClient,
) -> None:
    await client.get("/api/v1/test/items/1")
    await client.get("/api/v1/test/items/2")
    await client.get("/api/v1/unknown/path")

    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'atelier_http_requests_total{method="GET",route="/api/v1/test/items/{item_id}",'
        'status="200"} 2.0' in text
    )
    assert 'atelier_http_requests_total{method="GET",route="<unmatched>",status="404"} 1.0' in text
    assert (
        'atelier_http_request_duration_seconds_count{method="GET",'
        'route="/api/v1/test/items/{item_id}",status="200"} 2.0' in text
    )


async def test_each_app_has_its_own_registry(make_client: MakeClient) -> None:
    async with make_client() as first, make_client() as second:
        await first.get("/healthz")
        second_metrics = (await second.get("/metrics")).text
    assert 'route="/healthz"' not in second_metrics


@pytest.fixture
def json_log(settings: Settings) -> Iterator[io.StringIO]:
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    handler = configure_logging(settings.model_copy(update={"log_json": True}), stream=stream)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(False)


def _lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


async def test_request_id_from_the_header_is_echoed_and_logged(
    client: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    response = await client.get("/api/v1/test/log", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"

    lines = _lines(json_log)
    assert {line["logger"] for line in lines} >= {"atelier.test.probe", "atelier.http"}
    assert all(line["request_id"] == "abc-123" for line in lines)
    access = next(line for line in lines if line["logger"] == "atelier.http")
    assert access["route"] == "/api/v1/test/log" and access["status"] == 200


async def test_request_id_is_generated_when_missing_or_unsafe(
    client: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    plain = await client.get("/api/v1/test/log")
    forged = await client.get("/api/v1/test/log", headers={"X-Request-ID": "a\nfake log line"})

    generated = plain.headers["x-request-id"]
    assert len(generated) == 32
    assert forged.headers["x-request-id"] not in {"a\nfake log line", generated}
    logged = {line["request_id"] for line in _lines(json_log)}
    assert logged == {generated, forged.headers["x-request-id"]}
