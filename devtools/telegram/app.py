"""The emulator's ASGI app: the Bot API, file downloads, the control API and the chat page.

``create_app()`` works standalone (``atelier emulator``) and mounted inside another app
(``atelier dev``): nothing depends on a lifespan hook, and the page uses relative URLs. A host
that mounts it should ``await app.state.emulator.close()`` on shutdown.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from devtools.telegram.control import router as control_router
from devtools.telegram.emulator import ControlError, Emulator
from devtools.telegram.methods import Described, call_method
from devtools.telegram.rules import ApiError
from devtools.telegram.state import EmulatorSettings
from devtools.telegram.wire import parse_body

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"
#: Room for multipart framing and text fields on top of the biggest allowed file.
_BODY_SLACK = 1024 * 1024


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.payload(), status_code=exc.code)


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ApiError(413, "Request Entity Too Large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ApiError(413, "Request Entity Too Large")
        chunks.append(chunk)
    return b"".join(chunks)


async def bot_api(request: Request) -> Response:
    """``/bot{token}/{method}``: token first (401), then method (404), then parameters."""
    em: Emulator = request.app.state.emulator
    bot = em.state.bot_by_token(request.path_params["token"])
    try:
        if bot is None:
            raise ApiError(401, "Unauthorized")
        name = request.path_params["method"]
        from devtools.telegram.methods import METHODS

        if name.lower() not in METHODS:
            raise ApiError(404, "Not Found")
        body = await _read_body(request, em.settings.max_upload_bytes + _BODY_SLACK)
        params = await parse_body(
            request.headers.get("content-type", ""),
            body,
            dict(request.query_params),
            max_file_bytes=em.settings.max_upload_bytes,
        )
        result = await call_method(em, bot, name, params)
    except ApiError as exc:
        return _error(exc)
    except Exception:
        log.exception("emulator: %s failed", request.path_params.get("method"))
        return JSONResponse(
            {"ok": False, "error_code": 500, "description": "Internal Server Error"},
            status_code=500,
        )
    if isinstance(result, Described):
        return JSONResponse(
            {"ok": True, "result": result.result, "description": result.description}
        )
    return JSONResponse({"ok": True, "result": result})


async def file_download(request: Request) -> Response:
    em: Emulator = request.app.state.emulator
    bot = em.state.bot_by_token(request.path_params["token"])
    if bot is None:
        return _error(ApiError(401, "Unauthorized"))
    file_id = em.state.file_paths.get((bot.id, request.path_params["path"]))
    stored = em.state.files.get(file_id or "")
    if stored is None:
        return _error(ApiError(404, "Not Found"))
    if stored.size > em.settings.max_download_bytes:
        return _error(ApiError(400, "Bad Request: file is too big"))
    return Response(stored.content, media_type=stored.mime_type or "application/octet-stream")


def create_app(settings: EmulatorSettings | None = None) -> FastAPI:
    emulator = Emulator(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await emulator.close()

    app = FastAPI(
        title="Atelier Telegram Bot API emulator",
        docs_url="/_emulator/docs",
        redoc_url=None,
        openapi_url="/_emulator/openapi.json",
        lifespan=lifespan,
    )
    app.state.emulator = emulator

    @app.exception_handler(ControlError)
    async def control_error(request: Request, exc: ControlError) -> JSONResponse:
        return JSONResponse({"ok": False, "error": exc.message}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(part) for part in first.get("loc", ()))
        message = f"{where}: {first.get('msg', 'invalid request')}"
        return JSONResponse({"ok": False, "error": message}, status_code=422)

    app.add_api_route(
        "/bot{token}/{method}", bot_api, methods=["GET", "POST"], include_in_schema=False
    )
    app.add_api_route(
        "/file/bot{token}/{path:path}", file_download, methods=["GET"], include_in_schema=False
    )
    app.include_router(control_router)

    async def index(request: Request) -> Response:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="emulator-static")
    return app
