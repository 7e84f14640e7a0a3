"""A worker process for the broadcast crash test: ``python -m tests.jobs.broadcasts.crash_worker``.

Settings come from ``ATELIER_*`` (the test exports the emulator's address and the real rate);
the sender uses short test timings so a dead sender's lease goes stale in seconds.
"""

from __future__ import annotations

import asyncio
import logging

from core.settings import get_settings
from jobs.broadcasts.sender import SenderConfig
from jobs.worker import run_worker

CRASH_CONFIG = SenderConfig(
    batch_size=100,
    chunk_seconds=20.0,
    heartbeat_interval=0.25,
    stale_after=1.5,
    idle_requeue_after=5.0,
    flush_interval=0.2,
)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    settings = get_settings()
    asyncio.run(
        run_worker(
            settings,
            ctx={"settings": settings, "broadcast_config": CRASH_CONFIG},
            cron_jobs=[],
            poll_delay=0.2,
        )
    )


if __name__ == "__main__":
    main()
