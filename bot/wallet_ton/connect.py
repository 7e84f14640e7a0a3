"""Connecting a fan's TON wallet from the chat: a link now, the wallet's answer later.

1. :func:`start_connect` (in the webhook handler, no network): a single-use proof payload
   (:mod:`tenants.ton.service`), a TON Connect session stored encrypted in Redis, the universal
   link, and a *pending* record ``ton:connect:wait:<bot>:<fan>`` (also in the sorted set
   ``ton:connect:pending`` by deadline).
2. :func:`run_wait` (a background task of the process that answered, see
   :class:`ConnectWaits`): take the *lease* ``ton:connect:lease:<bot>:<fan>`` (15 s, renewed
   every 5 s), pick the session up from Redis, subscribe to the wallet's bridge and wait —
   at most until the deadline (``TON_CONNECT_TIMEOUT``) — for the wallet's answer; verify its
   ``ton_proof`` ourselves and link the wallet (:func:`tenants.ton.service.link_wallet`, the
   same check as the Mini App); then edit the chat message. The bridge subscription is closed
   on every way out, so no retry loop outlives the wait.
3. A process that dies mid-wait stops renewing its lease; the worker's cron
   (:func:`sweep`, ``jobs.ton_connect_tasks``) finds pending records without a lease and runs
   the same :func:`run_wait` there — the restore-from-Redis path — or reports the expiry.

A newer link for the same chat replaces the pending record; the older wait notices on its next
lease renewal and stops. Nothing here lives only in process memory except the tasks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from aiogram.client.session.aiohttp import AiohttpSession
from arq.connections import ArqRedis
from pydantic import BaseModel
from redis.asyncio import Redis
from redis.exceptions import WatchError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.errors import ConflictError
from core.queue import unit_of_work
from core.settings import Settings
from core.ton.errors import TonProofError, WalletTakenError
from core.ton.toncenter import ToncenterPublicKeys
from tenants.ton import service as ton_service
from tenants.ton.tonconnect import (
    BridgeUnreachableError,
    ChatTonConnect,
    ReconnectPolicy,
    RedisConnectStorage,
    WalletApp,
    connect_error_code,
    proof_claim,
)

logger = logging.getLogger(__name__)

PENDING_SET = "ton:connect:pending"
LEASE_MS = 15_000
RENEW_EVERY_S = 5.0
GRACE_S = 120  # records outlive their deadline a little, so the expiry can still be shown
DISCONNECT_TIMEOUT_S = 5.0
USER_DECLINED = 300


class Outcome(StrEnum):
    LINKED = "linked"
    REFUSED = "refused"  # the proof did not hold
    TAKEN = "taken"  # another fan of the tenant holds this wallet
    DECLINED = "declined"
    FAILED = "failed"
    EXPIRED = "expired"
    UNREACHABLE = "unreachable"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Result:
    outcome: Outcome
    address: str | None = None  # the linked wallet, user-friendly


class PendingConnect(BaseModel):
    """A link shown in a chat, waiting for the fan's wallet."""

    attempt: str
    tenant_id: int
    user_id: int
    telegram_bot_id: int
    chat_id: int
    message_id: int | None = None
    locale: str
    wallet_name: str
    deadline: float  # Unix time

    @property
    def slot(self) -> str:
        return slot_of(self.telegram_bot_id, self.chat_id)


def slot_of(telegram_bot_id: int, chat_id: int) -> str:
    return f"{telegram_bot_id}:{chat_id}"


def pending_key(slot: str) -> str:
    return f"ton:connect:wait:{slot}"


def lease_key(slot: str) -> str:
    return f"ton:connect:lease:{slot}"


def session_key(slot: str, attempt: str) -> str:
    return f"ton:connect:session:{slot}:{attempt}"


def current_key(slot: str) -> str:
    """The attempt whose session belongs to the linked wallet (payments restore it)."""
    return f"ton:connect:current:{slot}"


def manifest_url(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/") + "/tonconnect-manifest.json"


def storage_for(
    redis: Redis, settings: Settings, slot: str, attempt: str, ttl: int
) -> RedisConnectStorage:
    return RedisConnectStorage(
        redis, session_key(slot, attempt), secret_key=settings.secret_key, ttl=ttl
    )


async def load_pending(redis: Redis, slot: str) -> PendingConnect | None:
    raw = await redis.get(pending_key(slot))
    return PendingConnect.model_validate_json(raw) if raw is not None else None


async def save_pending(redis: Redis, pending: PendingConnect) -> None:
    ttl = max(int(pending.deadline - time.time()), 1) + GRACE_S
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(pending_key(pending.slot), pending.model_dump_json(), ex=ttl)
        pipe.zadd(PENDING_SET, {pending.slot: pending.deadline})
        await pipe.execute()


async def drop_pending(redis: Redis, pending: PendingConnect) -> None:
    """Forget ``pending`` unless a newer attempt replaced it meanwhile."""
    current = await load_pending(redis, pending.slot)
    if current is not None and current.attempt != pending.attempt:
        return
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(pending_key(pending.slot))
        pipe.zrem(PENDING_SET, pending.slot)
        await pipe.execute()


async def start_connect(
    redis: Redis,
    settings: Settings,
    app: WalletApp,
    *,
    tenant_id: int,
    user_id: int,
    telegram_bot_id: int,
    chat_id: int,
    locale: str,
) -> tuple[PendingConnect, str]:
    """A pending connection and its universal link (no network). The caller shows the link,
    then records it with :func:`save_pending` (with the message id) and starts
    :func:`run_wait`; until then no sweep can see it."""
    issued = await ton_service.issue_proof_payload(
        redis, settings, tenant_id=tenant_id, user_id=user_id
    )
    pending = PendingConnect(
        attempt=secrets.token_hex(8),
        tenant_id=tenant_id,
        user_id=user_id,
        telegram_bot_id=telegram_bot_id,
        chat_id=chat_id,
        locale=locale,
        wallet_name=app.name,
        deadline=time.time() + settings.ton_connect_timeout,
    )
    ttl = math.ceil(settings.ton_connect_timeout) + GRACE_S
    storage = storage_for(redis, settings, pending.slot, pending.attempt, ttl)
    connector = ChatTonConnect(manifest_url(settings), storage)
    link = await connector.prepare(app, issued.payload)
    return pending, link


async def cancel_pending(redis: Redis, slot: str) -> PendingConnect | None:
    """The fan pressed Cancel: the wait stops at its next renewal (or the sweep drops it)."""
    pending = await load_pending(redis, slot)
    if pending is not None:
        await drop_pending(redis, pending)
        await redis.delete(session_key(slot, pending.attempt))
    return pending


# -- waiting --------------------------------------------------------------------------------------

Present = Callable[["WaitDeps", PendingConnect, Result], Awaitable[None]]


@dataclass(slots=True)
class WaitDeps:
    """What a wait needs, in the API process or the worker alike."""

    settings: Settings
    factory: async_sessionmaker[AsyncSession]
    redis: ArqRedis
    api_session: AiohttpSession
    present: Present | None = None  # how the outcome reaches the chat (bot.wallet_ton.messages)
    policy: ReconnectPolicy = field(default_factory=ReconnectPolicy)


class LeaseLost(Exception):
    """Another process owns this wait now (or the attempt was replaced): stop quietly."""


@dataclass(slots=True)
class Lease:
    redis: Redis
    key: str
    token: str = field(default_factory=lambda: secrets.token_hex(8))

    async def acquire(self) -> bool:
        return bool(await self.redis.set(self.key, self.token, nx=True, px=LEASE_MS))

    async def renew(self) -> bool:
        return await self._if_ours(lambda pipe: pipe.pexpire(self.key, LEASE_MS))

    async def release(self) -> None:
        await self._if_ours(lambda pipe: pipe.delete(self.key))

    async def _if_ours(self, change: Callable[[Any], Any]) -> bool:
        """Apply ``change`` only while the lease is still ours (WATCH/MULTI rather than Lua:
        the in-process Redis of ``atelier dev`` has no scripting)."""
        async with self.redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(self.key)
                current = await pipe.get(self.key)
                if current is None or _text(current) != self.token:
                    await pipe.unwatch()  # type: ignore[no-untyped-call]
                    return False
                pipe.multi()  # type: ignore[no-untyped-call]
                change(pipe)
                await pipe.execute()
            except WatchError:
                return False
        return True


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


async def run_wait(deps: WaitDeps, slot: str, attempt: str | None = None) -> Result | None:
    """Wait for the wallet of the pending connection in ``slot`` and report the outcome;
    ``None`` when another process holds the wait (or there is nothing to wait for)."""
    lease = Lease(deps.redis, lease_key(slot))
    if not await lease.acquire():
        return None
    try:
        pending = await load_pending(deps.redis, slot)
        if pending is None or (attempt is not None and pending.attempt != attempt):
            if pending is None:
                await deps.redis.zrem(PENDING_SET, slot)
            return None
        try:
            result = await _wait(deps, pending, lease)
        except LeaseLost:
            return None
        await drop_pending(deps.redis, pending)
        if result.outcome is not Outcome.LINKED:
            await deps.redis.delete(session_key(slot, pending.attempt))
        if deps.present is not None:
            await deps.present(deps, pending, result)
        return result
    finally:
        with contextlib.suppress(Exception):
            await lease.release()


async def _wait(deps: WaitDeps, pending: PendingConnect, lease: Lease) -> Result:
    remaining = pending.deadline - time.time()
    if remaining <= 0:
        return Result(Outcome.EXPIRED)
    ttl = math.ceil(deps.settings.ton_connect_timeout) + GRACE_S
    storage = storage_for(deps.redis, deps.settings, pending.slot, pending.attempt, ttl)
    connector = ChatTonConnect(manifest_url(deps.settings), storage, policy=deps.policy)
    try:
        async with asyncio.timeout(remaining):
            if not await connector.resume_pending():
                return Result(Outcome.CANCELLED)
            event = await _watch(deps, connector, pending, lease)
    except TimeoutError:
        return Result(Outcome.EXPIRED)
    except BridgeUnreachableError:
        return Result(Outcome.UNREACHABLE)
    finally:
        connector.close()
    return await _settle(deps, pending, event, storage)


async def _watch(
    deps: WaitDeps, connector: ChatTonConnect, pending: PendingConnect, lease: Lease
) -> dict[str, Any]:
    """The wallet's first answer; renews the lease meanwhile and stops if the attempt was
    replaced or cancelled."""
    while True:
        done, _ = await asyncio.wait({connector.event}, timeout=RENEW_EVERY_S)
        if done:
            return connector.event.result()
        if not await lease.renew():
            raise LeaseLost
        current = await load_pending(deps.redis, pending.slot)
        if current is None or current.attempt != pending.attempt:
            raise LeaseLost  # replaced or cancelled: the newer attempt owns the chat


async def _settle(
    deps: WaitDeps, pending: PendingConnect, event: dict[str, Any], storage: RedisConnectStorage
) -> Result:
    kind = event.get("event")
    if kind == "connect_error":
        declined = connect_error_code(event) == USER_DECLINED
        return Result(Outcome.DECLINED if declined else Outcome.FAILED)
    if kind != "connect":
        return Result(Outcome.DECLINED)
    claim = proof_claim(event)
    if claim is None:
        await tell_wallet_disconnected(deps, storage)
        return Result(Outcome.REFUSED)
    try:
        async with unit_of_work(deps.factory, deps.redis) as session:
            wallet = await ton_service.link_wallet(
                session,
                deps.redis,
                deps.settings,
                tenant_id=pending.tenant_id,
                user_id=pending.user_id,
                claim=claim,
                keys=ToncenterPublicKeys(deps.settings),
            )
            address = wallet.address
    except (TonProofError, WalletTakenError, ConflictError) as exc:
        logger.info(
            "ton wallet not linked from chat: %s",
            exc.code,
            extra={"tenant_id": pending.tenant_id, "user_id": pending.user_id},
        )
        await tell_wallet_disconnected(deps, storage)
        if isinstance(exc, TonProofError):
            return Result(Outcome.REFUSED)
        return Result(Outcome.TAKEN if isinstance(exc, WalletTakenError) else Outcome.FAILED)
    await _keep_session(deps, pending, storage)
    return Result(Outcome.LINKED, address)


async def _keep_session(
    deps: WaitDeps, pending: PendingConnect, storage: RedisConnectStorage
) -> None:
    """The linked wallet's session becomes the chat's current one (payments restore it)."""
    ttl = deps.settings.ton_connect_session_ttl
    await storage.keep_for(ttl)
    previous = await deps.redis.set(current_key(pending.slot), pending.attempt, ex=ttl, get=True)
    if previous is not None:
        old = previous.decode() if isinstance(previous, bytes) else str(previous)
        if old != pending.attempt:
            await deps.redis.delete(session_key(pending.slot, old))


async def tell_wallet_disconnected(deps: WaitDeps, storage: RedisConnectStorage) -> None:
    """Best effort, bounded: tell the wallet we dropped the session, then forget it."""
    connector = ChatTonConnect(manifest_url(deps.settings), storage, policy=deps.policy)
    try:
        async with asyncio.timeout(DISCONNECT_TIMEOUT_S):
            if await connector.restore_connection() and connector.connected:
                await connector.disconnect()
    except Exception as exc:  # the wallet may be gone for good; the session goes anyway
        logger.info("could not tell a TON wallet about the disconnect: %s", type(exc).__name__)
    finally:
        connector.close()
        await storage.clear()


async def current_storage(
    redis: Redis, settings: Settings, telegram_bot_id: int, chat_id: int
) -> RedisConnectStorage | None:
    """The stored session of the chat's linked wallet, if the bot connected it."""
    slot = slot_of(telegram_bot_id, chat_id)
    attempt = await redis.get(current_key(slot))
    if attempt is None:
        return None
    text = attempt.decode() if isinstance(attempt, bytes) else str(attempt)
    return storage_for(redis, settings, slot, text, settings.ton_connect_session_ttl)


async def forget_session(deps: WaitDeps, telegram_bot_id: int, chat_id: int) -> None:
    """The fan disconnected their wallet: tell it (bounded) and drop the stored session."""
    storage = await current_storage(deps.redis, deps.settings, telegram_bot_id, chat_id)
    await deps.redis.delete(current_key(slot_of(telegram_bot_id, chat_id)))
    if storage is not None:
        await tell_wallet_disconnected(deps, storage)


# -- where waits run ------------------------------------------------------------------------------


class ConnectWaits:
    """The waits (and other bounded TON Connect chores) this process runs in the background.

    :meth:`close` cancels them; each releases its lease on the way out, so the worker's sweep
    can take a cancelled wait over at once.
    """

    def __init__(self, deps: WaitDeps) -> None:
        self.deps = deps
        self.tasks: set[asyncio.Task[Any]] = set()

    def spawn(self, coroutine: Awaitable[Any], name: str) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coroutine)
        task.set_name(name)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def wait_for(self, pending: PendingConnect) -> asyncio.Task[Any]:
        return self.spawn(
            run_wait(self.deps, pending.slot, pending.attempt), f"ton-connect:{pending.slot}"
        )

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("a TON Connect task failed", exc_info=task.exception())

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=5)


async def sweep(deps: WaitDeps) -> dict[str, int]:
    """Take over every pending wait whose process stopped renewing its lease (and report the
    ones that expired meanwhile); runs them concurrently, each bounded by its deadline."""
    raw_slots = await deps.redis.zrange(PENDING_SET, 0, -1)
    slots = [s.decode() if isinstance(s, bytes) else str(s) for s in raw_slots]
    orphans = [slot for slot in slots if not await deps.redis.exists(lease_key(slot))]
    results = await asyncio.gather(
        *(run_wait(deps, slot) for slot in orphans), return_exceptions=True
    )
    counts = {"pending": len(slots), "taken_over": 0, "expired": 0, "failed": 0}
    for result in results:
        if isinstance(result, BaseException):
            logger.error("a resumed TON Connect wait failed", exc_info=result)
            counts["failed"] += 1
        elif result is not None:
            counts["taken_over"] += 1
            counts["expired"] += result.outcome is Outcome.EXPIRED
    return counts
