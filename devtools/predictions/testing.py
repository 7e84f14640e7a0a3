"""Run the predictions stand-in on a free local port for a test (or a dev session)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn

from devtools import KEEP_ALIVE_S
from devtools.predictions.app import create_app
from devtools.predictions.control import PredictionsServerConfig, PredictionsServerControl

__all__ = ["running_predictions_server"]


@contextlib.asynccontextmanager
async def running_predictions_server(
    config: PredictionsServerConfig | None = None,
) -> AsyncIterator[tuple[str, PredictionsServerControl]]:
    """Serve the stand-in on ``127.0.0.1:<free port>``; yields ``(base_url, control)``.

    ``base_url`` is the server root (Replicate's ``https://api.replicate.com``); the bearer key
    ``control.api_key`` is accepted.
    The socket is bound before uvicorn starts, so there is no race for the port.
    """
    app = create_app(config)
    control: PredictionsServerControl = app.state.control
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_keep_alive=KEEP_ALIVE_S,
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the predictions stand-in stopped during start-up")
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{port}", control
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), 5)
        except TimeoutError:
            server.force_exit = True
            await task
        sock.close()
