"""Start the emulator for a test: ``async with running_emulator() as (base_url, client): ...``.

The server runs on uvicorn in the caller's event loop, on 127.0.0.1 and a free port (safe with
``pytest -n``). Point aiogram at it with
``AiohttpSession(api=TelegramAPIServer.from_base(base_url))``; call the Bot API directly at
``{base_url}/bot{token}/getMe``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator

import uvicorn
from fastapi import FastAPI

from devtools import KEEP_ALIVE_S
from devtools.telegram.app import create_app
from devtools.telegram.client import EmulatorClient
from devtools.telegram.emulator import Emulator
from devtools.telegram.state import EmulatorSettings


class _QuietServer(uvicorn.Server):
    """uvicorn without signal handlers: Ctrl-C must stay with the test runner."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serve_app(app: FastAPI, *, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serve any ASGI app on a free port for the duration of the block; yields its base URL."""
    config = uvicorn.Config(
        app,
        host=host,
        port=0,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
        timeout_keep_alive=KEEP_ALIVE_S,
    )
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(), name="emulator-uvicorn")
    while not server.started:
        if task.done():
            task.result()  # raises the start-up error
            raise RuntimeError("uvicorn stopped before it started")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, 5)
        except TimeoutError:
            server.force_exit = True
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


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
