"""Shapes of the catalogue at its edges: the seed file's entries, a tool as a tenant sees it,
and a price quote."""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.models.catalog import PricingModel, ToolCategory
from jobs.providers import ToolKind

LANGUAGES = ("en", "tr", "ru", "ar")
"""Every tool's name and description exist in each of these languages."""

MEDIA_TYPES = ("image", "video", "audio", "text")
INPUT_MARKER = "x-media"
"""A parameter whose schema carries ``"x-media": "image"`` is an input file (a drive file id)."""


class ToolSeed(BaseModel):
    """One entry of ``jobs/catalog/tools.json``, checked before it reaches the database."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    category: ToolCategory
    kind: ToolKind
    provider: str
    model: str | None = None
    names: dict[str, str]
    descriptions: dict[str, str]
    params_schema: dict[str, Any]
    preset: dict[str, Any] = Field(default_factory=dict)
    input_types: list[str] = Field(default_factory=list)
    output_types: list[str]
    pricing_model: PricingModel = PricingModel.PER_USE
    unit_param: str | None = None
    price: int = Field(ge=0)
    base_cost: int = Field(ge=0)
    timeout_s: int = Field(default=120, gt=0, le=3600)
    examples: list[dict[str, Any]] = Field(default_factory=list)
    is_active: bool = True

    @field_validator("names", "descriptions")
    @classmethod
    def _every_language(cls, value: dict[str, str]) -> dict[str, str]:
        missing = [lang for lang in LANGUAGES if not value.get(lang, "").strip()]
        if missing:
            raise ValueError(f"missing translations: {', '.join(missing)}")
        return value

    @field_validator("params_schema")
    @classmethod
    def _valid_schema(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            Draft202012Validator.check_schema(value)
        except SchemaError as exc:
            raise ValueError(f"not a valid JSON Schema: {exc.message}") from exc
        if value.get("type") != "object" or not isinstance(value.get("properties"), dict):
            raise ValueError("a tool's parameters must be an object schema with properties")
        return value

    @field_validator("input_types", "output_types")
    @classmethod
    def _media_types(cls, value: list[str]) -> list[str]:
        unknown = [t for t in value if t not in MEDIA_TYPES]
        if unknown:
            raise ValueError(f"unknown media types {unknown}; known: {MEDIA_TYPES}")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> ToolSeed:
        if self.base_cost > self.price:
            raise ValueError("price must cover the base cost")
        properties: dict[str, Any] = self.params_schema["properties"]
        if self.pricing_model is not PricingModel.PER_USE and (
            not self.unit_param or self.unit_param not in properties
        ):
            raise ValueError(f"{self.pricing_model} pricing needs a unit_param in the schema")
        declared = sorted(
            {
                p[INPUT_MARKER]
                for p in properties.values()
                if isinstance(p, dict) and INPUT_MARKER in p
            }
        )
        if declared != sorted(set(self.input_types)):
            raise ValueError(f"input_types {self.input_types} do not match the schema's {declared}")
        validator = Draft202012Validator(self.params_schema)
        for example in self.examples:
            sample = {
                name: 1
                for name, p in properties.items()
                if isinstance(p, dict) and INPUT_MARKER in p
            } | example
            errors = [e.message for e in validator.iter_errors(sample)]
            if errors:
                raise ValueError(f"example {example} is invalid: {errors}")
        return self


class CatalogSeed(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int
    languages: list[str]
    tools: list[ToolSeed]

    @model_validator(mode="after")
    def _unique_slugs(self) -> CatalogSeed:
        slugs = [t.slug for t in self.tools]
        duplicates = sorted({s for s in slugs if slugs.count(s) > 1})
        if duplicates:
            raise ValueError(f"duplicate slugs: {duplicates}")
        return self


class ToolView(BaseModel):
    """A tool as one tenant offers it, in one language, with that tenant's price."""

    slug: str
    name: str
    description: str
    category: ToolCategory
    kind: str
    provider: str
    model: str | None
    params_schema: dict[str, Any]
    input_types: list[str]
    output_types: list[str]
    pricing_model: PricingModel
    unit_param: str | None
    price: int
    """Credits per unit for the fan (the tenant's price)."""
    base_cost: int
    examples: list[dict[str, Any]]
    timeout_s: int
    is_hidden: bool = False


class Quote(BaseModel):
    """What one run costs: ``price`` fan credits, ``base_cost`` of the tenant's platform balance."""

    tool: str
    units: int
    unit_price: int
    price: int
    unit_base_cost: int
    base_cost: int


class SyncReport(BaseModel):
    created: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    unchanged: list[str] = Field(default_factory=list)
    kept_edited: list[str] = Field(default_factory=list)
