"""Run the predictions stand-in on a free local port for a test (or a dev session)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from devtools.predictions.app import create_app
from devtools.predictions.control import PredictionsServerConfig, PredictionsServerControl
from devtools.serving import serve_app

__all__ = ["running_predictions_server"]


@contextlib.asynccontextmanager
async def running_predictions_server(
    config: PredictionsServerConfig | None = None,
) -> AsyncIterator[tuple[str, PredictionsServerControl]]:
    """Serve the stand-in on ``127.0.0.1:<free port>``; yields ``(base_url, control)``.

    ``base_url`` is the server root (Replicate's ``https://api.replicate.com``); the bearer key
    ``control.api_key`` is accepted.
    """
    app = create_app(config)
    control: PredictionsServerControl = app.state.control
    async with serve_app(app) as base_url:
        yield base_url, control
