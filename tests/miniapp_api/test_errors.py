"""Every failure answers ``{"error": {"code", "message", "details"?}}`` with a fitting status."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import httpx
import pytest

from core.logging import configure_logging
from core.redis import close_redis, create_redis
from core.settings import Settings


async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found"}}
    assert response.headers["x-request-id"]


async def test_wrong_method_is_a_json_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/v1/test/items/1")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert response.headers["allow"] == "GET"


async def test_validation_errors_list_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/test/items", json={"name": "", "count": 0})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert error["message"]
    fields = {f["field"]: f for f in error["details"]["fields"]}
    assert set(fields) == {"body.name", "body.count"}
    assert fields["body.count"]["loc"] == ["body", "count"]
    assert fields["body.count"]["type"] == "greater_than"
    assert fields["body.name"]["message"]


async def test_bad_path_parameter_is_a_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/test/items/not-a-number")
    assert response.status_code == 422
    assert response.json()["error"]["details"]["fields"][0]["field"] == "path.item_id"


async def test_domain_errors_carry_their_status_code_and_details(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/v1/test/conflict")
    assert response.status_code == 409
    assert response.json() == {
        "error": {"code": "conflict", "message": "that name is taken", "details": {"name": "bob"}}
    }


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


async def test_unexpected_errors_are_a_generic_500_logged_with_traceback(
    client: httpx.AsyncClient, json_log: io.StringIO
) -> None:
    response = await client.get("/api/v1/test/boom", headers={"X-Request-ID": "bug-42"})

    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "internal_error"
    assert "hunter2" not in response.text  # the exception text stays in the log
    assert response.headers["x-request-id"] == "bug-42"

    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    (failure,) = [line for line in lines if "exc_info" in line]
    assert failure["request_id"] == "bug-42"
    assert failure["level"] == "ERROR"
    assert "RuntimeError: database password is hunter2" in failure["exc_info"]
    access = [line for line in lines if line["logger"] == "atelier.http"]
    assert access[-1]["status"] == 500 and access[-1]["request_id"] == "bug-42"


async def test_a_failing_commit_is_an_error_response_not_a_200(
    client: httpx.AsyncClient, redis_url: str
) -> None:
    """The session dependency commits before the response leaves (``scope="function"``)."""
    response = await client.post("/api/v1/test/broken-commit")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"

    redis = create_redis(url=redis_url)
    try:
        assert await redis.queued_jobs() == []  # the deferred job went with the rollback
    finally:
        await close_redis(redis)
