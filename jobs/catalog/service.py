"""The catalogue's rules: seeding, what a tenant offers at which price, parameter checks, quotes.

Tools are data. ``tools.json`` (reviewed like code) is loaded by :func:`sync_catalog`, which is
idempotent: an unchanged entry is left alone, a changed one is updated, and a tool the platform
edited by hand (:func:`update_tool`) is never overwritten by the seed again. Tenants only hide
tools or price them (:func:`set_tenant_tool`); a tenant's price never goes below the base cost
the platform meters.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import utcnow
from core.errors import NotFoundError, ValidationError
from core.models.catalog import PricingModel, TenantToolSettings, Tool, ToolCategory
from jobs.catalog import repository as repo
from jobs.catalog.schemas import (
    INPUT_MARKER,
    CatalogSeed,
    Quote,
    SyncReport,
    ToolSeed,
    ToolView,
)

SEED_PATH = Path(__file__).with_name("tools.json")
DEFAULT_LANGUAGE = "en"
_UNSET: Any = object()

EDITABLE_FIELDS = frozenset(
    {
        "names",
        "descriptions",
        "category",
        "provider",
        "model",
        "params_schema",
        "preset",
        "input_types",
        "output_types",
        "pricing_model",
        "unit_param",
        "price",
        "base_cost",
        "examples",
        "is_active",
        "timeout_s",
        "sort_order",
    }
)


# -- seeding -----------------------------------------------------------------------------------


def load_seed(path: Path | None = None) -> CatalogSeed:
    """Read and check the seed file (every schema valid, every language present)."""
    raw = json.loads((path or SEED_PATH).read_text(encoding="utf-8"))
    return CatalogSeed.model_validate(raw)


def _seed_hash(seed: ToolSeed) -> str:
    canonical = json.dumps(seed.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _apply_seed(tool: Tool, seed: ToolSeed, order: int) -> None:
    data = seed.model_dump(mode="json")
    for field, value in data.items():
        setattr(tool, field, value)
    tool.sort_order = order
    tool.seed_hash = _seed_hash(seed)


async def sync_catalog(session: AsyncSession, seed: CatalogSeed | None = None) -> SyncReport:
    """Bring the ``tools`` table in line with the seed; safe to run on every start-up."""
    seed = seed or load_seed()
    existing = {tool.slug: tool for tool in await repo.all_tools(session)}
    report = SyncReport()
    for order, entry in enumerate(seed.tools):
        tool = existing.get(entry.slug)
        if tool is None:
            tool = Tool(slug=entry.slug)
            _apply_seed(tool, entry, order)
            session.add(tool)
            report.created.append(entry.slug)
        elif tool.edited_at is not None:
            report.kept_edited.append(entry.slug)
        elif tool.seed_hash == _seed_hash(entry) and tool.sort_order == order:
            report.unchanged.append(entry.slug)
        else:
            _apply_seed(tool, entry, order)
            report.updated.append(entry.slug)
    await session.flush()
    return report


async def update_tool(session: AsyncSession, slug: str, **changes: Any) -> Tool:
    """A platform edit of a tool; the seed will not overwrite it afterwards.

    The result must still be a valid tool (the same checks as the seed file's).
    """
    tool = await _tool_row(session, slug, active_only=False)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown:
        raise ValidationError("these tool fields cannot be edited", fields=sorted(unknown))
    current = {field: getattr(tool, field) for field in ToolSeed.model_fields if field != "slug"}
    current.update(changes)
    try:
        checked = ToolSeed.model_validate({"slug": tool.slug, **current})
    except ValueError as exc:
        raise ValidationError("the edited tool is invalid", error=str(exc)) from exc
    for field in changes:
        setattr(tool, field, getattr(checked, field))
    tool.edited_at = utcnow()
    await session.flush()
    return tool


# -- reading -----------------------------------------------------------------------------------


async def _tool_row(session: AsyncSession, slug: str, *, active_only: bool = True) -> Tool:
    tool = await repo.tool_by_slug(session, slug)
    if tool is None or (active_only and not tool.is_active):
        raise NotFoundError("no such tool", tool=slug)
    return tool


async def get_tool_row(session: AsyncSession, slug: str, tenant_id: int) -> Tool:
    """The active tool ``slug`` as the tenant offers it (hidden tools are ``NotFoundError``)."""
    tool = await _tool_row(session, slug)
    setting = await repo.tenant_setting(session, tenant_id, tool.id)
    if setting is not None and setting.is_hidden:
        raise NotFoundError("no such tool", tool=slug)
    return tool


def _localized(values: Mapping[str, str], language: str) -> str:
    return values.get(language) or values.get(DEFAULT_LANGUAGE) or next(iter(values.values()), "")


def tenant_unit_price(tool: Tool, setting: TenantToolSettings | None) -> int:
    """Fan credits per unit in this tenant: its fixed price, its markup, or the tool's price."""
    if setting is not None and setting.price is not None:
        return max(setting.price, tool.base_cost)
    if setting is not None and setting.markup_percent is not None:
        return math.ceil(tool.base_cost * (100 + setting.markup_percent) / 100)
    return tool.price


def _view(tool: Tool, setting: TenantToolSettings | None, language: str) -> ToolView:
    return ToolView(
        slug=tool.slug,
        name=_localized(tool.names, language),
        description=_localized(tool.descriptions, language),
        category=ToolCategory(tool.category),
        kind=tool.kind,
        provider=tool.provider,
        model=tool.model,
        params_schema=tool.params_schema,
        input_types=list(tool.input_types),
        output_types=list(tool.output_types),
        pricing_model=PricingModel(tool.pricing_model),
        unit_param=tool.unit_param,
        price=tenant_unit_price(tool, setting),
        base_cost=tool.base_cost,
        examples=list(tool.examples),
        timeout_s=tool.timeout_s,
        is_hidden=bool(setting and setting.is_hidden),
    )


async def list_tools(
    session: AsyncSession,
    tenant_id: int,
    *,
    language: str = DEFAULT_LANGUAGE,
    category: ToolCategory | str | None = None,
    include_hidden: bool = False,
) -> list[ToolView]:
    """Active tools the tenant offers (its hidden ones too with ``include_hidden``, for the
    creator panel), each with the tenant's price, in catalogue order."""
    settings = await repo.tenant_settings(session, tenant_id)
    views = []
    for tool in await repo.all_tools(session, active_only=True):
        setting = settings.get(tool.id)
        if setting is not None and setting.is_hidden and not include_hidden:
            continue
        if category is not None and tool.category != ToolCategory(category):
            continue
        views.append(_view(tool, setting, language))
    return views


async def get_tool(
    session: AsyncSession, tenant_id: int, slug: str, *, language: str = DEFAULT_LANGUAGE
) -> ToolView:
    tool = await get_tool_row(session, slug, tenant_id)
    return _view(tool, await repo.tenant_setting(session, tenant_id, tool.id), language)


async def set_tenant_tool(
    session: AsyncSession,
    tenant_id: int,
    slug: str,
    *,
    hidden: bool | None = None,
    price: int | None = _UNSET,
    markup_percent: int | None = _UNSET,
) -> ToolView:
    """Hide/show a tool for a tenant and/or set its price per unit (``None`` clears a price).

    A fixed ``price`` below the tool's base cost is refused: the tenant would pay the platform
    more than its fans pay it.
    """
    tool = await _tool_row(session, slug)
    setting = await repo.tenant_setting(session, tenant_id, tool.id)
    if setting is None:
        setting = TenantToolSettings(tenant_id=tenant_id, tool_id=tool.id, is_hidden=False)
        session.add(setting)
    if hidden is not None:
        setting.is_hidden = hidden
    if price is not _UNSET:
        if price is not None and (isinstance(price, bool) or price < tool.base_cost):
            raise ValidationError(
                "the price must be at least the base cost",
                fields={"price": f"must be >= {tool.base_cost}"},
            )
        setting.price = price
    if markup_percent is not _UNSET:
        if markup_percent is not None and markup_percent < 0:
            raise ValidationError(
                "the markup cannot be negative", fields={"markup_percent": "must be >= 0"}
            )
        setting.markup_percent = markup_percent
    await session.flush()
    return _view(tool, setting, DEFAULT_LANGUAGE)


# -- parameters and prices ---------------------------------------------------------------------


@cache
def _validator(schema_json: str) -> Draft202012Validator:
    return Draft202012Validator(json.loads(schema_json))


def validator_for(tool: Tool) -> Draft202012Validator:
    return _validator(json.dumps(tool.params_schema, sort_keys=True))


def input_params(tool: Tool) -> dict[str, str]:
    """Parameter name → media type (``image``, ``audio``…) of the tool's input files."""
    return {
        name: str(spec[INPUT_MARKER])
        for name, spec in tool.params_schema.get("properties", {}).items()
        if isinstance(spec, dict) and INPUT_MARKER in spec
    }


def with_defaults(tool: Tool, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` plus the schema's top-level defaults for what is missing."""
    merged = dict(params)
    for name, spec in tool.params_schema.get("properties", {}).items():
        if name not in merged and isinstance(spec, dict) and "default" in spec:
            merged[name] = spec["default"]
    return merged


def _field_errors(
    tool: Tool, params: Mapping[str, Any], ignore_missing: frozenset[str] = frozenset()
) -> dict[str, str]:
    fields: dict[str, str] = {}
    properties = tool.params_schema.get("properties", {})
    for error in validator_for(tool).iter_errors(dict(params)):
        for name, message in _describe(error, params, properties):
            if name in ignore_missing and message == "is required":
                continue
            fields.setdefault(name, message)
    return fields


def _describe(
    error: SchemaValidationError, params: Mapping[str, Any], properties: Mapping[str, Any]
) -> list[tuple[str, str]]:
    if error.validator == "required" and not error.path:
        return [(str(n), "is required") for n in error.validator_value if n not in params]
    if error.validator == "additionalProperties" and not error.path:
        return [(str(n), "is not a parameter of this tool") for n in params if n not in properties]
    name = ".".join(str(part) for part in error.path) or "params"
    return [(name, error.message)]


def validate_params(
    tool: Tool, params: Mapping[str, Any], *, pending: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """Check ``params`` against the tool's JSON Schema; return them with defaults applied.

    Raises :class:`~core.errors.ValidationError` whose ``details["fields"]`` maps every bad
    parameter to what is wrong with it. ``pending`` names parameters that will be filled in
    later (a workflow step's references to earlier outputs): their absence is not an error.
    """
    if not isinstance(params, Mapping):
        raise ValidationError("parameters must be an object", fields={"params": "not an object"})
    fields = _field_errors(tool, params, pending)
    if fields:
        raise ValidationError(
            f"invalid parameters for {tool.slug}: "
            + "; ".join(f"{k} {v}" for k, v in fields.items()),
            tool=tool.slug,
            fields=fields,
        )
    return with_defaults(tool, params)


def unit_count(tool: Tool, params: Mapping[str, Any]) -> int:
    """How many priced units a run with ``params`` (defaults applied) uses."""
    model = PricingModel(tool.pricing_model)
    if model is PricingModel.PER_USE or not tool.unit_param:
        return 1
    value = with_defaults(tool, params).get(tool.unit_param, 1)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(
            f"{tool.unit_param} must be a number",
            fields={tool.unit_param: "must be a number (it sets the price)"},
        )
    units = math.ceil(value) if model is PricingModel.PER_SECOND else int(value)
    return max(1, units)


def price_for(tool: Tool, setting: TenantToolSettings | None, params: Mapping[str, Any]) -> Quote:
    units = unit_count(tool, params)
    unit_price = tenant_unit_price(tool, setting)
    return Quote(
        tool=tool.slug,
        units=units,
        unit_price=unit_price,
        price=units * unit_price,
        unit_base_cost=tool.base_cost,
        base_cost=units * tool.base_cost,
    )


async def quote(
    session: AsyncSession, tenant_id: int, slug: str, params: Mapping[str, Any]
) -> Quote:
    """The price of one run of ``slug`` with ``params`` in this tenant (params are validated)."""
    tool = await get_tool_row(session, slug, tenant_id)
    checked = validate_params(tool, params, pending=frozenset(input_params(tool)))
    return price_for(tool, await repo.tenant_setting(session, tenant_id, tool.id), checked)


async def tenant_setting_of(
    session: AsyncSession, tenant_id: int, tool: Tool
) -> TenantToolSettings | None:
    return await repo.tenant_setting(session, tenant_id, tool.id)
