"""Run the fake OpenAI server on a free local port for the length of a test (or a dev session)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from devtools.openai.app import create_app
from devtools.openai.control import OpenAIServerConfig, OpenAIServerControl
from devtools.serving import serve_app

__all__ = ["running_openai_server"]


@contextlib.asynccontextmanager
async def running_openai_server(
    config: OpenAIServerConfig | None = None,
) -> AsyncIterator[tuple[str, OpenAIServerControl]]:
    """Serve the fake on ``127.0.0.1:<free port>``; yields ``(base_url, control)``.

    ``base_url`` ends in ``/v1``, ready for ``AsyncOpenAI(base_url=..., api_key=control.api_key)``.
    """
    app = create_app(config)
    control: OpenAIServerControl = app.state.control
    async with serve_app(app) as base_url:
        yield f"{base_url}/v1", control
