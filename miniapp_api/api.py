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
from miniapp_api.content import endpoints as content
from miniapp_api.creator import endpoints as creator
from miniapp_api.creator import ton as creator_ton
from miniapp_api.creator.broadcasts import endpoints as creator_broadcasts
from miniapp_api.creator.content import endpoints as creator_content
from miniapp_api.creator.dashboard import endpoints as creator_dashboard
from miniapp_api.creator.groups import endpoints as creator_groups
from miniapp_api.creator.settings import endpoints as creator_settings
from miniapp_api.creator.stats import endpoints as creator_stats
from miniapp_api.creator.tasks import endpoints as creator_tasks
from miniapp_api.creator.texts import endpoints as creator_texts
from miniapp_api.creator.users import endpoints as creator_users
from miniapp_api.creator.vip import endpoints as creator_vip
from miniapp_api.drive import endpoints as drive
from miniapp_api.jobs import endpoints as jobs
from miniapp_api.tasks import endpoints as tasks
from miniapp_api.ton import endpoints as ton
from miniapp_api.vip import endpoints as vip
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
api_router.include_router(creator_ton.router, prefix="/creator/ton", tags=["creator", "ton"])
api_router.include_router(ton.router, prefix="/ton", tags=["ton"])
api_router.include_router(tasks.router, prefix="/tasks", tags=["tasks"])
api_router.include_router(creator_tasks.router, prefix="/creator/tasks", tags=["creator"])
api_router.include_router(creator_stats.router, prefix="/creator/stats", tags=["creator"])
api_router.include_router(creator_dashboard.router, prefix="/creator/dashboard", tags=["creator"])
api_router.include_router(creator_users.router, prefix="/creator/users", tags=["creator"])
api_router.include_router(creator_texts.router, prefix="/creator/texts", tags=["creator"])
api_router.include_router(creator_settings.router, prefix="/creator/settings", tags=["creator"])
api_router.include_router(creator_settings.plan_router, prefix="/creator/plan", tags=["creator"])
api_router.include_router(creator_groups.router, prefix="/creator/groups", tags=["creator"])
api_router.include_router(content.router, prefix="/feed", tags=["content"])
api_router.include_router(content.media_router, prefix="/content", tags=["content"])
api_router.include_router(vip.router, prefix="/vip", tags=["vip"])
api_router.include_router(creator_content.router, prefix="/creator/content", tags=["creator"])
api_router.include_router(creator_vip.router, prefix="/creator/vip", tags=["creator"])
api_router.include_router(creator_broadcasts.router, prefix="/creator/broadcasts", tags=["creator"])
