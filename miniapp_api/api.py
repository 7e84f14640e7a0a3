"""The versioned Mini App API: every feature router is included here, under ``/api/v1``.

Each area adds one line to :data:`API_ROUTERS`, e.g. ``(files.router, "/files", ["files"])``.
Health, readiness and metrics stay outside the version prefix: probes and scrapers must not
move when the API does.
"""

from __future__ import annotations

from enum import Enum

from fastapi import APIRouter, FastAPI

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

# (router, prefix under API_PREFIX, tags); the most requested first, since a request is
# matched against the routes in this order.
API_ROUTERS: list[tuple[APIRouter, str, list[str | Enum]]] = [
    (drive.router, "/drive", ["drive"]),
    (auth.router, "/auth", ["auth"]),
    (drive.public_router, "", ["drive"]),
    (catalog.router, "/catalog", ["catalog"]),
    (jobs.router, "/jobs", ["jobs"]),
    (wallet.router, "/wallet", ["wallet"]),
    (creator.router, "/creator", ["creator"]),
    (creator_ton.router, "/creator/ton", ["creator", "ton"]),
    (ton.router, "/ton", ["ton"]),
    (tasks.router, "/tasks", ["tasks"]),
    (creator_tasks.router, "/creator/tasks", ["creator"]),
    (creator_stats.router, "/creator/stats", ["creator"]),
    (creator_dashboard.router, "/creator/dashboard", ["creator"]),
    (creator_users.router, "/creator/users", ["creator"]),
    (creator_texts.router, "/creator/texts", ["creator"]),
    (creator_settings.router, "/creator/settings", ["creator"]),
    (creator_settings.plan_router, "/creator/plan", ["creator"]),
    (creator_groups.router, "/creator/groups", ["creator"]),
    (content.router, "/feed", ["content"]),
    (content.media_router, "/content", ["content"]),
    (vip.router, "/vip", ["vip"]),
    (creator_content.router, "/creator/content", ["creator"]),
    (creator_vip.router, "/creator/vip", ["creator"]),
    (creator_broadcasts.router, "/creator/broadcasts", ["creator"]),
]


def include_api(app: FastAPI) -> None:
    """Every feature router straight on the app under ``/api/v1``. Not through one
    ``/api/v1`` router: FastAPI matches a request once more at every level of included
    routers, and that level cost a fifth of a small request (bench/drive)."""
    for router, prefix, tags in API_ROUTERS:
        app.include_router(router, prefix=f"{API_PREFIX}{prefix}", tags=tags)
