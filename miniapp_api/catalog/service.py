"""The tool store's rules on top of :mod:`jobs.catalog.service`: the fan's language, search,
favourites, and running a tool through :func:`jobs.generation.service.create_job` — the same
function the bot uses, so prices, limits and reservations are the same on both edges.

A tool the tenant hides is "no such tool" (404) here, like an unknown slug; an input file
that is not the fan's own is a 404 too, so file ids of other fans leak nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.drive import service as drive
from core.models.catalog import ToolCategory
from core.models.jobs import Job
from jobs.catalog import service as catalog
from jobs.catalog.schemas import Quote, ToolView
from jobs.generation import service as generation
from miniapp_api.catalog import repository as repo


@dataclass(frozen=True, slots=True)
class CategoryCount:
    category: ToolCategory
    tools: int


def language_tag(language: str | None) -> str:
    """``"pt-BR"`` → ``"pt"``: the catalogue is keyed by primary language (English fallback)."""
    return (language or catalog.DEFAULT_LANGUAGE).split("-")[0].split("_")[0].lower()


async def fan_language(session: AsyncSession, tenant_id: int, user_id: int) -> str:
    return language_tag(await repo.user_language(session, tenant_id, user_id))


def _matches(tool: ToolView, words: list[str]) -> bool:
    haystack = f"{tool.slug} {tool.name} {tool.description} {tool.category}".casefold()
    return all(word in haystack for word in words)


async def browse(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    category: ToolCategory | None = None,
    query: str | None = None,
    favourites_only: bool = False,
) -> tuple[list[ToolView], set[str]]:
    """The tools the tenant offers, in the fan's language, filtered; and the fan's favourites.

    ``query`` matches every word (case-insensitive) in the slug or the localized name or
    description; the catalogue is small, so it is filtered here rather than in SQL.
    """
    language = await fan_language(session, tenant_id, user_id)
    tools = await catalog.list_tools(session, tenant_id, language=language, category=category)
    favourites = await repo.favourite_slugs(session, tenant_id, user_id)
    words = (query or "").casefold().split()
    found = [
        tool
        for tool in tools
        if _matches(tool, words) and (not favourites_only or tool.slug in favourites)
    ]
    return found, favourites


async def categories(session: AsyncSession, tenant_id: int) -> list[CategoryCount]:
    """Categories with at least one tool the tenant offers, in catalogue order."""
    counts: dict[ToolCategory, int] = {}
    for tool in await catalog.list_tools(session, tenant_id):
        counts[tool.category] = counts.get(tool.category, 0) + 1
    return [CategoryCount(category, n) for category, n in counts.items()]


async def tool_detail(
    session: AsyncSession, tenant_id: int, user_id: int, slug: str
) -> tuple[ToolView, bool]:
    """One tool as this tenant offers it (404 when hidden) and whether the fan favours it."""
    language = await fan_language(session, tenant_id, user_id)
    tool = await catalog.get_tool(session, tenant_id, slug, language=language)
    return tool, tool.slug in await repo.favourite_slugs(session, tenant_id, user_id)


async def set_favourite(
    session: AsyncSession, tenant_id: int, user_id: int, slug: str, *, favourite: bool
) -> None:
    tool = await catalog.get_tool_row(session, slug, tenant_id)
    if favourite:
        await repo.add_favourite(session, tenant_id, user_id, tool.id)
    else:
        await repo.remove_favourite(session, tenant_id, user_id, tool.id)


async def quote(
    session: AsyncSession, tenant_id: int, slug: str, params: Mapping[str, Any]
) -> Quote:
    return await catalog.quote(session, tenant_id, slug, params)


async def run_tool(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    slug: str,
    *,
    params: Mapping[str, Any],
    inputs: Mapping[str, int] | None,
    idempotency_key: str | None,
) -> Job:
    """Create the job (reserving its price) after checking every input file is the fan's own:
    another fan's file id answers 404 exactly like an id that does not exist."""
    tool = await catalog.get_tool_row(session, slug, tenant_id)
    given = {**params, **(inputs or {})}
    for name in catalog.input_params(tool):
        file_id = given.get(name)
        if isinstance(file_id, int) and not isinstance(file_id, bool):
            await drive.get_file(session, tenant_id, user_id, file_id)
    return await generation.create_job(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        tool_slug=slug,
        params=params,
        inputs=inputs,
        idempotency_key=idempotency_key,
    )
