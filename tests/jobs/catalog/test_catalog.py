"""The tool catalogue: the reviewed seed, syncing it, tenants' views and prices, quotes."""

from __future__ import annotations

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import session_scope
from core.errors import NotFoundError, ValidationError
from core.models import Tenant, Tool, ToolCategory
from jobs.catalog import service as catalog
from jobs.catalog.schemas import LANGUAGES, CatalogSeed
from jobs.providers import PROVIDERS, ToolKind

Factory = async_sessionmaker[AsyncSession]


def test_the_seed_is_valid_and_covers_every_category() -> None:
    seed = catalog.load_seed()
    assert len(seed.tools) >= 15
    assert {t.category for t in seed.tools} == set(ToolCategory)
    kinds = {t.kind for t in seed.tools}
    for needed in (
        ToolKind.TEXT_TO_IMAGE,
        ToolKind.IMAGE_TO_VIDEO,
        ToolKind.TEXT_TO_AUDIO,
        ToolKind.TEXT_TO_SPEECH,
        ToolKind.SPEECH_TO_TEXT,
        ToolKind.MERGE_VIDEO_AUDIO,
        ToolKind.IMAGE_UPSCALE,
        ToolKind.IMAGE_VARIATION,
        ToolKind.TEXT,
    ):
        assert needed in kinds
    for tool in seed.tools:
        Draft202012Validator.check_schema(tool.params_schema)
        assert tool.provider in PROVIDERS
        for lang in LANGUAGES:
            assert tool.names[lang].strip() and tool.descriptions[lang].strip()
        # Translations are real: not the English text copied.
        assert len({tool.names[lang] for lang in LANGUAGES}) == len(LANGUAGES)
        assert tool.base_cost <= tool.price


def test_a_broken_seed_entry_is_refused() -> None:
    entry = catalog.load_seed().tools[0].model_dump(mode="json")
    entry["params_schema"]["properties"]["n"]["type"] = "integre"
    with pytest.raises(ValueError, match="not a valid JSON Schema"):
        CatalogSeed.model_validate({"version": 1, "languages": ["en"], "tools": [entry]})
    entry = catalog.load_seed().tools[0].model_dump(mode="json")
    del entry["names"]["ar"]
    with pytest.raises(ValueError, match="missing translations: ar"):
        CatalogSeed.model_validate({"version": 1, "languages": ["en"], "tools": [entry]})


async def test_sync_is_idempotent_and_keeps_platform_edits(session_factory: Factory) -> None:
    async with session_scope(session_factory) as session:
        first = await catalog.sync_catalog(session)
    async with session_scope(session_factory) as session:
        second = await catalog.sync_catalog(session)
    assert len(first.created) == len(catalog.load_seed().tools)
    assert second.created == [] and second.updated == []
    assert len(second.unchanged) == len(first.created)

    async with session_scope(session_factory) as session:
        await catalog.update_tool(session, "chat", price=3, is_active=False)
        with pytest.raises(ValidationError):
            await catalog.update_tool(session, "chat", base_cost=10)  # above the price
    seed = catalog.load_seed()
    changed = [
        t.model_copy(update={"price": 9}) if t.slug == "music-loop" else t for t in seed.tools
    ]
    async with session_scope(session_factory) as session:
        third = await catalog.sync_catalog(session, seed.model_copy(update={"tools": changed}))
        assert third.kept_edited == ["chat"] and third.updated == ["music-loop"]
        chat = await session.scalar(select(Tool).where(Tool.slug == "chat"))
        assert chat is not None and chat.price == 3 and not chat.is_active
        total = await session.scalar(select(func.count()).select_from(Tool))
    assert total == len(seed.tools)


async def test_tenants_hide_tools_and_set_their_own_prices(session_factory: Factory) -> None:
    async with session_scope(session_factory) as session:
        await catalog.sync_catalog(session)
        one, two = Tenant(name="One"), Tenant(name="Two")
        session.add_all([one, two])
        await session.flush()
        await catalog.set_tenant_tool(session, one.id, "music-loop", hidden=True)
        await catalog.set_tenant_tool(session, one.id, "video-from-image", price=5)
        await catalog.set_tenant_tool(session, one.id, "image-generate", markup_percent=150)
        with pytest.raises(ValidationError) as caught:
            await catalog.set_tenant_tool(session, one.id, "chat", price=0)
        assert "price" in caught.value.details["fields"]

        mine = {t.slug: t for t in await catalog.list_tools(session, one.id, language="tr")}
        theirs = {t.slug: t for t in await catalog.list_tools(session, two.id)}
        assert "music-loop" not in mine and "music-loop" in theirs
        assert mine["video-from-image"].price == 5 and theirs["video-from-image"].price == 3
        assert mine["image-generate"].price == 5  # 2 × 250 %
        assert mine["image-generate"].name == "Metinden görsel"
        with pytest.raises(NotFoundError):
            await catalog.get_tool(session, one.id, "music-loop")
        every = await catalog.list_tools(session, one.id, include_hidden=True)
        assert any(t.slug == "music-loop" and t.is_hidden for t in every)
        videos = await catalog.list_tools(session, two.id, category="video", language="ar")
        assert {t.category for t in videos} == {ToolCategory.VIDEO}
        assert all(t.name == t.name.strip() and t.description for t in videos)

        quote = await catalog.quote(
            session, one.id, "video-from-image", {"image": 1, "duration": 4.2}
        )
        assert (quote.units, quote.unit_price, quote.price, quote.base_cost) == (5, 5, 25, 5)
        default = await catalog.quote(session, two.id, "video-from-image", {})
        assert (default.units, default.price) == (4, 12)  # the schema's default duration
        images = await catalog.quote(session, two.id, "image-generate", {"prompt": "x", "n": 3})
        assert (images.units, images.price, images.base_cost) == (3, 12, 6)


async def test_parameter_errors_name_every_field(session_factory: Factory) -> None:
    async with session_scope(session_factory) as session:
        await catalog.sync_catalog(session)
        tool = await session.scalar(select(Tool).where(Tool.slug == "text-to-speech"))
        assert tool is not None
        with pytest.raises(ValidationError) as caught:
            catalog.validate_params(tool, {"voice": "robot", "speed": 9, "pitch": 2})
        fields = caught.value.details["fields"]
        assert set(fields) == {"text", "voice", "speed", "pitch"}
        assert caught.value.status_code == 422
        checked = catalog.validate_params(tool, {"text": "hello"})
        assert checked == {"text": "hello", "voice": "alloy", "speed": 1}
