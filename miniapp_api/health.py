"""Liveness and readiness probes.

``/healthz`` says the process answers (restart it if not); ``/readyz`` says it can do useful
work — the database and Redis both answer — so a load balancer sends traffic elsewhere while
either is down. Each check has its own deadline and they run side by side, so the probe answers
within about two seconds even when a dependency hangs instead of refusing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

CHECK_TIMEOUT_S = 1.5
_MAX_ERROR_CHARS = 200

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def check_database(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))


async def check_redis(redis: Any) -> None:
    await redis.ping()


async def _run_check(check: Callable[[], Awaitable[None]]) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_S):
            await check()
    except TimeoutError:
        return f"error: no answer within {CHECK_TIMEOUT_S:g}s"
    except Exception as exc:
        detail = f"{type(exc).__name__}: {exc}"
        return f"error: {detail[:_MAX_ERROR_CHARS]}"
    return "ok"


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    state = request.app.state
    names = ("database", "redis")
    results = await asyncio.gather(
        _run_check(lambda: check_database(state.engine)),
        _run_check(lambda: check_redis(state.redis)),
    )
    checks = dict(zip(names, results, strict=True))
    ready = all(result == "ok" for result in results)
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks},
        status_code=200 if ready else 503,
    )
