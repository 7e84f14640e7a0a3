"""``POST /tg/{bot_id}``: Telegram's door into the bot runtime (the one hand-off from the API
to ``bot``).

A plain Starlette route, not a FastAPI endpoint: it takes the raw body and a header, and the
dependency machinery would cost more than the rest of a fast update. Answers: 401 for a wrong
or missing ``X-Telegram-Bot-Api-Secret-Token``, 404 for an unknown bot, 200 for everything
Telegram should not re-send (duplicates, disabled tenants, handled updates — with the reply
method in the body when the handler had one).

``start``/``stop`` are called by the app lifespan: the runtime is built from the app's own
engine, session factory and Redis, and does no I/O until the first update.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.runtime import BotRuntime
from tenants.webhooks import SECRET_HEADER


async def telegram_webhook(request: Request) -> Response:
    runtime: BotRuntime = request.app.state.bot_runtime
    try:
        telegram_bot_id = int(request.path_params["bot_id"])
    except ValueError:
        return Response(b'{"error":"unknown bot"}', 404, media_type="application/json")
    reply = await runtime.handle_webhook(
        telegram_bot_id, request.headers.get(SECRET_HEADER), await request.body()
    )
    return Response(reply.body, reply.status, media_type=reply.content_type)


router = APIRouter()
router.routes.append(Route("/tg/{bot_id}", telegram_webhook, methods=["POST"]))


def start(app: FastAPI) -> None:
    """Build the bot runtime on the app's resources (call after they exist)."""
    app.state.bot_runtime = BotRuntime(
        app.state.settings, app.state.session_factory, app.state.redis
    )


async def stop(app: FastAPI) -> None:
    runtime: BotRuntime | None = getattr(app.state, "bot_runtime", None)
    if runtime is not None:
        await runtime.close()
