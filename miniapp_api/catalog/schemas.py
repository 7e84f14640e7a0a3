"""Shapes of the tool store API. Fans see the tenant's price, never the platform's base cost."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from core.models.catalog import PricingModel, ToolCategory
from jobs.catalog.schemas import ToolView


class CategoryOut(BaseModel):
    category: ToolCategory
    tools: int


class ToolOut(BaseModel):
    slug: str
    name: str
    description: str
    category: ToolCategory
    kind: str
    price: int = Field(description="Credits per unit in this bot.")
    pricing_model: PricingModel
    unit_param: str | None
    input_types: list[str]
    output_types: list[str]
    favourite: bool

    @classmethod
    def of(cls, tool: ToolView, favourite: bool) -> ToolOut:
        return cls(
            slug=tool.slug,
            name=tool.name,
            description=tool.description,
            category=tool.category,
            kind=tool.kind,
            price=tool.price,
            pricing_model=tool.pricing_model,
            unit_param=tool.unit_param,
            input_types=tool.input_types,
            output_types=tool.output_types,
            favourite=favourite,
        )


class ToolDetail(ToolOut):
    params_schema: dict[str, Any] = Field(
        description='JSON Schema of the parameters ("x-media" marks a drive file input).'
    )
    examples: list[dict[str, Any]]
    timeout_s: int

    @classmethod
    def detail(cls, tool: ToolView, favourite: bool) -> ToolDetail:
        return cls(
            **ToolOut.of(tool, favourite).model_dump(),
            params_schema=tool.params_schema,
            examples=tool.examples,
            timeout_s=tool.timeout_s,
        )


class QuoteIn(BaseModel):
    params: dict[str, Any] = Field(default_factory=dict)


class QuoteOut(BaseModel):
    tool: str
    units: int
    unit_price: int
    price: int


class RunIn(BaseModel):
    params: dict[str, Any] = Field(default_factory=dict)
    inputs: dict[str, int] | None = Field(
        default=None, description="Input file parameters → drive file ids (or put them in params)."
    )
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Retrying with the same key returns the job first created, charged once.",
    )
