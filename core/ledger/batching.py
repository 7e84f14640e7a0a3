"""Group commit: standalone movements of one process share a transaction and its COMMIT.

On a hot account every durable movement waits for the previous one's COMMIT (PostgreSQL holds
the row lock until the commit record is flushed), and a crowd of waiters on one row spends more
time handing the lock over than moving money. :class:`GroupCommit` turns that crowd into a queue
in the process instead:

- every caller submits its own item and awaits its own outcome;
- items go into a *lane* (for the ledger: one per account); the first arrival on an idle lane
  starts a leader task, and the leader drains the lane batch after batch (up to ``max_batch``
  items each) until it is empty, then goes away;
- a batch runs on ONE connection, in ONE transaction, items applied one after another in arrival
  order, then ONE ``COMMIT``; only after ``COMMIT`` has returned is any caller's outcome set, so
  an answer always means "durable" (``synchronous_commit`` is the server's business, not ours);
- with a *batch applier* (``apply_batch``) the whole batch is applied by one call — for the
  ledger, one pipelined round trip for all its statements — and the one-item applier is the
  fallback: if the batch applier raises, its transaction is rolled back and the batch is applied
  again item by item, as without one (which sorts out whose item it was);
- a batch of one runs with no ``BEGIN``/``COMMIT`` at all: the item's statement is its own
  transaction, so an idle lane adds no round trip and no delay;
- while a batch is in flight, new arrivals wait for the next one — the batch grows with the load
  by itself, with no timer.

Per-item outcomes never spoil the batch: an exception of a ``refusals`` type (for the ledger: its
domain errors — short funds, a conflicting key) is that caller's answer, and the applier
guarantees it left the transaction as it found it. Any other exception from an item (a database
error, a bug) also goes to that caller only: the transaction is rolled back and the remaining
items are applied again in a fresh one (each retry drops one item, so it ends). Only when the
transaction itself fails — the connection is lost, ``COMMIT`` is refused — does every caller of
the batch get that error; nothing of the batch is then known to be committed (if ``COMMIT`` was
cut off in flight, a replay with the same idempotency key tells).

A caller cancelled while its item still waits in the lane leaves the lane without a trace; a
caller cancelled while its batch is in flight only stops waiting: the batch runs in the leader's
task, is never cancelled with a caller, and the item commits with the rest.

Lanes live per engine (a :class:`weakref.WeakKeyDictionary` keyed by the engine's sync
``Engine``) and per event loop, and a lane is dropped as soon as it is empty, so nothing here
outlives an engine or keeps one alive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")
R = TypeVar("R")
T_contra = TypeVar("T_contra", contravariant=True)
R_co = TypeVar("R_co", covariant=True)

MAX_BATCH = 256
"""Items per transaction at most: bounds how long one batch holds its row lock."""


class BatchApplier(Protocol[T_contra, R_co]):
    """Apply all of a batch's items on ``conn``, in order, and return one outcome per item.

    Called inside the batch's ``BEGIN`` (autocommit at the driver level), for two items or more.
    An outcome is the item's result or the exception of one of the committer's ``refusals`` that
    answers it; either way the item's effects, if any, belong to the transaction, which commits
    with every outcome. Raising (anything) means the transaction may hold anything: it is rolled
    back and the items are applied again one by one.
    """

    def __call__(
        self, conn: AsyncConnection, items: Sequence[T_contra], /
    ) -> Awaitable[Sequence[R_co | BaseException]]: ...


class Applier(Protocol[T_contra, R_co]):
    """Apply one item on ``conn`` and return its outcome.

    ``alone=True``: the connection is in autocommit and the item is the whole batch, so its
    statement is its own transaction. ``alone=False``: the connection is in autocommit at the
    driver level but inside the batch's ``BEGIN``; the item must not commit, roll back or leave
    the transaction unusable when it raises one of the committer's ``refusals``.
    """

    def __call__(
        self, conn: AsyncConnection, item: T_contra, /, *, alone: bool
    ) -> Awaitable[R_co]: ...


@dataclass(slots=True)
class Stats:
    """What one engine's group commit did so far (read by tests and the benchmark)."""

    batches: int = 0  # transactions, a lone item's own statement included
    items: int = 0  # items applied and committed, or refused inside a committed batch
    largest: int = 0  # the most items one batch held
    retries: int = 0  # transactions rolled back to drop a failing item and go again
    failed: int = 0  # batches whose transaction failed as a whole
    pipelined: int = 0  # batches the batch applier applied whole (and that committed)
    fallbacks: int = 0  # batch applier failures: rolled back, then applied item by item

    @property
    def mean(self) -> float:
        return self.items / self.batches if self.batches else 0.0


@dataclass(eq=False, slots=True)
class _Pending(Generic[T, R]):
    item: T
    future: asyncio.Future[R]


@dataclass(eq=False, slots=True)
class _Lane(Generic[T, R]):
    queue: deque[_Pending[T, R]] = field(default_factory=deque)
    leader: asyncio.Task[None] | None = None


@dataclass(eq=False, slots=True)
class _EngineState(Generic[K, T, R]):
    lanes: dict[tuple[int, K], _Lane[T, R]] = field(default_factory=dict)
    stats: Stats = field(default_factory=Stats)


@dataclass(frozen=True, slots=True)
class _Done(Generic[R]):
    value: R


@dataclass(frozen=True, slots=True)
class _Failed:
    error: BaseException


class GroupCommit(Generic[K, T, R]):
    """Group commit of items of type ``T`` into lanes keyed by ``K``; each caller gets its ``R``.

    ``apply`` runs one item (see :class:`Applier`); ``apply_batch``, if given, runs a batch of
    several at once (see :class:`BatchApplier`); ``refusals`` are the exception types that
    answer a caller without touching the transaction.
    """

    def __init__(
        self,
        apply: Applier[T, R],
        *,
        apply_batch: BatchApplier[T, R] | None = None,
        refusals: tuple[type[BaseException], ...],
        max_batch: int = MAX_BATCH,
    ) -> None:
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._apply = apply
        self._apply_batch = apply_batch
        self._refusals = refusals
        self._max_batch = max_batch
        self._engines: WeakKeyDictionary[Engine, _EngineState[K, T, R]] = WeakKeyDictionary()

    async def submit(self, engine: AsyncEngine, lane: K, item: T) -> R:
        """Queue ``item`` on ``lane`` of ``engine`` and return its outcome once committed."""
        loop = asyncio.get_running_loop()
        state = self._state(engine)
        key = (id(loop), lane)
        queue = state.lanes.get(key)
        if queue is None or queue.leader is None or queue.leader.done():
            queue = state.lanes[key] = _Lane()
            queue.leader = loop.create_task(self._lead(engine, state, key, queue))
        future: asyncio.Future[R] = loop.create_future()
        queue.queue.append(_Pending(item, future))
        # Cancelling the caller cancels only this future: the leader skips it if it has not
        # taken it yet, and otherwise just drops its outcome.
        return await future

    def stats(self, engine: AsyncEngine) -> Stats:
        return self._state(engine).stats

    def busy_lanes(self, engine: AsyncEngine) -> int:
        """Lanes of ``engine`` with a leader at work (0 once everything is answered)."""
        state = self._engines.get(engine.sync_engine)
        return 0 if state is None else len(state.lanes)

    def queued(self, engine: AsyncEngine) -> int:
        """Items of ``engine`` waiting for a batch (not counting batches in flight)."""
        state = self._engines.get(engine.sync_engine)
        return 0 if state is None else sum(len(lane.queue) for lane in state.lanes.values())

    def _state(self, engine: AsyncEngine) -> _EngineState[K, T, R]:
        state = self._engines.get(engine.sync_engine)
        if state is None:
            state = self._engines[engine.sync_engine] = _EngineState()
        return state

    async def _lead(
        self,
        engine: AsyncEngine,
        state: _EngineState[K, T, R],
        key: tuple[int, K],
        lane: _Lane[T, R],
    ) -> None:
        try:
            # No await between the last look at the queue and dropping the lane below: a caller
            # either lands in this queue before that look or finds no lane and starts a new one.
            while lane.queue:
                batch = self._take(lane.queue)
                if batch:
                    await self._run(engine, state.stats, batch)
        except BaseException as error:
            # Only a cancelled leader (the loop shutting down) or a bug gets here: nobody who is
            # still queued may wait forever.
            while lane.queue:
                _answer(lane.queue.popleft().future, _Failed(error))
            raise
        finally:
            if state.lanes.get(key) is lane:
                del state.lanes[key]

    def _take(self, queue: deque[_Pending[T, R]]) -> list[_Pending[T, R]]:
        batch: list[_Pending[T, R]] = []
        while queue and len(batch) < self._max_batch:
            pending = queue.popleft()
            if not pending.future.done():  # its caller was cancelled while it waited: skip
                batch.append(pending)
        return batch

    async def _run(self, engine: AsyncEngine, stats: Stats, batch: list[_Pending[T, R]]) -> None:
        """Apply and commit one batch, then answer every caller in it."""
        try:
            async with engine.connect() as conn:
                # AUTOCOMMIT: SQLAlchemy and the driver send no BEGIN/COMMIT of their own; the
                # batch sends exactly the ones it needs.
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                try:
                    outcomes = await self._transact(conn, batch, stats)
                except BaseException:
                    await _discard(conn)
                    raise
        except BaseException as error:
            stats.failed += 1
            for pending in batch:
                _answer(pending.future, _Failed(error))
            if isinstance(error, Exception):
                return  # this batch failed; the lane goes on with the next
            raise
        stats.batches += 1
        stats.items += len(batch)
        stats.largest = max(stats.largest, len(batch))
        for pending, outcome in zip(batch, outcomes, strict=True):
            _answer(pending.future, outcome)

    async def _transact(
        self, conn: AsyncConnection, batch: list[_Pending[T, R]], stats: Stats
    ) -> list[_Done[R] | _Failed]:
        """The outcome of every item, once they are committed (or refused) together."""
        if len(batch) == 1:
            # Its own transaction: whatever it raises is its own answer, nothing else rides on it.
            outcome = await self._attempt(conn, batch[0].item, alone=True)
            if self._spoiled(outcome):
                await _discard(conn)  # a statement failed oddly: don't pool this connection again
            return [outcome]
        if self._apply_batch is not None:
            whole = await self._attempt_batch(conn, self._apply_batch, batch, stats)
            if whole is not None:
                return whole
        final: dict[int, _Done[R] | _Failed] = {}
        live = list(range(len(batch)))
        while live:
            await conn.exec_driver_sql("BEGIN")
            staged: dict[int, _Done[R] | _Failed] = {}
            broken: int | None = None
            for i in live:
                outcome = await self._attempt(conn, batch[i].item, alone=False)
                staged[i] = outcome
                if self._spoiled(outcome):
                    broken = i
                    break
            if broken is None:
                await conn.exec_driver_sql("COMMIT")
                final.update(staged)
                break
            # That item may have left the transaction aborted or half-done: it alone gets its
            # error; everything applied so far is undone and the rest go again.
            failure = staged[broken]
            assert isinstance(failure, _Failed)
            try:
                await conn.exec_driver_sql("ROLLBACK")
            except Exception as rollback_error:
                # The connection is gone: the batch fails as a whole, with the item's error.
                raise failure.error from rollback_error
            stats.retries += 1
            final[broken] = failure
            live.remove(broken)
        return [final[i] for i in range(len(batch))]

    async def _attempt_batch(
        self,
        conn: AsyncConnection,
        apply_batch: BatchApplier[T, R],
        batch: list[_Pending[T, R]],
        stats: Stats,
    ) -> list[_Done[R] | _Failed] | None:
        """The whole batch in one call of the batch applier, committed; None if that failed and
        was rolled back (the caller then goes item by item)."""
        await conn.exec_driver_sql("BEGIN")
        try:
            results = await apply_batch(conn, [pending.item for pending in batch])
            if len(results) != len(batch):
                raise RuntimeError(f"{len(results)} outcomes for {len(batch)} items")
            outcomes = [self._outcome(result) for result in results]
        except Exception as error:
            try:
                await conn.exec_driver_sql("ROLLBACK")
            except Exception as rollback_error:
                # The connection is gone: the batch fails as a whole.
                raise error from rollback_error
            stats.fallbacks += 1
            return None
        await conn.exec_driver_sql("COMMIT")
        stats.pipelined += 1
        return outcomes

    def _outcome(self, result: R | BaseException) -> _Done[R] | _Failed:
        if not isinstance(result, BaseException):
            return _Done(result)
        if not isinstance(result, self._refusals):
            raise RuntimeError("a batch applier answered an item with a non-refusal") from result
        return _Failed(result)

    async def _attempt(self, conn: AsyncConnection, item: T, *, alone: bool) -> _Done[R] | _Failed:
        try:
            return _Done(await self._apply(conn, item, alone=alone))
        except Exception as error:
            return _Failed(error)

    def _spoiled(self, outcome: _Done[R] | _Failed) -> bool:
        """An item failed in a way that may have left the transaction aborted or half-done."""
        return isinstance(outcome, _Failed) and not isinstance(outcome.error, self._refusals)


def _answer(future: asyncio.Future[R], outcome: _Done[R] | _Failed) -> None:
    """Hand the caller its outcome (a failure with CancelledError cancels it)."""
    if future.done():  # the caller was cancelled; the outcome has nobody to go to
        return
    if isinstance(outcome, _Done):
        future.set_result(outcome.value)
    elif isinstance(outcome.error, asyncio.CancelledError):
        future.cancel()
    else:
        future.set_exception(outcome.error)


async def _discard(conn: AsyncConnection) -> None:
    """Close the connection for good: the server rolls back whatever it still had open, and the
    pool never hands out a connection left inside a transaction of ours."""
    with contextlib.suppress(Exception):
        await conn.invalidate()
