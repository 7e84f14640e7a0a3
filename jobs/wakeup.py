"""Fast job start: workers wake on enqueue instead of polling every half second.

arq polls its queue every ``poll_delay`` (0.5 s by default), so an idle worker starts a job up to
half a second late, and a shorter poll hammers Redis while idle. Here the enqueuer also pushes a
token onto a Redis list (:func:`wake`, ``LPUSH atelier:wake:<queue>`` + ``LTRIM``), and an idle
:class:`FastStartWorker` blocks on that list (``BLPOP`` with a timeout) instead of sleeping:

- a token wakes exactly one idle worker, which polls at once (a token pushed while nobody
  waits stays in the list, so no wake-up is lost; the list is capped at :data:`WAKE_BACKLOG`);
- a worker whose every slot is busy does not take tokens (it would not start the job); it
  waits for one of its own jobs to finish, then polls;
- a worker wakes by itself when the next deferred job (arq ``Retry(defer=...)``, which
  also pushes a token, ``_defer_by``) or cron job is due, and at the latest after
  ``poll_delay`` — now only a fallback (default :data:`FALLBACK_POLL_S`) for enqueuers that
  do not call :func:`wake`.

Starting jobs also takes fewer round trips than arq's (ZRANGEBYSCORE, then WATCH/EXISTS/ZSCORE/
MULTI/PSETEX/EXEC per job): one Lua script reads the due jobs, claims as many as there are free
slots (the same ``arq:in-progress:<id>`` keys, so plain arq workers can share the queue) and
returns when the next deferred job is due. The in-process stand-in (fakeredis without Lua) keeps
arq's own claiming; the wake-up works there too.

The enqueue side of the protocol (:func:`core.queue.wake`) lives in :mod:`core.queue`, so
every edge that sends jobs after commit (:func:`core.queue.flush_deferred_jobs`) wakes
workers too; :func:`enqueue_job` here is ``enqueue_job`` + ``wake`` for direct enqueues.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime
from typing import Any, cast

import arq.worker
from arq.connections import ArqRedis, create_pool
from arq.constants import in_progress_key_prefix
from arq.jobs import Job
from arq.utils import timestamp_ms
from arq.worker import Worker

from core.queue import wake, wake_key
from core.redis import uses_memory_backend

logger = logging.getLogger(__name__)

FALLBACK_POLL_S = 2.0
"""The idle poll when nothing wakes a worker: missed wake-ups still run within this."""
MIN_BLOCK_S = 0.01
"""BLPOP's timeout 0 means "forever"; never ask for less than this."""

_CLAIM = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1],
                      'WITHSCORES', 'LIMIT', 0, ARGV[4])
local claimed = {}
local wanted = tonumber(ARGV[3])
local n = 0
for i = 1, #due, 2 do
  if n >= wanted then break end
  local key = ARGV[5] .. due[i]
  if redis.call('EXISTS', key) == 0 then
    redis.call('PSETEX', key, ARGV[2], '1')
    claimed[#claimed + 1] = due[i]
    claimed[#claimed + 1] = due[i + 1]
    n = n + 1
  end
end
local later = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf',
                        'WITHSCORES', 'LIMIT', 0, 1)
return {claimed, #due / 2, later[2] or false}
"""
"""KEYS[1] queue; ARGV: now (ms), in-progress TTL (ms), free slots, read limit, key prefix.
Returns the claimed ``[id, score, ...]``, how many due ids were read, and the next future score."""


async def enqueue_job(redis: ArqRedis, function: str, *args: Any, **kwargs: Any) -> Job | None:
    """``redis.enqueue_job(...)`` followed by :func:`wake` when a job was enqueued."""
    job = await redis.enqueue_job(function, *args, **kwargs)
    if job is not None:
        await wake(redis, kwargs.get("_queue_name") or redis.default_queue_name)
    return job


class FastStartWorker(Worker):
    """An arq :class:`~arq.worker.Worker` that blocks on the wake list between polls.

    Same arguments as arq's, plus ``in_progress_timeout`` (seconds a claimed job stays claimed
    without finishing before another worker may run it; arq's default is the longest function
    timeout + 10 s). ``poll_delay`` is the fallback poll (default :data:`FALLBACK_POLL_S`).
    """

    def __init__(self, *args: Any, in_progress_timeout: float | None = None, **kwargs: Any):
        kwargs.setdefault("poll_delay", FALLBACK_POLL_S)
        super().__init__(*args, **kwargs)
        if in_progress_timeout is not None:
            self.in_progress_timeout_s = in_progress_timeout
        self._slot_freed = asyncio.Event()
        self._more_due = False
        self._next_due_ms: float | None = None
        self._lua = True
        self.wakes = 0
        """How many wake tokens this worker consumed (for tests and metrics)."""

    @property
    def wake_key(self) -> str:
        return wake_key(self.queue_name)

    async def main(self) -> None:
        if self._pool is None:
            self._pool = await create_pool(
                self.redis_settings,
                job_deserializer=self.job_deserializer,
                job_serializer=self.job_serializer,
                default_queue_name=self.queue_name,
                expires_extra_ms=self.expires_extra_ms,
            )
        logger.info(
            "Starting worker for %d functions: %s", len(self.functions), ", ".join(self.functions)
        )
        # Through the module attribute: jobs.worker guards it for the in-process stand-in.
        await arq.worker.log_redis_info(self.pool, logger.info)  # type: ignore[attr-defined]
        self._lua = not uses_memory_backend(self.pool)
        self.ctx["redis"] = self.pool
        if self.on_startup:
            await self.on_startup(self.ctx)
        while True:
            await self._poll_iteration()
            if self.burst:
                if 0 <= self.max_burst_jobs <= self._jobs_started():
                    await asyncio.gather(*self.tasks.values())
                    return None
                if await self.pool.zcard(self.queue_name) == 0:
                    await asyncio.gather(*self.tasks.values())
                    return None
            await self._wait_for_work()

    # -- polling -------------------------------------------------------------------------------

    def _free_slots(self) -> int:
        count = self.max_jobs - self.job_counter
        if self.burst and self.max_burst_jobs >= 0:
            count = min(count, self.max_burst_jobs - self._jobs_started())
        return count

    async def _poll_iteration(self) -> None:
        if not self._lua:
            self._more_due = False
            self._next_due_ms = None
            await super()._poll_iteration()
            return
        free = self._free_slots() if self.allow_pick_jobs else 0
        if free > 0:
            await self._claim_and_start(free)
        for job_id, task in list(self.tasks.items()):
            if task.done():
                del self.tasks[job_id]
                task.result()  # errors in run_job propagate, as in arq
        before = [job.next_run for job in self.cron_jobs]
        await self.heart_beat()
        for job, previous in zip(self.cron_jobs, before, strict=True):
            if previous is not None and job.next_run != previous:
                # Just enqueued, deferred to ``previous``: wake for it then.
                due = previous.timestamp() * 1000
                self._next_due_ms = min(self._next_due_ms or due, due)

    async def _claim_and_start(self, free: int) -> None:
        now = timestamp_ms()
        claimed, read, later = await self.pool.eval(  # type: ignore[misc]
            _CLAIM,
            1,
            self.queue_name,
            str(now),
            str(int(self.in_progress_timeout_s * 1000)),
            str(free),
            str(self.queue_read_limit),
            in_progress_key_prefix,
        )
        started = len(claimed) // 2
        self._more_due = started >= free or read >= self.queue_read_limit
        self._next_due_ms = float(later) if later else None
        for index in range(0, len(claimed), 2):
            job_id = claimed[index].decode()
            score = int(float(claimed[index + 1]))
            await self.sem.acquire()
            self.job_counter += 1
            task = self.loop.create_task(self.run_job(job_id, score))
            task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
            self.tasks[job_id] = task

    async def finish_job(
        self,
        job_id: str,
        finish: bool,
        result_data: bytes | None,
        result_timeout_s: float | None,
        keep_result_forever: bool,
        incr_score: int | None,
        keep_in_progress: float | None,
    ) -> None:
        await super().finish_job(
            job_id,
            finish,
            result_data,
            result_timeout_s,
            keep_result_forever,
            incr_score,
            keep_in_progress,
        )
        if not finish:
            # Retried (arq ``Retry``, a cancelled run): the queue changed without an enqueue;
            # wake an idle worker so it learns when the job is due again.
            await wake(self.pool, self.queue_name)

    def _release_sem_dec_counter_on_complete(self) -> None:
        super()._release_sem_dec_counter_on_complete()
        self._slot_freed.set()

    # -- waiting -------------------------------------------------------------------------------

    async def _wait_for_work(self) -> None:
        if self.job_counter >= self.max_jobs or not self.allow_pick_jobs:
            # Busy: a wake token now would be wasted on us; wait for a free slot instead.
            self._slot_freed.clear()
            if self.job_counter >= self.max_jobs:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._slot_freed.wait(), self.poll_delay_s)
            else:
                await asyncio.sleep(self.poll_delay_s)
            return
        if self._more_due:
            return
        timeout = min(self.poll_delay_s, await self._until_next_due(), self._until_next_cron())
        if timeout <= 0:
            return
        # redis-py types the timeout as int; Redis 6+ takes fractions of a second.
        block = cast(int, max(MIN_BLOCK_S, timeout))
        if await self.pool.blpop([self.wake_key], timeout=block):  # type: ignore[misc]
            self.wakes += 1

    async def _until_next_due(self) -> float:
        """Seconds until the earliest deferred job is due (the Lua poll already knows)."""
        if self._lua:
            if self._next_due_ms is None:
                return self.poll_delay_s
            return (self._next_due_ms - timestamp_ms()) / 1000
        now = timestamp_ms()
        later = await self.pool.zrangebyscore(
            self.queue_name, min=f"({now}", max="+inf", start=0, num=1, withscores=True
        )
        return (later[0][1] - now) / 1000 if later else self.poll_delay_s

    def _until_next_cron(self) -> float:
        runs = [job.next_run for job in self.cron_jobs if job.next_run]
        if not runs:
            return self.poll_delay_s
        now = datetime.now(tz=self.timezone)
        # arq enqueues a cron job up to two cron windows early, deferred to its exact time
        # (then the next-due timer starts it on time): wake for the enqueue.
        window = 2 * max(self.poll_delay_s, 0.5)
        return (min(runs) - now).total_seconds() - window
