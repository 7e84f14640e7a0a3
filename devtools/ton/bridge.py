"""The TON Connect HTTP bridge: per-client queues, SSE delivery, heartbeats, TTL.

Protocol (TON Connect ``bridge.md``, as pytonconnect 0.4 speaks it):

* ``GET /bridge/events?client_id=<hex>[,<hex>...][&last_event_id=<id>]`` — an SSE stream;
  ``event: message`` / ``id: <n>`` / ``data: {"from": "<hex>", "message": "<base64>"}`` per
  message and ``event: heartbeat`` every few seconds.
* ``POST /bridge/message?client_id=<from>&to=<to>&ttl=<s>[&topic=<method>]`` with the base64
  (nonce + NaCl box) as the body; answers ``{"message": "OK", "statusCode": 200}``.

Messages wait in the recipient's queue until their TTL; a reconnect with ``last_event_id``
replays what came after it. Clients registered with ``attach`` (the in-process test wallet)
get their messages by call instead of over SSE.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)
CLIENT_ID = re.compile(r"^[0-9a-f]{64}$")

Handler = Callable[["BridgeMessage"], Awaitable[None]]


class BridgeError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@dataclass(frozen=True)
class BridgeMessage:
    id: int
    sender: str
    recipient: str
    message: str
    expires_at: float
    topic: str | None = None

    def sse(self) -> str:
        data = json.dumps({"from": self.sender, "message": self.message}, separators=(",", ":"))
        return f"event: message\nid: {self.id}\ndata: {data}\n\n"


@dataclass
class _Queue:
    messages: list[BridgeMessage] = field(default_factory=list)
    delivered_upto: int = 0


class Bridge:
    """Routes end-to-end encrypted blobs between apps and wallets; never reads them."""

    def __init__(self, *, heartbeat: float = 5.0, max_ttl: int = 300) -> None:
        self.heartbeat = heartbeat
        self.max_ttl = max_ttl
        self._queues: dict[str, _Queue] = {}
        self._listeners: dict[str, set[asyncio.Queue[BridgeMessage | None]]] = {}
        self._attached: dict[str, Handler] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._next_id = int(time.time() * 1000)
        self._closed = False

    # ------------------------------------------------------------------ sending

    def publish(
        self, sender: str, recipient: str, message: str, ttl: int, topic: str | None = None
    ) -> BridgeMessage:
        """Queue ``message`` for ``recipient``; raises ``BridgeError`` on bad input."""
        check_client_id(sender, "client_id")
        check_client_id(recipient, "to")
        if ttl <= 0 or ttl > self.max_ttl:
            raise BridgeError(f"ttl must be between 1 and {self.max_ttl} seconds")
        try:
            base64.b64decode(message, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise BridgeError("the body must be base64") from exc
        self._next_id += 1
        item = BridgeMessage(self._next_id, sender, recipient, message, time.time() + ttl, topic)
        handler = self._attached.get(recipient)
        if handler is not None:
            self._spawn(handler(item))
            return item
        queue = self._queues.setdefault(recipient, _Queue())
        queue.messages = [m for m in queue.messages if m.expires_at > time.time()]
        queue.messages.append(item)
        for listener in self._listeners.get(recipient, ()):
            listener.put_nowait(item)
        return item

    def attach(self, client_id: str, handler: Handler) -> None:
        """Deliver ``client_id``'s messages by calling ``handler`` (in-process wallets)."""
        check_client_id(client_id, "client_id")
        self._attached[client_id] = handler

    def detach(self, client_id: str) -> None:
        self._attached.pop(client_id, None)

    def _spawn(self, work: Awaitable[None]) -> None:
        async def run() -> None:
            try:
                await work
            except Exception:
                log.exception("ton bridge: an attached client failed to handle a message")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ------------------------------------------------------------------ listening

    async def stream(self, client_ids: list[str], last_event_id: int | None) -> AsyncIterator[str]:
        """SSE text for ``client_ids``: the backlog first, then live messages and heartbeats."""
        for client_id in client_ids:
            check_client_id(client_id, "client_id")
        inbox: asyncio.Queue[BridgeMessage | None] = asyncio.Queue()
        for client_id in client_ids:
            self._listeners.setdefault(client_id, set()).add(inbox)
        try:
            for queued in self._backlog(client_ids, last_event_id):
                yield self._delivered(queued)
            while not self._closed:
                try:
                    async with asyncio.timeout(self.heartbeat):
                        item = await inbox.get()
                except TimeoutError:
                    yield "event: heartbeat\ndata: \n\n"
                    continue
                if item is None:
                    break
                yield self._delivered(item)
        finally:
            for client_id in client_ids:
                self._listeners.get(client_id, set()).discard(inbox)

    def _backlog(self, client_ids: list[str], last_event_id: int | None) -> list[BridgeMessage]:
        now = time.time()
        items: list[BridgeMessage] = []
        for client_id in client_ids:
            queue = self._queues.get(client_id)
            if queue is None:
                continue
            after = last_event_id if last_event_id is not None else queue.delivered_upto
            items.extend(m for m in queue.messages if m.id > after and m.expires_at > now)
        return sorted(items, key=lambda m: m.id)

    def _delivered(self, item: BridgeMessage) -> str:
        queue = self._queues.get(item.recipient)
        if queue is not None:
            queue.delivered_upto = max(queue.delivered_upto, item.id)
        return item.sse()

    async def close(self) -> None:
        """End every stream (so a server can stop) and wait for attached handlers."""
        self._closed = True
        for listeners in self._listeners.values():
            for inbox in listeners:
                inbox.put_nowait(None)
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def check_client_id(value: str, name: str) -> None:
    if not CLIENT_ID.match(value or ""):
        raise BridgeError(f"{name} must be a 64-character lower-case hex public key")
