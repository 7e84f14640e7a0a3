"""The worker's side of a broadcast: every fan in the audience gets it once, at the bot's
own pace, across crashes.

One run (a *chunk*, at most ``chunk_seconds``) holds the broadcast's lease and walks the
recipients in user-id order:

1. **Materialise** the next batch: ``pending`` rows in ``broadcast_deliveries`` (UNIQUE per
   broadcast and fan) and the cursor moved past them, in one transaction.
2. For each pending fan: reserve one message of the tenant's daily quota, take a token from
   the bot's Redis bucket (waiting out any 429 pause), **record the intent**
   (``pending → sending``, committed), then call the Bot API.
3. **Record the result** (``sent`` / ``blocked`` / ``failed``, or back to ``pending`` after a
   429 or a request that never left) with the counters, a few times a second.

Exactly once, and what "conservative" means here: a row is only ever sent from ``sending``,
and only the sender that moved it there sends it. A worker killed after step 2's commit but
before step 3 leaves rows in ``sending``; the next sender to take the lease turns them into
``unconfirmed`` and never sends them again. Telegram most likely has those messages (the
intent is committed immediately before the request is written), and a duplicate in a fan's
chat is the mistake we refuse to make; the price is that a fan whose request had not left yet
when the worker died misses this one broadcast, and the panel shows how many are unconfirmed.
A request that failed to connect (nothing left the machine) goes back to ``pending``.

A 429 pauses every sender of that bot for ``retry_after`` (a Redis key) and the fan is tried
again; a 403 marks the fan blocked (:func:`tenants.users.mark_blocked`); other refusals are
recorded and the broadcast goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from arq.connections import ArqRedis
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core.db import session_scope
from core.models import Broadcast, BroadcastStatus, DeliveryStatus
from jobs.broadcasts import audience, progress
from jobs.broadcasts import repository as repo
from jobs.broadcasts.message import Content, file_id_of, send
from jobs.broadcasts.ratelimit import Limiter, today
from jobs.broadcasts.repository import Recipient, Result
from jobs.broadcasts.schemas import AudienceSpec
from tenants.users import mark_blocked

logger = logging.getLogger(__name__)

Factory = async_sessionmaker[AsyncSession]


@dataclass(frozen=True, slots=True)
class SenderConfig:
    """Timings of the sender; tests pass small ones through ``ctx["broadcast_config"]``."""

    batch_size: int = 200
    concurrency: int = 16  # Bot API calls in flight per broadcast
    chunk_seconds: float = 120.0  # then the job hands over to a fresh one (fair to others)
    heartbeat_interval: float = 1.0
    stale_after: float = 30.0  # a lease not renewed for this long is taken over
    idle_requeue_after: float = 120.0  # a running broadcast with no lease for this long
    flush_interval: float = 0.25  # results written and progress published this often
    chat_edit_interval: float = 3.0  # the admin's progress message
    max_attempts: int = 3  # for server and connection errors (429s do not count)
    rate_window: float = 5.0


def config_of(ctx: Mapping[str, Any]) -> SenderConfig:
    config = ctx.get("broadcast_config")
    return config if isinstance(config, SenderConfig) else SenderConfig()


class Outcome(StrEnum):
    DONE = "done"  # every recipient has a result
    CHUNK = "chunk"  # time is up; a fresh job continues
    LIMITED = "limited"  # the tenant's daily quota is used up
    STOPPED = "stopped"  # paused or cancelled by the creator
    LOST = "lost"  # another sender holds the lease now
    NO_BOT = "no_bot"  # Telegram refused the bot's token (revoked): paused until fixed


@dataclass
class Sender:
    factory: Factory
    redis: ArqRedis
    limiter: Limiter
    bot: Bot
    broadcast: Broadcast
    lease: str
    content: Content
    daily_limit: int | None
    default_language: str
    config: SenderConfig = field(default_factory=SenderConfig)
    on_tick: Any = None  # async callable(sender), e.g. the chat progress message

    def __post_init__(self) -> None:
        self.tenant_id = self.broadcast.tenant_id
        self.engine: AsyncEngine = self.factory.kw["bind"]
        self.results: list[Result] = []
        self.throttled = 0
        self.stop: Outcome | None = None
        self.errors: list[Exception] = []
        self.finished_at: deque[float] = deque()
        self.started = time.monotonic()
        self._flush_lock = asyncio.Lock()
        self._last_beat = time.monotonic()

    @property
    def bot_id(self) -> int:
        return self.bot.id

    # -- the walk ------------------------------------------------------------------------------

    async def run(self) -> Outcome:
        ticker = asyncio.create_task(self._tick_loop())
        try:
            return await self._walk()
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            await self.flush()

    async def _walk(self) -> Outcome:
        deadline = time.monotonic() + self.config.chunk_seconds
        spec = AudienceSpec.model_validate(self.broadcast.audience or {})
        frozen = audience.AudienceContext(
            self.default_language, self.broadcast.started_at or self.broadcast.created_at
        )
        where = audience.conditions(spec, frozen)
        while self.stop is None:
            async with session_scope(self.factory) as session:
                batch = await repo.pending(
                    session, self.tenant_id, self.broadcast.id, limit=self.config.batch_size
                )
            if not batch:
                async with session_scope(self.factory) as session:
                    walked = await repo.materialise(
                        session,
                        self.broadcast,
                        where,
                        lease=self.lease,
                        limit=self.config.batch_size,
                    )
                if walked is None:
                    return Outcome.LOST
                if walked == 0:
                    return Outcome.DONE
                continue
            outcome = await self._send_batch(batch, deadline)
            if outcome is not None:
                return outcome
        return self.stop

    async def _send_batch(self, batch: list[Recipient], deadline: float) -> Outcome | None:
        lanes: set[asyncio.Task[None]] = set()
        slots = asyncio.Semaphore(self.config.concurrency)
        outcome: Outcome | None = None
        for recipient in batch:
            if self.stop is not None:
                break
            if time.monotonic() > deadline:
                outcome = Outcome.CHUNK
                break
            day = today()
            if not await self.limiter.reserve(self.tenant_id, self.daily_limit, day):
                outcome = Outcome.LIMITED
                break
            if not await self._wait_for_token(recipient):
                await self.limiter.refund(self.tenant_id, day)
                break
            await slots.acquire()
            lane = self._deliver(recipient, day, slots)
            if self.content.needs_upload:
                await lane  # the first upload gives the file id every later send reuses
                continue
            task = asyncio.create_task(lane)
            lanes.add(task)
            task.add_done_callback(lanes.discard)
        if lanes:
            await asyncio.gather(*lanes)
        await self.flush()
        if self.errors and len(self.errors) >= len(batch):
            # Nothing moved (the database or Redis is failing): stop this run rather than
            # spin; the lease goes stale and the sweep starts a fresh run later.
            raise RuntimeError(f"broadcast {self.broadcast.id}: no progress") from self.errors[-1]
        self.errors.clear()
        return outcome

    async def _wait_for_token(self, recipient: Recipient) -> bool:
        """Wait for the bot's budget (and any 429 pause); False when told to stop meanwhile."""
        while self.stop is None:
            wait = await self.limiter.try_acquire(self.bot_id, recipient.telegram_id)
            if wait <= 0:
                return True
            await asyncio.sleep(min(wait, self.config.heartbeat_interval))
        return False

    # -- one fan -------------------------------------------------------------------------------

    async def _deliver(self, recipient: Recipient, day: str, slots: asyncio.Semaphore) -> None:
        try:
            claimed = await repo.claim_delivery(self.engine, self.tenant_id, recipient.delivery_id)
            if not claimed:  # another sender has it (a race after a takeover): not ours
                await self.limiter.refund(self.tenant_id, day)
                return
            result = await self._send(recipient, day)
            self.results.append(result)
            if result.status is not DeliveryStatus.PENDING:
                self.finished_at.append(time.monotonic())
        except Exception as exc:
            logger.exception("broadcast %d: delivery %d", self.broadcast.id, recipient.delivery_id)
            self.errors.append(exc)
        finally:
            slots.release()

    async def _send(self, recipient: Recipient, day: str) -> Result:
        ident = recipient.delivery_id
        try:
            message = await send(self.bot, recipient.telegram_id, self.content)
        except TelegramRetryAfter as exc:
            await self.limiter.pause(self.bot_id, float(exc.retry_after))
            await self.limiter.refund(self.tenant_id, day)
            self.throttled += 1
            return Result(ident, DeliveryStatus.PENDING)
        except TelegramUnauthorizedError:
            self.stop = Outcome.NO_BOT  # every fan would fail the same way: stop here
            await self.limiter.refund(self.tenant_id, day)
            return Result(ident, DeliveryStatus.PENDING)
        except TelegramForbiddenError as exc:
            await mark_blocked(self.factory, self.redis, self.tenant_id, recipient.telegram_id)
            return Result(ident, DeliveryStatus.BLOCKED, error=exc.message[:200])
        except TelegramBadRequest as exc:
            return Result(ident, DeliveryStatus.FAILED, error=exc.message[:200])
        except TelegramNetworkError as exc:
            if not exc.message.startswith("ClientConnectorError"):
                # A timeout or a dropped connection: the request may have arrived.
                return Result(ident, DeliveryStatus.UNCONFIRMED, error=exc.message[:200])
            return self._retry(recipient, exc.message)
        except TelegramServerError as exc:
            return self._retry(recipient, exc.message)
        except TelegramAPIError as exc:
            return Result(ident, DeliveryStatus.FAILED, error=exc.message[:200])
        except Exception as exc:  # a bug or an outage of ours mid-call: it may have left
            logger.exception("broadcast %d: send to %d", self.broadcast.id, recipient.user_id)
            return Result(ident, DeliveryStatus.UNCONFIRMED, error=repr(exc)[:200])
        if self.content.needs_upload:
            file_id = file_id_of(message)
            if file_id is not None:
                self.content = self.content.with_file_id(file_id)
                await self._keep_file_id(file_id)
        return Result(ident, DeliveryStatus.SENT, message_id=message.message_id)

    def _retry(self, recipient: Recipient, error: str) -> Result:
        if recipient.attempts + 1 >= self.config.max_attempts:
            return Result(recipient.delivery_id, DeliveryStatus.FAILED, error=error[:200])
        return Result(recipient.delivery_id, DeliveryStatus.PENDING)

    async def _keep_file_id(self, file_id: str) -> None:
        async with session_scope(self.factory) as session:
            await session.execute(
                update(Broadcast)
                .where(Broadcast.tenant_id == self.tenant_id, Broadcast.id == self.broadcast.id)
                .values(telegram_file_id=file_id)
            )

    # -- bookkeeping ---------------------------------------------------------------------------

    async def flush(self) -> None:
        """Write the results gathered so far and add them to the counters (one transaction)."""
        async with self._flush_lock:
            results, self.results = self.results, []
            throttled, self.throttled = self.throttled, 0
            if not results and not throttled:
                return
            try:
                async with session_scope(self.factory) as session:
                    moved = (
                        await repo.record(session, self.tenant_id, self.broadcast.id, results)
                        if results
                        else {}
                    )
                    await repo.add_counters(
                        session, self.tenant_id, self.broadcast.id, {}, throttled=throttled
                    )
            except Exception:
                self.results[:0] = results  # try again at the next tick
                self.throttled += throttled
                raise
            for status, count in moved.items():
                name = repo.COUNTERS.get(status)
                if name:
                    setattr(self.broadcast, name, getattr(self.broadcast, name) + count)
            self.broadcast.throttled += throttled

    def rate(self) -> float:
        now = time.monotonic()
        window = self.config.rate_window
        while self.finished_at and self.finished_at[0] < now - window:
            self.finished_at.popleft()
        span = min(window, max(now - self.started, 1e-3))
        return len(self.finished_at) / span

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.flush_interval)
            try:
                await self._tick()
            except Exception:
                logger.warning("broadcast %d: bookkeeping failed", self.broadcast.id, exc_info=True)

    async def _tick(self) -> None:
        await self.flush()
        if time.monotonic() - self._last_beat >= self.config.heartbeat_interval:
            async with session_scope(self.factory) as session:
                status = await repo.beat(session, self.tenant_id, self.broadcast.id, self.lease)
            self._last_beat = time.monotonic()
            if status is None:
                self.stop = Outcome.LOST
            elif status is not BroadcastStatus.RUNNING:
                self.stop = Outcome.STOPPED
        await progress.publish(
            self.redis, self.tenant_id, progress.from_row(self.broadcast, rate=self.rate())
        )
        if self.on_tick is not None:
            await self.on_tick(self)
