"""``atelier api``: serve the Mini App HTTP API with uvicorn."""

from __future__ import annotations

import typer

from cli.output import fail
from core.logging import configure_logging
from core.redis import is_memory_url
from core.settings import get_settings

APP_FACTORY = "miniapp_api.app:serve_app"


def api(
    host: str = typer.Option("127.0.0.1", help="Interface to bind (0.0.0.0 for every one)."),
    port: int = typer.Option(8000, min=1, max=65535, help="TCP port."),
    workers: int = typer.Option(1, min=1, help="Worker processes."),
) -> None:
    """Serve the HTTP API (/api/v1, /healthz, /readyz, /metrics)."""
    import uvicorn

    settings = get_settings()
    if workers > 1 and is_memory_url(settings.redis_url):
        fail(
            "ATELIER_REDIS_URL=memory:// lives inside one process",
            hint="use --workers 1, or point ATELIER_REDIS_URL at a Redis server",
        )
    configure_logging(settings)
    uvicorn.run(
        APP_FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=None,  # our handler (JSON, request ids) is already on the root logger
        log_level=settings.log_level.lower(),
        access_log=False,  # the request middleware logs one line per request, with its id
        server_header=False,
        proxy_headers=True,
    )


def register(app: typer.Typer) -> None:
    app.command("api")(api)
