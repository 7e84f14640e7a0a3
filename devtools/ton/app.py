"""The TON stand-in's ASGI app: toncenter API, TON Connect bridge, control API, wallet page.

``create_app()`` works standalone (``atelier ton-devnet``) and mounted inside another app
(``atelier dev`` mounts it at ``/ton``): nothing depends on a lifespan hook and the page uses
relative URLs. A host that mounts it should ``await app.state.ton.close()`` on shutdown (it ends
the bridge's SSE streams).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, JSONResponse, Response, StreamingResponse

from devtools.ton import control, toncenter
from devtools.ton.bridge import BridgeError, check_client_id
from devtools.ton.config import TonSettings
from devtools.ton.devnet import ControlError, TonDevnet
from devtools.ton.tonconnect import APP_NAME, ConnectError

STATIC_DIR = Path(__file__).parent / "static"
#: A 1x1 PNG, so the demo manifest's icon exists.
ICON_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def base_url(request: Request) -> str:
    """This app's absolute base URL, mount prefix included, without the trailing slash."""
    return str(request.base_url).rstrip("/")


def wallet_entry(base: str) -> dict[str, Any]:
    """The test wallet as wallets-v2.json lists a wallet (bridge = this server's bridge)."""
    return {
        "app_name": "atelier-test-wallet",
        "name": APP_NAME,
        "image": f"{base}/tonconnect/icon.png",
        "about_url": f"{base}/wallet",
        "universal_url": f"{base}/wallet",
        "bridge": [{"type": "sse", "url": f"{base}/bridge"}],
        "platforms": ["ios", "android", "macos", "windows", "linux", "chrome", "firefox"],
    }


def pytonconnect_wallet(base: str) -> dict[str, str]:
    """The dict ``TonConnect.connect(wallet)`` takes, pointing at this server's bridge."""
    entry = wallet_entry(base)
    return {
        "name": entry["name"],
        "image": entry["image"],
        "about_url": entry["about_url"],
        "app_name": entry["app_name"],
        "bridge_url": entry["bridge"][0]["url"],
        "universal_url": entry["universal_url"],
    }


async def bridge_events(request: Request) -> Response:
    devnet: TonDevnet = request.app.state.ton
    client_ids = [c for c in request.query_params.get("client_id", "").split(",") if c]
    last = request.query_params.get("last_event_id")
    if not client_ids:
        raise BridgeError("client_id is required")
    if last is not None and not last.isdigit():
        raise BridgeError("last_event_id must be a number")
    for client_id in client_ids:
        check_client_id(client_id, "client_id")
    return StreamingResponse(
        devnet.bridge.stream(client_ids, int(last) if last else None),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def bridge_message(request: Request) -> Response:
    devnet: TonDevnet = request.app.state.ton
    params = request.query_params
    ttl = params.get("ttl", "300")
    if not ttl.isdigit():
        raise BridgeError("ttl must be a number")
    body = (await request.body()).decode("ascii", errors="replace").strip()
    devnet.bridge.publish(
        params.get("client_id", ""), params.get("to", ""), body, int(ttl), params.get("topic")
    )
    return JSONResponse({"message": "OK", "statusCode": 200})


def create_app(settings: TonSettings | None = None) -> FastAPI:
    devnet = TonDevnet(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await devnet.close()

    app = FastAPI(
        title="Atelier TON stand-in (toncenter + TON Connect bridge)",
        docs_url="/_ton/docs",
        redoc_url=None,
        openapi_url="/_ton/openapi.json",
        lifespan=lifespan,
    )
    app.state.ton = devnet
    # Web dApps (the Mini App's TON Connect UI) reach the bridge, the wallets list and
    # toncenter from their own origin, as they do with the public bridges and toncenter.
    app.add_middleware(
        CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"]
    )
    _error_handlers(app)
    app.include_router(toncenter.router)
    app.include_router(control.router)
    app.add_api_route("/bridge/events", bridge_events, methods=["GET"], include_in_schema=False)
    app.add_api_route("/bridge/message", bridge_message, methods=["POST"], include_in_schema=False)
    _pages(app)
    return app


def _error_handlers(app: FastAPI) -> None:
    @app.exception_handler(toncenter.ApiError)
    async def api_error(request: Request, exc: toncenter.ApiError) -> JSONResponse:
        return toncenter.error_response(request.url.path, exc.status, exc.message)

    @app.exception_handler(BridgeError)
    async def bridge_error(request: Request, exc: BridgeError) -> JSONResponse:
        return JSONResponse({"message": exc.message, "statusCode": exc.status}, exc.status)

    @app.exception_handler(ControlError)
    async def control_error(request: Request, exc: ControlError) -> JSONResponse:
        return JSONResponse({"ok": False, "error": exc.message}, status_code=exc.status)

    @app.exception_handler(ConnectError)
    async def connect_error(request: Request, exc: ConnectError) -> JSONResponse:
        status = exc.status if exc.status >= 400 else 400
        return JSONResponse({"ok": False, "error": exc.message}, status_code=min(status, 499))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid request')}"
        if request.url.path.startswith("/_ton"):
            return JSONResponse({"ok": False, "error": message}, status_code=422)
        return toncenter.error_response(request.url.path, 422, message)


def _pages(app: FastAPI) -> None:
    async def wallets_list(request: Request) -> JSONResponse:
        return JSONResponse([wallet_entry(base_url(request))])

    async def manifest(request: Request) -> JSONResponse:
        base = base_url(request)
        return JSONResponse(
            {"url": base, "name": "TON stand-in demo app", "iconUrl": f"{base}/tonconnect/icon.png"}
        )

    async def icon(request: Request) -> Response:
        return Response(ICON_PNG, media_type="image/png")

    async def wallet_page(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "wallet.html", headers={"Cache-Control": "no-cache"})

    for path, endpoint in (
        ("/tonconnect/wallets-v2.json", wallets_list),
        ("/tonconnect/manifest.json", manifest),
        ("/tonconnect/icon.png", icon),
        ("/wallet", wallet_page),
    ):
        app.add_api_route(path, endpoint, methods=["GET"], include_in_schema=False)
