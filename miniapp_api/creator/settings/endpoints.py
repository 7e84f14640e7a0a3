"""The creator's settings. Changes that the bot caches (languages, welcome text, referral
reward) are announced to every bot process by bumping the bot's route version after the
commit; packs and tool prices are read fresh on each use and need no announcement."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Response, status

from bot.i18n import SUPPORTED_LANGUAGES
from core.errors import NotFoundError
from jobs.broadcasts.ratelimit import quota_key, today
from jobs.catalog import repository as catalog_repo
from jobs.catalog import service as catalog
from miniapp_api.creator.deps import Creator, CreatorDep
from miniapp_api.creator.settings.schemas import (
    LimitOut,
    PackIn,
    PackOut,
    PackPatch,
    PacksOut,
    PlanOut,
    SettingsOut,
    SettingsPatch,
    ToolPriceOut,
    ToolPricePatch,
    ToolsOut,
)
from miniapp_api.deps import RedisDep, SessionDep
from miniapp_api.tasks.deps import RuntimeDep
from tenants import plans, texts
from tenants.groups import service as groups
from tenants.panel import service as panel
from tenants.panel import settings as rules
from tenants.webhooks import bump_route_version

router = APIRouter()
plan_router = APIRouter()
PackId = Annotated[int, Path(ge=1, le=2**63 - 1)]
Slug = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]
WELCOME = "start.welcome"


async def _settings_out(creator: Creator, session: SessionDep, runtime: RuntimeDep) -> SettingsOut:
    tenant = creator.tenant
    overrides = await texts.load_overrides(session, tenant.id)
    return SettingsOut(
        name=tenant.name,
        default_language=tenant.default_language,
        languages=rules.enabled_languages(tenant),
        referral_reward=rules.referral_reward(tenant),
        chat_history=rules.chat_history(tenant),
        welcome={lang: overrides.get((WELCOME, lang)) for lang in SUPPORTED_LANGUAGES},
        welcome_defaults={
            lang: runtime.i18n.gettext(texts.TEXTS[WELCOME].default, locale=lang)
            for lang in SUPPORTED_LANGUAGES
        },
    )


@router.get("")
async def get_settings(
    creator: CreatorDep, session: SessionDep, runtime: RuntimeDep
) -> SettingsOut:
    return await _settings_out(creator, session, runtime)


@router.patch("")
async def update_settings(
    body: SettingsPatch,
    creator: CreatorDep,
    session: SessionDep,
    runtime: RuntimeDep,
    redis: RedisDep,
    background: BackgroundTasks,
) -> SettingsOut:
    changes = body.model_dump(exclude_unset=True, exclude={"welcome"})
    rules.update_settings(creator.tenant, changes)
    for language, template in (body.welcome or {}).items():
        if template is None:
            await texts.clear_override(session, creator.tenant.id, WELCOME, language)
        else:
            await texts.save_override(session, creator.tenant.id, WELCOME, language, template)
    await session.flush()
    background.add_task(bump_route_version, redis, creator.user.bot_id)
    return await _settings_out(creator, session, runtime)


# -- credit packs --------------------------------------------------------------------------------


@router.get("/packs")
async def list_packs(creator: CreatorDep, session: SessionDep) -> PacksOut:
    """Every pack, retired ones last; fans see the active ones, cheapest first."""
    packs = await rules.all_packs(session, creator.tenant.id)
    return PacksOut(items=[PackOut.of(pack) for pack in packs])


@router.post("/packs", status_code=status.HTTP_201_CREATED)
async def create_pack(body: PackIn, creator: CreatorDep, session: SessionDep) -> PackOut:
    pack = await rules.create_pack(session, creator.tenant.id, **body.model_dump())
    return PackOut.of(pack)


@router.patch("/packs/{pack_id}")
async def update_pack(
    pack_id: PackId, body: PackPatch, creator: CreatorDep, session: SessionDep
) -> PackOut:
    pack = await rules.update_pack(
        session, creator.tenant.id, pack_id, body.model_dump(exclude_unset=True)
    )
    return PackOut.of(pack)


@router.delete("/packs/{pack_id}", status_code=status.HTTP_204_NO_CONTENT)
async def retire_pack(pack_id: PackId, creator: CreatorDep, session: SessionDep) -> Response:
    """Stop offering the pack (kept for the orders that name it)."""
    await rules.retire_pack(session, creator.tenant.id, pack_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# -- tool prices ---------------------------------------------------------------------------------


@router.get("/tools")
async def list_tool_prices(creator: CreatorDep, session: SessionDep) -> ToolsOut:
    tenant_id = creator.tenant.id
    settings = await catalog_repo.tenant_settings(session, tenant_id)
    items = []
    for tool in await catalog_repo.all_tools(session, active_only=True):
        setting = settings.get(tool.id)
        items.append(
            ToolPriceOut(
                slug=tool.slug,
                name=tool.names.get(creator.tenant.default_language) or tool.slug,
                category=str(tool.category),
                pricing_model=str(tool.pricing_model),
                base_cost=tool.base_cost,
                default_price=tool.price,
                price=catalog.tenant_unit_price(tool, setting),
                custom_price=setting.price if setting else None,
                markup_percent=setting.markup_percent if setting else None,
                is_hidden=bool(setting and setting.is_hidden),
            )
        )
    return ToolsOut(items=items)


@router.patch("/tools/{slug}")
async def update_tool_price(
    slug: Slug, body: ToolPricePatch, creator: CreatorDep, session: SessionDep
) -> ToolPriceOut:
    """Hide or show a tool and set its price: a fixed price per unit (not below the base
    cost) or a markup over the base cost; null clears either."""
    changes = body.model_dump(exclude_unset=True)
    view = await catalog.set_tenant_tool(
        session,
        creator.tenant.id,
        slug,
        hidden=changes.pop("is_hidden", None),
        **changes,
    )
    for item in (await list_tool_prices(creator, session)).items:
        if item.slug == view.slug:
            return item
    raise NotFoundError("no such tool", slug=slug)


# -- the plan ------------------------------------------------------------------------------------


@plan_router.get("")
async def plan(creator: CreatorDep, session: SessionDep, redis: RedisDep) -> PlanOut:
    """The plan, its limits, and what is used of them (for usage bars). Broadcast messages:
    what the broadcast quota counted today (UTC). Assistant messages: the replies answered
    today (its counter goes on counting refusals past the limit)."""
    tenant = creator.tenant
    usage = await panel.plan_usage(session, tenant)
    async with redis.pipeline(transaction=False) as pipe:
        pipe.get(quota_key(tenant.id, today()))
        pipe.get(plans.assistant_quota_key(tenant.id, plans.utc_day()))
        sent_today, asked_today = await pipe.execute()
    limits = usage.limits
    answered = int(asked_today or 0)
    if limits.messages_per_day is not None:
        answered = min(answered, limits.messages_per_day)
    return PlanOut(
        code=usage.code,
        name=usage.name,
        custom=usage.custom,
        api_access=limits.api_access,
        storage_bytes=LimitOut(limit=limits.storage_quota_bytes, used=usage.storage_bytes),
        broadcast_messages_per_day=LimitOut(
            limit=limits.daily_broadcast_messages, used=int(sent_today or 0)
        ),
        assistant_messages_per_day=LimitOut(limit=limits.messages_per_day, used=answered),
        groups=LimitOut(limit=limits.max_groups, used=await groups.groups_used(session, tenant.id)),
        monthly_credits=limits.monthly_credits,
        platform_balance=usage.platform_balance,
        period_end=usage.period_end,
        expired_at=usage.expired_at,
    )
