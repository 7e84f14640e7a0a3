"""Fixtures of the TON API tests: the app served with our public origin and a local
toncenter-compatible server, two tenants and three signed-in fans."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.settings import TonNetwork
from tests.core.ton.helpers import DOMAIN
from tests.core.ton.toncenter_server import LocalToncenter, toncenter  # noqa: F401
from tests.miniapp_api.auth.helpers import Fan, add_bot, sign_in
from tests.miniapp_api.conftest import MakeClient


@dataclass
class Fans:
    alice: Fan
    bob: Fan  # same tenant as alice
    carol: Fan  # another tenant


@pytest.fixture
async def ton_client(
    make_client: MakeClient,
    toncenter: LocalToncenter,  # noqa: F811 - the fixture imported above
) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(
        public_base_url=f"https://{DOMAIN}",
        ton_api_base=toncenter.url,
        ton_network=TonNetwork.MAINNET,
        ton_proof_ttl=900,
    ) as client:
        yield client


@pytest.fixture
async def fans(
    ton_client: httpx.AsyncClient, session_factory: async_sessionmaker[AsyncSession]
) -> Fans:
    first, second = await add_bot(session_factory), await add_bot(session_factory)
    return Fans(
        alice=await sign_in(ton_client, first),
        bob=await sign_in(ton_client, first),
        carol=await sign_in(ton_client, second),
    )
