"""The versioned Mini App API: every feature router is included here, under ``/api/v1``.

Later issues add their areas with one line each, e.g.
``api_router.include_router(files.endpoints.router, prefix="/files", tags=["files"])``.
Health, readiness and metrics stay outside the version prefix: probes and scrapers must not
move when the API does.
"""

from __future__ import annotations

from fastapi import APIRouter

from miniapp_api.auth import endpoints as auth
from miniapp_api.catalog import endpoints as catalog
from miniapp_api.creator import endpoints as creator
from miniapp_api.creator.broadcasts import endpoints as creator_broadcasts
from miniapp_api.drive import endpoints as drive
from miniapp_api.jobs import endpoints as jobs
from miniapp_api.wallet import endpoints as wallet

API_PREFIX = "/api/v1"

api_router = APIRouter(prefix=API_PREFIX)
api_router.include_router(auth.router, prefix="/auth", tags=["auth"])
api_router.include_router(drive.router, prefix="/drive", tags=["drive"])
api_router.include_router(drive.public_router, tags=["drive"])
api_router.include_router(catalog.router, prefix="/catalog", tags=["catalog"])
api_router.include_router(jobs.router, prefix="/jobs", tags=["jobs"])
api_router.include_router(wallet.router, prefix="/wallet", tags=["wallet"])
api_router.include_router(creator.router, prefix="/creator", tags=["creator"])
api_router.include_router(creator_broadcasts.router, prefix="/creator/broadcasts", tags=["creator"])
