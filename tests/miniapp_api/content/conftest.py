"""A creator's studio for content tests: two tenants, their owners, fans, and helpers that
upload through the drive, write posts through the creator API and run the worker's tasks."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from arq.connections import ArqRedis
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.redis import create_redis
from core.settings import Settings
from tests.miniapp_api.auth.helpers import Fan, TestBot, add_bot, sign_in

Factory = async_sessionmaker[AsyncSession]
OWNER = 6_600_001
OTHER_OWNER = 6_600_002


@dataclass
class Studio:
    bot: TestBot
    owner: Fan
    alice: Fan
    bob: Fan
    other_bot: TestBot
    other_owner: Fan
    carol: Fan  # a fan of the other tenant


@pytest.fixture
async def studio(client: httpx.AsyncClient, session_factory: Factory) -> Studio:
    first = await add_bot(session_factory, owner_telegram_id=OWNER)
    second = await add_bot(session_factory, owner_telegram_id=OTHER_OWNER)
    return Studio(
        bot=first,
        owner=await sign_in(client, first, OWNER),
        alice=await sign_in(client, first),
        bob=await sign_in(client, first),
        other_bot=second,
        other_owner=await sign_in(client, second, OTHER_OWNER),
        carol=await sign_in(client, second),
    )


def noisy_png(width: int = 320, height: int = 240, seed: int = 1) -> bytes:
    """A picture full of fine detail (random pixels): what a blur must destroy."""
    rng = random.Random(seed)
    image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


async def upload(client: httpx.AsyncClient, who: Fan, name: str, data: bytes) -> int:
    response = await client.post(
        "/api/v1/drive/files", params={"name": name}, content=data, headers=who.headers
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def create_post(client: httpx.AsyncClient, who: Fan, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/creator/content/posts", json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def create_package(
    client: httpx.AsyncClient, who: Fan, name: str = "Gold", price: int = 300, **extra: Any
) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/creator/vip/packages",
        json={"name": name, "price_stars": price, **extra},
        headers=who.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def local(url: str) -> str:
    """A link of the app (``http://127.0.0.1:8000/...``) as a path for the test client."""
    return url.split("8000", 1)[-1]


def worker_ctx(settings: Settings, factory: Factory) -> dict[str, Any]:
    redis: ArqRedis = create_redis(settings)
    return {"settings": settings, "session_factory": factory, "redis": redis}
