"""The versioned Mini App API: every feature router is included here, under ``/api/v1``.

Later issues add their areas with one line each, e.g.
``api_router.include_router(files.endpoints.router, prefix="/files", tags=["files"])``.
Health, readiness and metrics stay outside the version prefix: probes and scrapers must not
move when the API does.
"""

from __future__ import annotations

from fastapi import APIRouter

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX)
