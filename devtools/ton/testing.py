"""Start the TON stand-in for a test: ``async with running_ton() as (base_url, ton): ...``.

The server runs on uvicorn in the caller's event loop, on 127.0.0.1 and a free port (safe with
``pytest -n``). ``base_url`` is what ``TON_API_BASE`` should be; ``ton`` is a ``TonClient``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from devtools.serving import serve_app
from devtools.ton.app import create_app
from devtools.ton.client import TonClient
from devtools.ton.config import TonSettings
from devtools.ton.devnet import TonDevnet


@contextlib.asynccontextmanager
async def running_ton(settings: TonSettings | None = None) -> AsyncIterator[tuple[str, TonClient]]:
    """Run a fresh stand-in; yields ``(base_url, TonClient)``; ``app.state.ton`` is not exposed
    on purpose (drive it over HTTP as the product does)."""
    app = create_app(settings)
    devnet: TonDevnet = app.state.ton
    async with serve_app(app) as base_url:
        client = TonClient(base_url)
        try:
            yield base_url, client
        finally:
            await client.aclose()
            await devnet.close()  # ends bridge SSE streams so the server can stop quickly
