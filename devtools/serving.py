"""Serve a stand-in (any ASGI app) on uvicorn, in the caller's event loop, on a free port of
127.0.0.1: ``async with serve_app(app) as base_url: ...`` (safe with ``pytest -n``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Generator

import uvicorn
from starlette.types import ASGIApp

KEEP_ALIVE_S = 75
"""How long the stand-ins keep an idle connection open: longer than httpx's 5-second pool
expiry, so a client always drops an idle connection first. With both at 5 s a request sent
just as the server closed its connection failed with ``ReadError``."""


class _QuietServer(uvicorn.Server):
    """uvicorn without signal handlers: Ctrl-C must stay with the test runner."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@contextlib.asynccontextmanager
async def serve_app(app: ASGIApp, *, host: str = "127.0.0.1") -> AsyncIterator[str]:
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
    task = asyncio.create_task(server.serve(), name="stand-in-uvicorn")
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
