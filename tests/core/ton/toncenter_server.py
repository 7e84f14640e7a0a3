"""A small toncenter-compatible HTTP server for tests: a real server on a free local port that
answers ``POST /api/v3/runGetMethod`` in toncenter's JSON shape (``get_public_key``,
``seqno``), can answer 429 a number of times first, and records what it was sent.

Until the devtools toncenter stand-in exists this is what the client is tested against; it is
no mock of our code — the client under test speaks real HTTP to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web


@dataclass
class LocalToncenter:
    public_keys: dict[str, bytes] = field(default_factory=dict)  # raw address → key
    rate_limited: int = 0  # answer 429 to this many requests first
    retry_after: str | None = None
    v2_shape: bool = False
    seen: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def _stack_entry(self, value: int) -> Any:
        return ["num", hex(value)] if self.v2_shape else {"type": "num", "value": hex(value)}

    def _answer(self, exit_code: int, stack: list[Any]) -> dict[str, Any]:
        result = {"gas_used": 600, "exit_code": exit_code, "stack": stack}
        return {"ok": True, "result": result} if self.v2_shape else result

    async def run_get_method(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.seen.append({"headers": dict(request.headers), "body": body})
        if self.rate_limited > 0:
            self.rate_limited -= 1
            headers = {"Retry-After": self.retry_after} if self.retry_after else None
            error = {"ok": False, "error": "Ratelimit exceed", "code": 429}
            return web.json_response(error, status=429, headers=headers)
        key = self.public_keys.get(body["address"])
        if body["method"] == "get_public_key" and key is not None:
            entry = self._stack_entry(int.from_bytes(key, "big"))
            return web.json_response(self._answer(0, [entry]))
        if body["method"] == "seqno" and key is not None:
            return web.json_response(self._answer(0, [self._stack_entry(7)]))
        return web.json_response(self._answer(11, []))  # no such method / not deployed


@pytest.fixture
async def toncenter() -> AsyncIterator[LocalToncenter]:
    server = LocalToncenter()
    app = web.Application()
    app.router.add_post("/api/v3/runGetMethod", server.run_get_method)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    server.url = f"http://{host}:{port}"
    try:
        yield server
    finally:
        await runner.cleanup()
