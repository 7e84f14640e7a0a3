"""Getting updates to bots: one pending queue per bot, drained by a webhook or by getUpdates.

Telegram keeps a single queue per bot; while a webhook is set it pushes from that queue (in
order, retrying on errors) and refuses getUpdates with 409, so an update is never delivered
both ways. Webhook workers start on demand and stop when the queue is empty, so the emulator
needs no lifespan hook and can be mounted inside another app.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from devtools.telegram.rules import ApiError, Params
from devtools.telegram.state import BotRecord, EmulatorSettings
from devtools.telegram.wire import parse_body

log = logging.getLogger(__name__)

ALL_UPDATES = (
    "message",
    "edited_message",
    "channel_post",
    "edited_channel_post",
    "business_connection",
    "business_message",
    "edited_business_message",
    "deleted_business_messages",
    "message_reaction",
    "message_reaction_count",
    "inline_query",
    "chosen_inline_result",
    "callback_query",
    "shipping_query",
    "pre_checkout_query",
    "purchased_paid_media",
    "poll",
    "poll_answer",
    "my_chat_member",
    "chat_member",
    "chat_join_request",
    "chat_boost",
    "removed_chat_boost",
)
#: What a bot gets when it never named ``allowed_updates`` (Telegram's documented default).
DEFAULT_UPDATES = frozenset(ALL_UPDATES) - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}

ReplyExecutor = Callable[[BotRecord, str, Params], Awaitable[Any]]


class Delivery:
    """Owns every bot's update queue, long polls and webhook workers."""

    def __init__(
        self, settings: EmulatorSettings, execute_reply: ReplyExecutor | None = None
    ) -> None:
        self.settings = settings
        self.execute_reply = execute_reply
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._wakeups: dict[int, asyncio.Event] = {}
        self._poll_generation: dict[int, int] = {}
        self._http: httpx.AsyncClient | None = None
        self._closed = False

    # ----------------------------------------------------------------- queue

    def enqueue(self, bot: BotRecord, kind: str, payload: dict[str, Any]) -> int | None:
        """Queue an update unless the bot's ``allowed_updates`` leaves it out."""
        allowed = set(bot.allowed_updates) if bot.allowed_updates else DEFAULT_UPDATES
        if kind not in allowed:
            return None
        update_id = bot.next_update_id
        bot.next_update_id += 1
        bot.pending.append({"update_id": update_id, kind: payload})
        self.wake(bot)
        return update_id

    def _event(self, bot: BotRecord) -> asyncio.Event:
        event = self._wakeups.get(bot.id)
        if event is None:
            event = self._wakeups[bot.id] = asyncio.Event()
        return event

    def wake(self, bot: BotRecord) -> None:
        self._event(bot).set()
        if bot.webhook and bot.pending and not self._closed:
            worker = self._workers.get(bot.id)
            if worker is None or worker.done():
                self._workers[bot.id] = asyncio.create_task(
                    self._run_webhook(bot), name=f"emulator-webhook-{bot.id}"
                )

    def drop_pending(self, bot: BotRecord) -> None:
        bot.pending.clear()

    # ----------------------------------------------------------------- getUpdates

    async def get_updates(
        self, bot: BotRecord, offset: int | None, limit: int, poll_seconds: float
    ) -> list[dict[str, Any]]:
        if bot.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if offset is not None:
            if offset < 0:
                while len(bot.pending) > -offset:
                    bot.pending.popleft()
            else:
                while bot.pending and bot.pending[0]["update_id"] < offset:
                    bot.pending.popleft()
        generation = self._poll_generation.get(bot.id, 0) + 1
        self._poll_generation[bot.id] = generation
        event = self._event(bot)
        event.set()  # an older long poll wakes up and finds it was replaced
        await asyncio.sleep(0)
        deadline = time.monotonic() + min(max(poll_seconds, 0.0), self.settings.long_poll_max)
        while True:
            if self._poll_generation.get(bot.id) != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            if bot.webhook is not None:
                return []
            if bot.pending:
                return list(bot.pending)[:limit]
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closed:
                return []
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    # ----------------------------------------------------------------- webhooks

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=self.settings.webhook_timeout)
        return self._http

    async def _run_webhook(self, bot: BotRecord) -> None:
        """Push pending updates one at a time, in order, retrying like Telegram does."""
        attempt = 0
        while bot.webhook is not None and bot.pending and not self._closed:
            update = bot.pending[0]
            webhook = bot.webhook
            error = await self._post(bot, webhook.url, webhook.secret_token, update)
            if not bot.pending or bot.pending[0] is not update:
                attempt = 0  # dropped or confirmed meanwhile (setWebhook drop_pending_updates)
                continue
            if error is None:
                bot.pending.popleft()
                attempt = 0
                continue
            bot.last_error_date = int(time.time())
            bot.last_error_message = error
            delays = self.settings.webhook_retry_delays
            if attempt >= len(delays):
                log.warning(
                    "emulator: giving up on update %s for bot %s", update["update_id"], bot.id
                )
                bot.pending.popleft()
                attempt = 0
                continue
            event = self._event(bot)
            event.clear()
            with contextlib.suppress(TimeoutError):
                # a new setWebhook wakes the worker so a fixed endpoint is retried at once
                await asyncio.wait_for(event.wait(), delays[attempt])
            attempt += 1

    async def _post(
        self, bot: BotRecord, url: str, secret: str | None, update: dict[str, Any]
    ) -> str | None:
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        try:
            response = await self._client().post(url, json=update, headers=headers)
        except httpx.TimeoutException:
            return "Read timeout expired"
        except httpx.HTTPError as exc:
            return f"Connection failed: {exc.__class__.__name__}"
        if not 200 <= response.status_code < 300:
            return (
                f"Wrong response from the webhook: {response.status_code} {response.reason_phrase}"
            )
        await self._execute_response(bot, response)
        return None

    async def _execute_response(self, bot: BotRecord, response: httpx.Response) -> None:
        """A webhook may answer with ``{"method": ...}``; Telegram runs it, ignoring errors."""
        if self.execute_reply is None or not response.content:
            return
        content_type = response.headers.get("content-type", "")
        try:
            params = await parse_body(
                content_type, response.content, {}, max_file_bytes=self.settings.max_upload_bytes
            )
        except ApiError:
            return
        method = params.values.pop("method", None)
        if not isinstance(method, str) or not method:
            return
        try:
            await self.execute_reply(bot, method, params)
        except ApiError as exc:
            log.info("emulator: webhook reply %s failed: %s", method, exc.description)

    async def close(self) -> None:
        self._closed = True
        for event in self._wakeups.values():
            event.set()
        workers = list(self._workers.values())
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await worker
        self._workers.clear()
        if self._http is not None:
            await self._http.aclose()
            self._http = None
