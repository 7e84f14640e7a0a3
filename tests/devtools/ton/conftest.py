"""Fixtures for the TON stand-in tests: a fresh stand-in per test, driven over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from devtools.ton import TonClient, TonSettings, running_ton
from devtools.ton.wallets import TestWallet

TON = 1_000_000_000


@dataclass
class Ton:
    base_url: str
    client: TonClient
    http: httpx.AsyncClient

    async def transactions(self, account: str, **params: Any) -> dict[str, Any]:
        params = {"account": account, **params}
        response = await self.http.get("/api/v3/transactions", params=params)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result

    async def run_get_method(self, address: str, method: str) -> dict[str, Any]:
        body = {"address": address, "method": method, "stack": []}
        response = await self.http.post("/api/v2/runGetMethod", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()["result"]
        return result

    async def seqno(self, address: str) -> int:
        result = await self.run_get_method(address, "seqno")
        return int(result["stack"][0][1], 16)

    async def send_boc(self, boc: str) -> httpx.Response:
        return await self.http.post("/api/v2/sendBoc", json={"boc": boc})


@pytest.fixture
def ton_settings() -> TonSettings:
    return TonSettings()


@pytest.fixture
async def ton(ton_settings: TonSettings) -> AsyncIterator[Ton]:
    async with (
        running_ton(ton_settings) as (base_url, client),
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
    ):
        yield Ton(base_url, client, http)


def local_wallet(info: Any) -> TestWallet:
    """The test's own copy of a stand-in wallet's keys (to sign without the control API)."""
    wallet: TestWallet = info.test_wallet()
    return wallet
