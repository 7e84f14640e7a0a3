"""Tool store routes: parse, call :mod:`miniapp_api.catalog.service`, format."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from core.models.catalog import ToolCategory
from miniapp_api.auth.deps import UserDep
from miniapp_api.catalog import service
from miniapp_api.catalog.schemas import (
    CategoryOut,
    QuoteIn,
    QuoteOut,
    RunIn,
    ToolDetail,
    ToolOut,
)
from miniapp_api.deps import SessionDep
from miniapp_api.files import StorageDep
from miniapp_api.jobs.endpoints import job_out
from miniapp_api.jobs.schemas import JobOut

router = APIRouter()
Slug = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]


@router.get("/categories")
async def categories(user: UserDep, session: SessionDep) -> list[CategoryOut]:
    found = await service.categories(session, user.tenant_id)
    return [CategoryOut(category=c.category, tools=c.tools) for c in found]


@router.get("/tools")
async def list_tools(
    user: UserDep,
    session: SessionDep,
    category: ToolCategory | None = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    favourites: bool = False,
) -> list[ToolOut]:
    """The bot's tools in the fan's language with its prices; ``q`` searches names and
    descriptions, ``favourites=true`` keeps the fan's favourites only."""
    tools, favoured = await service.browse(
        session,
        user.tenant_id,
        user.user_id,
        category=category,
        query=q,
        favourites_only=favourites,
    )
    return [ToolOut.of(tool, tool.slug in favoured) for tool in tools]


@router.get("/tools/{slug}")
async def get_tool(slug: Slug, user: UserDep, session: SessionDep) -> ToolDetail:
    tool, favourite = await service.tool_detail(session, user.tenant_id, user.user_id, slug)
    return ToolDetail.detail(tool, favourite)


@router.put("/tools/{slug}/favourite", status_code=204)
async def add_favourite(slug: Slug, user: UserDep, session: SessionDep) -> Response:
    await service.set_favourite(session, user.tenant_id, user.user_id, slug, favourite=True)
    return Response(status_code=204)


@router.delete("/tools/{slug}/favourite", status_code=204)
async def remove_favourite(slug: Slug, user: UserDep, session: SessionDep) -> Response:
    await service.set_favourite(session, user.tenant_id, user.user_id, slug, favourite=False)
    return Response(status_code=204)


@router.post("/tools/{slug}/quote")
async def quote(slug: Slug, body: QuoteIn, user: UserDep, session: SessionDep) -> QuoteOut:
    """What one run with these parameters costs (422 with per-field details if invalid)."""
    found = await service.quote(session, user.tenant_id, slug, body.params)
    return QuoteOut(
        tool=found.tool, units=found.units, unit_price=found.unit_price, price=found.price
    )


@router.post("/tools/{slug}/run", status_code=201)
async def run(
    slug: Slug, body: RunIn, user: UserDep, session: SessionDep, storage: StorageDep
) -> JobOut:
    """Start a generation; its price is held until it ends. 402 (``details``: ``price``,
    ``balance``) without enough credits, 429 at the plan's limits, 503 when the bot cannot
    generate right now; nothing is charged then."""
    job = await service.run_tool(
        session,
        user.tenant_id,
        user.user_id,
        slug,
        params=body.params,
        inputs=body.inputs,
        idempotency_key=body.idempotency_key,
    )
    return await job_out(session, storage, job)
