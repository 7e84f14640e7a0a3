"""Job start latency and throughput: our FastStartWorker next to plain arq, in one run.

    .venv/bin/python -m bench.jobs [--redis-url redis://127.0.0.1:6379/14] [--samples 100]
                                   [--jobs 10000]

Each worker runs in its own process against real Redis (the database in ``--redis-url`` is
flushed before every scenario). Two measures per worker:

- **enqueue → start latency**: one job at a time into an idle worker, a random 10–510 ms pause
  between jobs (so arrivals fall anywhere in a polling worker's cycle); the job reports
  ``time.time()`` at its start minus the enqueuer's ``time.time()`` just before
  ``enqueue_job``. Our worker is woken by :func:`jobs.wakeup.enqueue_job`; plain arq
  gets plain ``enqueue_job``.
- **throughput**: ``--jobs`` trivial jobs enqueued first, then one worker (``max_jobs`` 10,
  arq's default) runs them in burst mode; jobs/s = jobs / (last finish − first start).

Prints figures only; it never fails on time. Targets for ours: p50 ≤ 15 ms, p99 ≤ 50 ms,
≥ 2,000 jobs/s.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import random
import statistics
import time
from dataclasses import dataclass
from multiprocessing.queues import Queue
from typing import Any

from arq.connections import ArqRedis, RedisSettings, create_pool
from arq.worker import Worker, func
from rich.console import Console
from rich.table import Table

from jobs import wakeup

console = Console()
LATENCY_KEY = "bench:latency"


@dataclass(frozen=True)
class Kind:
    name: str
    fast: bool
    poll_delay: float | None


KINDS = (
    Kind("atelier FastStartWorker", fast=True, poll_delay=None),
    Kind("arq defaults (poll 0.5 s)", fast=False, poll_delay=None),
    Kind("arq poll_delay=0.05", fast=False, poll_delay=0.05),
)


# -- the worker process -------------------------------------------------------------------------


_counts: dict[str, float] = {}


async def stamp(ctx: dict[str, Any], sent_at: float) -> None:
    latency = time.time() - sent_at
    await ctx["redis"].rpush(LATENCY_KEY, repr(latency))


async def noop(ctx: dict[str, Any], index: int) -> None:
    now = time.perf_counter()
    _counts.setdefault("first", now)
    _counts["count"] = _counts.get("count", 0) + 1
    _counts["last"] = now


def _worker_main(kind: Kind, redis_url: str, burst: bool, results: Queue[Any]) -> None:
    logging.basicConfig(level=logging.WARNING)
    options: dict[str, Any] = {
        "functions": [func(stamp, name="stamp"), func(noop, name="noop")],
        "redis_settings": RedisSettings.from_dsn(redis_url),
        "burst": burst,
        "handle_signals": not burst,
    }
    if kind.poll_delay is not None:
        options["poll_delay"] = kind.poll_delay

    async def run() -> None:
        # arq binds the worker to the loop that is current when it is made.
        worker: Worker = wakeup.FastStartWorker(**options) if kind.fast else Worker(**options)
        try:
            await worker.async_run()
        except asyncio.CancelledError:
            pass  # terminated by the bench (SIGTERM) after the latency run
        finally:
            with contextlib.suppress(asyncio.CancelledError):
                await worker.close()

    asyncio.run(run())
    if burst:
        span = _counts.get("last", 0.0) - _counts.get("first", 0.0)
        results.put({"count": int(_counts.get("count", 0)), "seconds": span})


# -- the measuring side ------------------------------------------------------------------------


async def _pool(redis_url: str) -> ArqRedis:
    return await create_pool(RedisSettings.from_dsn(redis_url))


async def measure_latency(kind: Kind, redis_url: str, samples: int) -> list[float]:
    redis = await _pool(redis_url)
    await redis.flushdb()
    context = multiprocessing.get_context("spawn")
    results: Queue[Any] = context.Queue()
    process = context.Process(target=_worker_main, args=(kind, redis_url, False, results))
    process.start()
    latencies: list[float] = []
    try:
        await asyncio.sleep(1.5)  # the worker imports and connects
        for index in range(samples + 5):
            # A random phase against the worker's poll (arq's 0.5 s included).
            await asyncio.sleep(random.uniform(0.010, 0.510))
            sent_at = time.time()
            if kind.fast:
                await wakeup.enqueue_job(redis, "stamp", sent_at)
            else:
                await redis.enqueue_job("stamp", sent_at)
            answer = await redis.blpop([LATENCY_KEY], timeout=10)  # type: ignore[misc]
            if answer is None:
                raise RuntimeError(f"{kind.name}: job {index} never started")
            if index >= 5:  # the first few warm the worker up
                latencies.append(float(answer[1]) * 1000)
    finally:
        process.terminate()
        process.join(10)
        await redis.aclose()
    return latencies


async def measure_throughput(kind: Kind, redis_url: str, jobs: int) -> tuple[int, float]:
    redis = await _pool(redis_url)
    await redis.flushdb()
    for start in range(0, jobs, 200):
        await asyncio.gather(
            *(redis.enqueue_job("noop", i) for i in range(start, min(jobs, start + 200)))
        )
    await redis.aclose()
    context = multiprocessing.get_context("spawn")
    results: Queue[Any] = context.Queue()
    process = context.Process(target=_worker_main, args=(kind, redis_url, True, results))
    process.start()
    outcome = await asyncio.to_thread(results.get, True, 600)
    process.join(10)
    return int(outcome["count"]), float(outcome["seconds"])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14")
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--jobs", type=int, default=10_000)
    args = parser.parse_args()

    table = Table(title="arq job start latency and throughput (one worker process)")
    for column in ("worker", "p50 ms", "p90 ms", "p99 ms", "max ms", "jobs/s"):
        table.add_column(column, justify="right" if column != "worker" else "left")
    for kind in KINDS:
        console.print(f"[bold]{kind.name}[/]: latency ({args.samples} samples)…")
        latencies = await measure_latency(kind, args.redis_url, args.samples)
        console.print(f"[bold]{kind.name}[/]: throughput ({args.jobs} jobs)…")
        count, seconds = await measure_throughput(kind, args.redis_url, args.jobs)
        table.add_row(
            kind.name,
            f"{statistics.median(latencies):.1f}",
            f"{_percentile(latencies, 0.90):.1f}",
            f"{_percentile(latencies, 0.99):.1f}",
            f"{max(latencies):.1f}",
            f"{count / seconds:,.0f}" if seconds else "-",
        )
    console.print(table)


if __name__ == "__main__":
    asyncio.run(main())
