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

Running jobs also takes fewer round trips than arq's two transactions per job (plus its
ZRANGEBYSCORE and WATCH/EXISTS/ZSCORE/MULTI/PSETEX/EXEC claim), which cap a worker near 1,400
trivial jobs/s: one Lua script reads the due jobs, claims as many as there are free slots (the
same ``arq:in-progress:<id>`` keys, so plain arq workers can share the queue), does the opening
read of arq's ``run_job`` for each and says when the next deferred job is due; and jobs that
finish in the same loop turn write their ends (arq's ``finish_job``, step for step) in one
script call. A batch of ten trivial jobs costs two round trips instead of some twenty-five. The
in-process stand-in (fakeredis without Lua) keeps arq's own claiming and finishing; the
wake-up works there too.

The enqueue side of the protocol (:func:`core.queue.wake`) lives in :mod:`core.queue`, so
every edge that sends jobs after commit (:func:`core.queue.flush_deferred_jobs`) wakes
workers too; :func:`enqueue_job` here is ``enqueue_job`` + ``wake`` for direct enqueues.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from datetime import datetime
from typing import Any, cast

import arq.worker
from arq.connections import ArqRedis, create_pool
from arq.constants import (
    abort_jobs_ss,
    in_progress_key_prefix,
    job_key_prefix,
    result_key_prefix,
    retry_key_prefix,
)
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
  local id = due[i]
  local key = ARGV[5] .. id
  if redis.call('EXISTS', key) == 0 then
    redis.call('PSETEX', key, ARGV[2], '1')
    local retry = ARGV[7] .. id
    local try = redis.call('INCR', retry)
    redis.call('EXPIRE', retry, ARGV[8])
    local aborted = 0
    if ARGV[9] == '1' then
      aborted = redis.call('ZREM', KEYS[2], id)
    end
    local at = n * 5
    claimed[at + 1] = id
    claimed[at + 2] = due[i + 1]
    claimed[at + 3] = redis.call('GET', ARGV[6] .. id)
    claimed[at + 4] = try
    claimed[at + 5] = aborted
    n = n + 1
  end
end
local later = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf',
                        'WITHSCORES', 'LIMIT', 0, 1)
return {claimed, #due / 2, later[2] or false}
"""
"""Claims due jobs and does the start of arq's ``run_job`` for each (GET the job, INCR and
EXPIRE its retry counter, ZREM it from the abort set), so starting a batch is one round trip.

KEYS: queue, abort set; ARGV: now (ms), in-progress TTL (ms), free slots, read limit, then
the in-progress, job and retry key prefixes, the retry key TTL (s), ``1`` when aborts are on.
Returns ``[id, score, job data, try, aborted, ...]`` for the claimed jobs, how many due ids
were read, and the next future score."""

_FINISH = """
local ip, retry, job, result = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
for i = 5, #ARGV, 6 do
  local id, finish, data, px, incr, keep =
    ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4], ARGV[i + 5]
  if keep == '' then
    redis.call('DEL', ip .. id)
  else
    redis.call('PEXPIRE', ip .. id, keep)
  end
  if finish == '1' then
    if data ~= '' then
      if px == '' then
        redis.call('SET', result .. id, data)
      else
        redis.call('SET', result .. id, data, 'PX', px)
      end
    end
    redis.call('DEL', retry .. id, job .. id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZREM', KEYS[1], id)
  elseif incr ~= '' then
    redis.call('ZINCRBY', KEYS[1], incr, id)
  end
end
"""
"""arq's ``finish_job`` for a batch of jobs in one round trip, step for step.

KEYS: queue, abort set; ARGV: the in-progress, retry, job and result key prefixes, then six
per job: id, finish (``1``/``0``), result data, result TTL (ms), score increment, in-progress
TTL (ms); an empty string stands for arq's ``None``."""


_Finishing = tuple[tuple[Any, ...], "asyncio.Future[None]"]
"""One job's ``_FINISH`` arguments and the future its ``finish_job`` waits on."""

RETRY_KEY_TTL_S = 88400
"""The TTL arq's ``run_job`` gives a job's retry counter."""

_claimed_start: contextvars.ContextVar[_ClaimedStart | None] = contextvars.ContextVar(
    "claimed_start", default=None
)
"""Set in a claimed job's task until arq's ``run_job`` has taken its opening results."""


class _ClaimedStart:
    """Stands in for ``self.pool`` at the top of arq's ``run_job`` (see ``FastStartWorker.pool``).

    It checks that ``run_job`` queues exactly the commands the claim script ran, and fails
    loudly otherwise (a changed arq), rather than hand back answers to other questions.
    """

    def __init__(self, job_id: str, abort: bool, values: list[Any]):
        self.used = False
        self._expected = [
            ("get", job_key_prefix + job_id),
            ("incr", retry_key_prefix + job_id),
            ("expire", retry_key_prefix + job_id, RETRY_KEY_TTL_S),
        ]
        data, job_try, aborted = values
        self._results: list[Any] = [data, job_try, True]
        if abort:
            self._expected.append(("zrem", abort_jobs_ss, job_id))
            self._results.append(aborted)
        self._queued: list[tuple[Any, ...]] = []

    def pipeline(self, transaction: bool = True) -> _ClaimedStart:
        self.used = True
        return self

    async def __aenter__(self) -> _ClaimedStart:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        return None

    def get(self, name: str) -> None:
        self._queued.append(("get", name))

    def incr(self, name: str) -> None:
        self._queued.append(("incr", name))

    def expire(self, name: str, time: int) -> None:
        self._queued.append(("expire", name, time))

    def zrem(self, name: str, *values: str) -> None:
        self._queued.append(("zrem", name, *values))

    async def execute(self) -> list[Any]:
        if self._queued != self._expected:
            raise RuntimeError(f"arq's run_job start changed: {self._queued!r}")
        return self._results


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
        self._finishing: list[_Finishing] = []
        self._writers: set[asyncio.Task[None]] = set()
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
                if not self._more_due and await self.pool.zcard(self.queue_name) == 0:
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
            2,
            self.queue_name,
            abort_jobs_ss,
            str(now),
            str(int(self.in_progress_timeout_s * 1000)),
            str(free),
            str(self.queue_read_limit),
            in_progress_key_prefix,
            job_key_prefix,
            retry_key_prefix,
            str(RETRY_KEY_TTL_S),
            "1" if self.allow_abort_jobs else "0",
        )
        started = len(claimed) // 5
        self._more_due = started >= free or read >= self.queue_read_limit
        self._next_due_ms = float(later) if later else None
        for index in range(0, len(claimed), 5):
            job_id = claimed[index].decode()
            score = int(float(claimed[index + 1]))
            start = _ClaimedStart(job_id, self.allow_abort_jobs, claimed[index + 2 : index + 5])
            await self.sem.acquire()
            self.job_counter += 1
            task = self.loop.create_task(self._run_claimed(job_id, score, start))
            task.add_done_callback(lambda _: self._release_sem_dec_counter_on_complete())
            self.tasks[job_id] = task

    async def _run_claimed(self, job_id: str, score: int, start: _ClaimedStart) -> None:
        """arq's ``run_job``, its opening read served by the claim (see :attr:`pool`)."""
        _claimed_start.set(start)
        await self.run_job(job_id, score)

    @property
    def pool(self) -> ArqRedis:
        """The Redis pool; inside a claimed job's first access, the claim's start results.

        arq's ``run_job`` opens with one transaction (GET the job, INCR/EXPIRE the retry
        counter, ZREM from the abort set) on ``self.pool``; the claim script already ran it,
        so that one access gets a pipeline that replays the claim's answers.
        """
        start = _claimed_start.get()
        if start is not None and not start.used:
            return cast(ArqRedis, start)
        return super().pool

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
        """arq's ``finish_job``, but jobs finishing in the same loop turn share one round trip.

        Each job's ``run_job`` still returns only once its own finish is written, so a free slot
        never means an unwritten result; a failed write fails every job of the batch, as a
        failed ``EXEC`` fails arq's.
        """
        if not self._lua:
            await super().finish_job(
                job_id,
                finish,
                result_data,
                result_timeout_s,
                keep_result_forever,
                incr_score,
                keep_in_progress,
            )
        else:
            ttl = None if keep_result_forever else result_timeout_s
            done = self.loop.create_future()
            self._finishing.append(
                (
                    (
                        job_id,
                        "1" if finish else "0",
                        result_data if finish and result_data else b"",
                        "" if ttl is None else str(round(ttl * 1000)),
                        str(incr_score) if not finish and incr_score else "",
                        "" if keep_in_progress is None else str(round(keep_in_progress * 1000)),
                    ),
                    done,
                )
            )
            if len(self._finishing) == 1:
                self.loop.call_soon(self._flush_finished)
            await done
        if not finish:
            # Retried (arq ``Retry``, a cancelled run): the queue changed without an enqueue;
            # wake an idle worker so it learns when the job is due again.
            await wake(self.pool, self.queue_name)

    def _flush_finished(self) -> None:
        batch, self._finishing = self._finishing, []
        writer = self.loop.create_task(self._write_finished(batch))
        self._writers.add(writer)  # the loop keeps only weak references to tasks
        writer.add_done_callback(self._writers.discard)

    async def _write_finished(self, batch: list[_Finishing]) -> None:
        args: list[Any] = [
            in_progress_key_prefix,
            retry_key_prefix,
            job_key_prefix,
            result_key_prefix,
        ]
        for values, _ in batch:
            args.extend(values)
        try:
            await self.pool.eval(_FINISH, 2, self.queue_name, abort_jobs_ss, *args)  # type: ignore[misc]
        except asyncio.CancelledError:
            for _, done in batch:
                done.cancel()
            raise
        except Exception as error:
            for _, done in batch:
                if not done.done():
                    done.set_exception(error)
        else:
            for _, done in batch:
                if not done.done():
                    done.set_result(None)

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
