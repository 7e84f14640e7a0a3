"""The creator panel's broadcasts over HTTP: the role and isolation matrix of every route,
composing with validation, and a broadcast sent through the worker and the emulator while
the panel follows it live over SSE."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncEngine

from core.models import BroadcastStatus, User
from core.redis import close_redis, create_redis
from core.settings import Settings
from devtools.serving import serve_app
from jobs.broadcasts import progress
from tests.jobs.broadcasts.conftest import LOOSE, run_broadcasts
from tests.jobs.broadcasts.harness import Factory, reload, stage
from tests.miniapp_api.auth.helpers import TestBot as ApiBot
from tests.miniapp_api.auth.helpers import add_bot, sign_in
from tests.miniapp_api.conftest import build_app

OWNER = 6_600_001
BASE = "/api/v1/creator/broadcasts"
DRAFT = {"text": "Hi <b>all</b>", "buttons": [[{"text": "Shop", "url": "https://s.example"}]]}


async def create(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> int:
    response = await client.post(BASE, json={**DRAFT, **body}, headers=headers)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def add_fans(factory: Factory, bot: ApiBot, count: int) -> None:
    async with factory() as session:
        for i in range(count):
            session.add(User(tenant_id=bot.tenant_id, telegram_id=900_000 + i, first_name="F"))
        await session.commit()


def routes(broadcast_id: int) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        ("GET", BASE, None),
        ("POST", BASE, DRAFT),
        ("POST", f"{BASE}/audience", {"kind": "all"}),
        ("GET", f"{BASE}/{broadcast_id}", None),
        ("PUT", f"{BASE}/{broadcast_id}/audience", {"kind": "inactive", "days": 3}),
        ("POST", f"{BASE}/{broadcast_id}/preview", None),
        ("POST", f"{BASE}/{broadcast_id}/send", None),
        ("POST", f"{BASE}/{broadcast_id}/pause", None),
        ("POST", f"{BASE}/{broadcast_id}/resume", None),
        ("POST", f"{BASE}/{broadcast_id}/cancel", None),
        ("GET", f"{BASE}/{broadcast_id}/events", None),
    ]


async def test_fans_get_403_and_other_tenants_404_on_every_route(
    client: httpx.AsyncClient, session_factory: Factory
) -> None:
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    other = await add_bot(session_factory, owner_telegram_id=OWNER + 1)
    owner = await sign_in(client, bot, OWNER)
    fan = await sign_in(client, bot)
    stranger = await sign_in(client, other, OWNER + 1)
    broadcast_id = await create(client, owner.headers)

    for method, path, body in routes(broadcast_id):
        refused = await client.request(method, path, json=body, headers=fan.headers)
        assert refused.status_code == 403, (method, path)
        assert refused.json()["error"]["code"] == "forbidden"
        anonymous = await client.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
        if f"/{broadcast_id}" in path:
            hidden = await client.request(method, path, json=body, headers=stranger.headers)
            assert hidden.status_code == 404, (method, path)
            assert hidden.json()["error"]["code"] == "broadcast_not_found"
    listed = await client.get(BASE, headers=stranger.headers)
    assert listed.json()["items"] == []
    # Nothing the others tried changed it.
    mine = await client.get(f"{BASE}/{broadcast_id}", headers=owner.headers)
    assert mine.json()["status"] == "draft" and mine.json()["audience"]["kind"] == "all"


async def test_a_co_admin_composes_counts_and_sends(
    client: httpx.AsyncClient, session_factory: Factory
) -> None:
    bot = await add_bot(session_factory, owner_telegram_id=OWNER, plan="advanced")
    owner = await sign_in(client, bot, OWNER)
    helper = await sign_in(client, bot)
    await client.post(
        "/api/v1/creator/admins", json={"telegram_id": helper.telegram_id}, headers=owner.headers
    )
    await add_fans(session_factory, bot, 5)

    created = await client.post(BASE, json=DRAFT, headers=helper.headers)
    assert created.status_code == 201, created.text
    draft = created.json()
    # Five fans plus the two who signed in to the Mini App.
    assert (draft["status"], draft["audience_count"]) == ("draft", 7)
    counted = await client.post(
        f"{BASE}/audience", json={"kind": "language", "language": "en"}, headers=helper.headers
    )
    assert counted.json() == {"count": 7}
    preview = await client.post(f"{BASE}/{draft['id']}/preview", headers=helper.headers)
    assert preview.status_code == 202

    sent = await client.post(f"{BASE}/{draft['id']}/send", headers=helper.headers)
    assert sent.status_code == 202 and sent.json()["status"] == "running"
    assert sent.json()["total"] == 7
    again = await client.post(f"{BASE}/{draft['id']}/send", headers=helper.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "broadcast_state"
    second = await create(client, owner.headers)
    busy = await client.post(f"{BASE}/{second}/send", headers=owner.headers)
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "broadcast_busy"

    page = (await client.get(BASE, headers=owner.headers)).json()
    assert [item["id"] for item in page["items"]] == [second, draft["id"]]
    assert (page["daily_limit"], page["used_today"]) == (10_000, 0)
    assert (await client.post(f"{BASE}/{draft['id']}/pause", headers=owner.headers)).json()[
        "status"
    ] == "paused"
    cancelled = await client.post(f"{BASE}/{draft['id']}/cancel", headers=owner.headers)
    assert cancelled.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "<b>unclosed"}, "never closed"),
        ({"text": "a < b"}, "&lt;"),
        ({"text": "x" * 4097}, "4096"),
        ({"text": "ok", "buttons": [[{"text": "x", "url": "javascript:1"}]]}, "http"),
        ({"text": "ok", "audience": {"kind": "language", "language": "xx"}}, "languages"),
        ({"text": "ok", "audience": {"kind": "inactive"}}, "days"),
    ],
)
async def test_what_telegram_would_refuse_is_a_422(
    client: httpx.AsyncClient, session_factory: Factory, body: dict[str, Any], field: str
) -> None:
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    owner = await sign_in(client, bot, OWNER)
    response = await client.post(BASE, json=body, headers=owner.headers)
    assert response.status_code == 422, response.text
    assert field in response.json()["error"]["message"]


async def test_media_must_be_the_creators_own_file(
    client: httpx.AsyncClient, session_factory: Factory
) -> None:
    bot = await add_bot(session_factory, owner_telegram_id=OWNER)
    owner = await sign_in(client, bot, OWNER)
    response = await client.post(
        BASE, json={"text": "x", "media_file_id": 424242}, headers=owner.headers
    )
    assert response.status_code == 404


@pytest.fixture
async def arq_redis(redis_url: str) -> AsyncIterator[ArqRedis]:
    client = create_redis(url=redis_url)
    yield client
    await close_redis(client)


@pytest.fixture
async def served(settings: Settings, engine: AsyncEngine, redis_url: str) -> AsyncIterator[str]:
    app = build_app(settings)
    async with app.router.lifespan_context(app), serve_app(app) as base_url:
        yield base_url


async def subscribed(redis: ArqRedis, channel: str) -> None:
    for _ in range(500):
        if (await redis.pubsub_numsub(channel))[0][1]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the stream never subscribed")


async def events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    async for line in response.aiter_lines():
        if line.startswith("data:"):
            yield json.loads(line.partition(":")[2])


async def test_the_panel_follows_a_real_broadcast_live(
    served: str, settings: Settings, session_factory: Factory, arq_redis: ArqRedis
) -> None:
    async with stage(LOOSE) as running:
        fans = await running.tenant(session_factory, 40)
        bot = ApiBot(tenant_id=fans.tenant_id, bot_id=fans.bot_id, token=fans.token)
        async with httpx.AsyncClient(base_url=served, timeout=30) as client:
            owner = await sign_in(client, bot, fans.owner_telegram_id)
            broadcast_id = await create(client, owner.headers)
            started = await client.post(f"{BASE}/{broadcast_id}/send", headers=owner.headers)
            assert started.json()["total"] == 41  # the fans and the owner, who signed in

            path = f"{BASE}/{broadcast_id}/events?access_token={owner.token}"
            async with client.stream("GET", path) as stream:
                assert stream.headers["content-type"].startswith("text/event-stream")
                channel = progress.channel(fans.tenant_id, broadcast_id)
                await subscribed(arq_redis, channel)
                worker = asyncio.create_task(run_broadcasts(settings, running, rate=40))
                seen = [event async for event in events(stream)]
                await worker
            # the plan's usage bar counts what the quota counted: today's broadcast messages
            plan = await client.get("/api/v1/creator/plan", headers=owner.headers)
            page = await client.get(BASE, headers=owner.headers)
    assert plan.json()["broadcast_messages_per_day"]["used"] == 41 == page.json()["used_today"]

    assert seen[0]["status"] == "running" and seen[0]["sent"] == 0
    assert seen[-1]["status"] == "completed" and seen[-1]["sent"] == 41
    assert [e["sent"] for e in seen] == sorted(e["sent"] for e in seen)
    assert any(0 < e["sent"] < 41 and e["rate"] > 0 for e in seen)  # live, not just the end
    done = await reload(session_factory, fans.tenant_id, broadcast_id)
    assert done.status == BroadcastStatus.COMPLETED
    assert set(running.received(fans).values()) == {1}
