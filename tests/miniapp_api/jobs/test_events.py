"""Live progress over Server-Sent Events, served by uvicorn and fed from Redis pub/sub."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from redis.asyncio import Redis

from core.models.jobs import JobStatus
from core.redis import close_redis, create_redis
from core.settings import Settings
from jobs.generation.progress import job_channel, publish, user_channel
from jobs.generation.schemas import ProgressEvent
from miniapp_api.jobs.sse import progress_stream
from tests.jobs.generation.conftest import run_jobs
from tests.miniapp_api.catalog.conftest import Fans

TIMEOUT = httpx.Timeout(10.0)


async def start(base_url: str, fan_headers: dict[str, str], tool: str = "image-generate") -> int:
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post(
            f"/api/v1/catalog/tools/{tool}/run",
            json={"params": {"prompt": "a fox", "size": "64x64"}},
            headers=fan_headers,
        )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def events(lines: AsyncIterator[str]) -> AsyncIterator[dict[str, Any]]:
    """The ``data:`` of each ``event: progress`` block."""
    kind = None
    async for line in lines:
        if line.startswith("event:"):
            kind = line.partition(":")[2].strip()
        elif line.startswith("data:") and kind == "progress":
            yield json.loads(line.partition(":")[2])


@asynccontextmanager
async def sse(base_url: str, path: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT) as client,
        client.stream("GET", path, **kwargs) as response,
    ):
        yield response


async def read_until_final(response: httpx.Response) -> list[dict[str, Any]]:
    seen = []
    async for event in events(response.aiter_lines()):
        seen.append(event)
    return seen


async def subscribers(redis: Redis, channel: str) -> int:
    counts = await redis.pubsub_numsub(channel)
    return int(counts[0][1])


async def wait_for_subscribers(redis: Redis, channel: str, wanted: int) -> None:
    for _ in range(200):
        if await subscribers(redis, channel) == wanted:
            return
        await asyncio.sleep(0.025)
    raise AssertionError(
        f"{channel}: {await subscribers(redis, channel)} subscribers, not {wanted}"
    )


async def test_a_real_job_streams_to_100_and_the_stream_ends(
    served: str, fans: Fans, settings: Settings
) -> None:
    job_id = await start(served, fans.alice.headers, "test-slow-image")
    async with sse(served, f"/api/v1/jobs/{job_id}/events", headers=fans.alice.headers) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        reader = asyncio.create_task(read_until_final(r))
        await run_jobs(settings)
        seen = await asyncio.wait_for(reader, 10)
    assert seen[0]["status"] == "queued" and seen[0]["progress"] == 0
    assert "tenant_id" not in seen[0] and "user_id" not in seen[0]
    progress = [e["progress"] for e in seen]
    assert progress == sorted(progress) and len({p for p in progress if 0 < p < 100}) >= 3
    assert (seen[-1]["status"], seen[-1]["progress"]) == ("succeeded", 100)
    assert seen[-1]["file_ids"]


async def test_a_finished_job_sends_its_final_state_and_ends(
    served: str, fans: Fans, settings: Settings
) -> None:
    job_id = await start(served, fans.alice.headers)
    await run_jobs(settings)
    token = fans.alice.token  # EventSource style: the token in the query string
    async with sse(served, f"/api/v1/jobs/{job_id}/events", params={"access_token": token}) as r:
        seen = await asyncio.wait_for(read_until_final(r), 5)
    assert [(e["status"], e["progress"]) for e in seen] == [("succeeded", 100)]


async def test_events_published_by_another_connection_reach_the_stream(
    served: str, fans: Fans, redis_url: str
) -> None:
    job_id = await start(served, fans.alice.headers)
    publisher = create_redis(url=redis_url)  # not the API's client: another process's view
    try:
        async with sse(served, f"/api/v1/jobs/{job_id}/events", headers=fans.alice.headers) as r:
            lines = r.aiter_lines()
            stream = events(lines)
            assert (await anext(stream))["status"] == "queued"
            await wait_for_subscribers(publisher, job_channel(job_id, publisher), 1)
            base = {
                "id": job_id,
                "tenant_id": fans.alice.bot.tenant_id,
                "user_id": fans.alice.user_id,
                "tool": "image-generate",
            }
            for seq, (status, percent) in enumerate(
                [(JobStatus.RUNNING, 40), (JobStatus.RUNNING, 70), (JobStatus.SUCCEEDED, 100)], 1
            ):
                event = ProgressEvent(
                    **base, status=status, progress=percent, stage="drawing", seq=seq
                )
                await publish(publisher, event)
            rest = [e async for e in stream]
        assert [(e["status"], e["progress"]) for e in rest] == [
            ("running", 40),
            ("running", 70),
            ("succeeded", 100),
        ]
        await wait_for_subscribers(publisher, job_channel(job_id, publisher), 0)
    finally:
        await close_redis(publisher)


async def test_a_disconnect_leaves_no_subscription(served: str, fans: Fans, redis_url: str) -> None:
    job_id = await start(served, fans.alice.headers)
    redis = create_redis(url=redis_url)
    channels = [
        (f"/api/v1/jobs/{job_id}/events", job_channel(job_id, redis)),
        (
            "/api/v1/jobs/events",
            user_channel(fans.alice.bot.tenant_id, fans.alice.user_id, redis),
        ),
    ]
    try:
        for path, channel in channels:
            async with sse(served, path, headers=fans.alice.headers) as r:
                stream = events(r.aiter_lines())  # kept: dropping it would close the response
                first = await anext(stream)
                assert (first["id"], first["status"]) == (job_id, "queued")
                await wait_for_subscribers(redis, channel, 1)
            # The client hung up mid-stream: the server unsubscribes.
            await wait_for_subscribers(redis, channel, 0)
    finally:
        await close_redis(redis)


async def test_the_all_jobs_stream_follows_every_job(
    served: str, fans: Fans, settings: Settings
) -> None:
    first = await start(served, fans.alice.headers)
    async with sse(served, "/api/v1/jobs/events", headers=fans.alice.headers) as r:
        stream = events(r.aiter_lines())
        assert (await anext(stream))["id"] == first
        second = await start(served, fans.alice.headers)
        worker = asyncio.create_task(run_jobs(settings))
        finished: set[int] = set()
        async with asyncio.timeout(10):
            async for event in stream:
                if event["status"] == "succeeded":
                    finished.add(event["id"])
                if finished == {first, second}:
                    break
        await worker


async def test_heartbeats_keep_an_idle_stream_open(redis_url: str) -> None:
    redis = create_redis(url=redis_url)
    try:
        stream = progress_stream(redis, "idle-channel", [], heartbeat_s=0.05)
        chunks = [await anext(stream) for _ in range(3)]
        await stream.aclose()  # type: ignore[attr-defined]
        assert chunks[0].startswith("retry:") and chunks[1:] == [": keep-alive\n\n"] * 2
        assert await subscribers(redis, "idle-channel") == 0
    finally:
        await close_redis(redis)


async def test_events_auth(served: str, fans: Fans) -> None:
    job_id = await start(served, fans.alice.headers)
    async with httpx.AsyncClient(base_url=served) as client:
        anonymous = await client.get(f"/api/v1/jobs/{job_id}/events")
        assert anonymous.status_code == 401
        forged = await client.get("/api/v1/jobs/events", params={"access_token": "nope.nope"})
        assert forged.status_code == 401 and forged.json()["error"]["code"] == "invalid_token"
        # The query-string token is for the event streams only.
        other = await client.get(
            f"/api/v1/jobs/{job_id}", params={"access_token": fans.alice.token}
        )
        assert other.status_code == 401
