"""Start the emulator for a test: ``async with running_emulator() as (base_url, client): ...``.

The server runs on uvicorn in the caller's event loop, on 127.0.0.1 and a free port (safe with
``pytest -n``). Point aiogram at it with
``AiohttpSession(api=TelegramAPIServer.from_base(base_url))``; call the Bot API directly at
``{base_url}/bot{token}/getMe``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from devtools.serving import serve_app
from devtools.telegram.app import create_app
from devtools.telegram.client import EmulatorClient
from devtools.telegram.emulator import Emulator
from devtools.telegram.state import EmulatorSettings


@contextlib.asynccontextmanager
async def running_emulator(
    settings: EmulatorSettings | None = None,
) -> AsyncIterator[tuple[str, EmulatorClient]]:
    """Run a fresh emulator; yields ``(base_url, EmulatorClient)``."""
    app = create_app(settings)
    emulator: Emulator = app.state.emulator
    async with serve_app(app) as base_url:
        client = EmulatorClient(base_url)
        try:
            yield base_url, client
        finally:
            await client.aclose()
            await emulator.close()  # ends SSE streams so the server can stop quickly
