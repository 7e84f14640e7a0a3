"""``POST /tg/{bot_id}``: Telegram's door into the bot runtime (the one hand-off from the API
to ``bot``).

A raw ASGI route, not a FastAPI endpoint nor even a Starlette request/response one: it needs
the raw body, one header and a path parameter, and the wrappers (dependency machinery, the
``Request`` object, the per-route exception layer) would cost more than the rest of a fast
update. Errors still travel up through the app's middlewares (request id, access log, metrics,
the JSON 500). Answers: 401 for a wrong or missing ``X-Telegram-Bot-Api-Secret-Token``, 404 for
an unknown bot, 200 for everything Telegram should not re-send (duplicates, disabled tenants,
handled updates — with the reply method in the body when the handler had one).

``start``/``stop`` are called by the app lifespan: the runtime is built from the app's own
engine, session factory and Redis, and does no I/O until the first update.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bot.runtime import BotRuntime, WebhookReply
from tenants.webhooks import SECRET_HEADER

_SECRET_HEADER = SECRET_HEADER.lower().encode("latin-1")
_UNKNOWN_BOT = WebhookReply(404, b'{"error":"unknown bot"}')


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
        reply = _UNKNOWN_BOT
    else:
        body = await read_body(receive)
        reply = await runtime.handle_webhook(telegram_bot_id, header(scope, _SECRET_HEADER), body)
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
