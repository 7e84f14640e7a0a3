"""Shapes of the texts editor."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tenants.texts import MAX_TEMPLATE_CHARS


class TextOut(BaseModel):
    key: str
    variables: list[str]
    defaults: dict[str, str] = Field(description="Our text per language (a template).")
    overrides: dict[str, str] = Field(description="The creator's own, per language.")


class TextsOut(BaseModel):
    languages: list[str]
    items: list[TextOut]


class TemplateIn(BaseModel):
    template: str = Field(max_length=MAX_TEMPLATE_CHARS * 2)


class OverrideOut(BaseModel):
    key: str
    language: str
    template: str


class PreviewIn(BaseModel):
    key: str = Field(max_length=64)
    language: str = Field(max_length=8)
    template: str | None = Field(
        default=None,
        max_length=MAX_TEMPLATE_CHARS * 2,
        description="A draft to render; without it, the text as fans get it now.",
    )
    variables: dict[str, str | int] = Field(
        default_factory=dict, max_length=32, description="Values over the sample ones."
    )


class PreviewOut(BaseModel):
    text: str
    source: str = Field(description="draft, override or default")
