"""``atelier worker``: run the arq worker (generation tasks, cron)."""

from __future__ import annotations

import asyncio

import typer
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from cli.output import err_console, fail
from core.logging import configure_logging
from core.redis import is_memory_url
from core.settings import get_settings


def worker(
    burst: bool = typer.Option(False, "--burst", help="Stop once the queue is empty."),
) -> None:
    """Run the background worker until interrupted."""
    from jobs.worker import run_worker

    settings = get_settings()
    configure_logging(settings)
    if is_memory_url(settings.redis_url):
        err_console.print(
            "[yellow]warning:[/] ATELIER_REDIS_URL=memory:// is private to this process: this "
            "worker only sees its own cron jobs (`atelier dev` runs API and worker together)",
            highlight=False,
        )
    try:
        asyncio.run(run_worker(settings, burst=burst))
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        fail(
            f"cannot reach Redis: {exc}",
            hint="check ATELIER_REDIS_URL and that the server is running",
        )
    except KeyboardInterrupt:
        pass


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
