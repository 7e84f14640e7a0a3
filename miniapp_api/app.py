"""The FastAPI application factory.

``create_app(settings)`` builds an app whose resources (engine, session factory, Redis) are
made in the lifespan and closed with it, so importing or building the app does no I/O and
tests can build as many apps as they like. ``serve_app`` is the factory uvicorn calls in each
worker process of ``atelier api``; it also sets up logging there.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from core.db import create_engine, create_session_factory
from core.logging import configure_logging
from core.redis import close_redis, create_redis
from core.settings import Environment, Settings, get_settings
from miniapp_api import files, health, metrics, webapp, webhooks
from miniapp_api.api import include_api
from miniapp_api.errors import install_error_handlers
from miniapp_api.metrics import HttpMetrics
from miniapp_api.middleware import RequestContextMiddleware
from miniapp_api.ton.endpoints import manifest_router as tonconnect_manifest


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Open the shared resources for the life of the app; nothing connects until used."""
    settings: Settings = app.state.settings
    engine = create_engine(settings)
    # SQLite (atelier dev) has no plans to force and one file: the same engine serves reads.
    is_postgres = engine.dialect.name == "postgresql"
    reads_engine = create_engine(settings, for_reads=True) if is_postgres else engine
    redis = create_redis(settings)
    app.state.engine = engine
    app.state.session_factory = create_session_factory(engine)
    app.state.read_session_factory = create_session_factory(reads_engine)
    app.state.redis = redis
    webhooks.start(app)
    try:
        yield
    finally:
        await webhooks.stop(app)
        await files.close_storage(app)
        await close_redis(redis)
        await engine.dispose()
        if reads_engine is not engine:
            await reads_engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="Atelier Mini App API",
        version="1",
        lifespan=lifespan,
        docs_url=None if settings.environment is Environment.PRODUCTION else "/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.metrics = HttpMetrics()
    app.add_middleware(RequestContextMiddleware, metrics=app.state.metrics)
    install_error_handlers(app)
    app.include_router(webhooks.router)  # first: Telegram's updates are most of the traffic
    app.include_router(health.router)
    app.include_router(metrics.router)
    include_api(app)
    app.include_router(files.router)
    app.include_router(tonconnect_manifest)
    app.include_router(webapp.router)  # the Mini App front end at /app/
    return app


def freeze_heap() -> None:
    """Move everything alive now (imported modules, classes, the app) out of the garbage
    collector's sight. A serving process holds ~360,000 such objects; without this every
    full collection walks them all — 0.1-0.5 s each here, a fifth of the CPU of a busy bot
    webhook (measured with ``bench.webhook``), and a pause for every request in flight. They
    live as long as the process, so nothing collectable is lost. Only for serving processes:
    a test run that builds many apps would keep each one's garbage for ever."""
    gc.collect()
    gc.freeze()


def serve_app() -> FastAPI:
    """uvicorn's factory (``miniapp_api.app:serve_app``): logging first, then the app."""
    settings = get_settings()
    configure_logging(settings)
    app = create_app(settings)
    freeze_heap()
    return app
