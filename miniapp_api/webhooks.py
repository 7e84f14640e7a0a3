"""``POST /tg/{bot_id}``: Telegram's door into the bot runtime (the one hand-off from the API
to ``bot``).

A raw ASGI route, not a FastAPI endpoint nor even a Starlette request/response one: it needs
the raw body, one header and a path parameter, and the wrappers (dependency machinery, the
``Request`` object, the per-route exception layer) would cost more than the rest of a fast
update. Errors still travel up through the app's middlewares (request id, access log, metrics,
the JSON 500). Answers: 401 for a wrong or missing ``X-Telegram-Bot-Api-Secret-Token``, 404 for
an unknown bot, 200 for everything Telegram should not re-send (duplicates, disabled tenants,
handled updates — with the reply method in the body when the handler had one). An update
still running after the runtime's ``response_deadline`` is answered 200 without its reply
(:class:`EarlyAnswer`); the reply then goes out through the Bot API.

``start``/``stop`` are called by the app lifespan: the runtime is built from the app's own
engine, session factory and Redis, and does no I/O until the first update.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, FastAPI
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bot.runtime import OK, BotRuntime, Deadline, WebhookReply
from tenants.webhooks import SECRET_HEADER

logger = logging.getLogger(__name__)

_SECRET_HEADER = SECRET_HEADER.lower().encode("latin-1")
_UNKNOWN_BOT = WebhookReply(404, b'{"error":"unknown bot"}')


class EarlyAnswer(Deadline):
    """Answers Telegram 200 by itself once ``seconds`` pass, so a slow handler never keeps it
    waiting (it would re-send the update); the handler's late reply then goes through the Bot
    API (:meth:`BotRuntime.handle_webhook` sees ``passed``). A timer, not a task: a fast
    update costs one ``call_later`` and its ``cancel``."""

    __slots__ = ("_send", "_timer", "bot_id", "sending")

    def __init__(self, send: Send, seconds: float, bot_id: int) -> None:
        super().__init__()
        self._send = send
        self.bot_id = bot_id
        self.sending: asyncio.Future[None] | None = None
        self._timer = asyncio.get_running_loop().call_later(seconds, self._answer)

    def _answer(self) -> None:
        logger.warning("an update of bot %s is slow; answered before its reply", self.bot_id)
        self.passed = True
        self.sending = asyncio.ensure_future(respond(self._send, OK))

    def stop(self) -> None:
        self._timer.cancel()


async def read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def telegram_webhook(scope: Scope, receive: Receive, send: Send) -> None:
    runtime: BotRuntime = scope["app"].state.bot_runtime
    try:
        telegram_bot_id = int(scope["path_params"]["bot_id"])
    except ValueError:
        await respond(send, _UNKNOWN_BOT)
        return
    body = await read_body(receive)
    early = EarlyAnswer(send, runtime.response_deadline, telegram_bot_id)
    try:
        reply = await runtime.handle_webhook(
            telegram_bot_id, header(scope, _SECRET_HEADER), body, early
        )
    finally:
        early.stop()
        if early.sending is not None:
            await early.sending  # the 200 went out on time; the reply took the Bot API
    if early.sending is None:
        await respond(send, reply)


async def respond(send: Send, reply: WebhookReply) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": reply.status,
            "headers": [
                (b"content-type", reply.content_type.encode("latin-1")),
                (b"content-length", str(len(reply.body)).encode("latin-1")),
            ],
        }
    )
    await send({"type": "http.response.body", "body": reply.body})


class _Endpoint:
    """Starlette serves a route whose endpoint is not a function as a plain ASGI app."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await telegram_webhook(scope, receive, send)


router = APIRouter()
router.routes.append(Route("/tg/{bot_id}", _Endpoint(), methods=["POST"]))


def start(app: FastAPI) -> None:
    """Build the bot runtime on the app's resources (call after they exist)."""
    app.state.bot_runtime = BotRuntime(
        app.state.settings, app.state.session_factory, app.state.redis
    )


async def stop(app: FastAPI) -> None:
    runtime: BotRuntime | None = getattr(app.state, "bot_runtime", None)
    if runtime is not None:
        await runtime.close()
