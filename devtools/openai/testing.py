"""Run the fake OpenAI server on a free local port for the length of a test (or a dev session)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import uvicorn

from devtools import KEEP_ALIVE_S
from devtools.openai.app import create_app
from devtools.openai.control import OpenAIServerConfig, OpenAIServerControl

__all__ = ["running_openai_server"]


@contextlib.asynccontextmanager
async def running_openai_server(
    config: OpenAIServerConfig | None = None,
) -> AsyncIterator[tuple[str, OpenAIServerControl]]:
    """Serve the fake on ``127.0.0.1:<free port>``; yields ``(base_url, control)``.

    ``base_url`` ends in ``/v1``, ready for ``AsyncOpenAI(base_url=..., api_key=control.api_key)``.
    The socket is bound before uvicorn starts, so there is no race for the port.
    """
    app = create_app(config)
    control: OpenAIServerControl = app.state.control
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
                raise RuntimeError("the fake OpenAI server stopped during start-up")
            await asyncio.sleep(0.005)
        yield f"http://127.0.0.1:{port}/v1", control
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), 5)
        except TimeoutError:
            server.force_exit = True
            await task
        sock.close()
