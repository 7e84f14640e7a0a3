"""Jobs API fixtures: those of the catalogue tests, plus the app served by uvicorn (SSE needs
a real server: the in-process transport buffers whole responses)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from core.settings import Settings
from devtools.serving import serve_app
from tests.miniapp_api.catalog.conftest import fans, store, test_providers  # noqa: F401
from tests.miniapp_api.conftest import build_app


@pytest.fixture
async def served(settings: Settings, engine: AsyncEngine, redis_url: str) -> AsyncIterator[str]:
    """The API on a free port (its own Redis client and engine, as another process has)."""
    app = build_app(settings)
    async with app.router.lifespan_context(app), serve_app(app) as base_url:
        yield base_url
