"""Drive API fixtures: two tenants, three fans (two in the first tenant), an in-process app."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from PIL import Image
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.core.storage.conftest import s3_endpoint  # noqa: F401 - the moto S3 server fixture
from tests.miniapp_api.auth.helpers import Fan, add_bot, sign_in
from tests.miniapp_api.conftest import MakeClient


@dataclass
class Fans:
    alice: Fan
    bob: Fan  # same tenant as alice
    carol: Fan  # another tenant


@pytest.fixture
async def fans(
    client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> Fans:
    first = await add_bot(session_factory)
    second = await add_bot(session_factory)
    return Fans(
        alice=await sign_in(client, first),
        bob=await sign_in(client, first),
        carol=await sign_in(client, second),
    )


def png(width: int = 64, height: int = 48, color: str = "red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
async def s3_client(make_client: MakeClient, s3_endpoint: str) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    async with make_client(
        storage_url="s3://atelier-drive-api-tests", s3_endpoint_url=s3_endpoint
    ) as c:
        yield c
