"""A worker process for the crash test: ``python -m tests.jobs.generation.crash_worker``.

Settings come from ``ATELIER_*`` (the test exports its own); the test providers are
registered, the runner uses the fast test timings, and arq gives a claimed job back after
``ATELIER_TEST_IN_PROGRESS_S`` seconds instead of an hour.
"""

from __future__ import annotations

import asyncio
import logging
import os

from core.settings import get_settings
from jobs.worker import run_worker
from tests.jobs.generation import providers
from tests.jobs.generation.conftest import FAST


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    providers.register()
    settings = get_settings()
    asyncio.run(
        run_worker(
            settings,
            ctx={"settings": settings, "generation_config": FAST},
            cron_jobs=[],
            handle_signals=False,
            poll_delay=0.5,
            in_progress_timeout=float(os.environ.get("ATELIER_TEST_IN_PROGRESS_S", "3")),
        )
    )


if __name__ == "__main__":
    main()
