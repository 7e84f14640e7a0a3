"""The texts editor. Saving runs the sandbox check of :mod:`tenants.texts` (a refused template
answers 422 ``template_rejected`` with ``details.line`` and ``details.reason``); saves and
resets reach every bot process through the route version, bumped after the commit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Response, status

from bot.i18n import SUPPORTED_LANGUAGES
from core.errors import ValidationError
from miniapp_api.creator.deps import CreatorDep
from miniapp_api.creator.texts.schemas import (
    OverrideOut,
    PreviewIn,
    PreviewOut,
    TemplateIn,
    TextOut,
    TextsOut,
)
from miniapp_api.deps import RedisDep, SessionDep
from miniapp_api.tasks.deps import RuntimeDep
from tenants import texts
from tenants.webhooks import bump_route_version

router = APIRouter()
Key = Annotated[str, Path(max_length=64, pattern=r"^[a-z0-9_.]+$")]
Language = Annotated[str, Path(max_length=8)]
PLATFORM_ONLY = ("manager.", "plans.", "billing.")
"""Texts of the platform's manager bot, not of a creator's bot: not offered for editing."""


def editable(key: str) -> bool:
    return key in texts.TEXTS and not key.startswith(PLATFORM_ONLY)


def _check_editable(key: str) -> None:
    if not editable(key):
        raise texts.UnknownTextError(f"no text with key {key!r}", key=key)


@router.get("")
async def list_texts(creator: CreatorDep, session: SessionDep, runtime: RuntimeDep) -> TextsOut:
    overrides = await texts.load_overrides(session, creator.tenant.id)
    items = []
    for key, spec in texts.TEXTS.items():
        if not editable(key):
            continue
        items.append(
            TextOut(
                key=key,
                variables=list(spec.variables),
                defaults={
                    lang: runtime.i18n.gettext(spec.default, locale=lang)
                    for lang in SUPPORTED_LANGUAGES
                },
                overrides={
                    lang: overrides[(key, lang)]
                    for lang in SUPPORTED_LANGUAGES
                    if (key, lang) in overrides
                },
            )
        )
    return TextsOut(languages=list(SUPPORTED_LANGUAGES), items=items)


@router.put("/{key}/{language}")
async def save_text(
    key: Key,
    language: Language,
    body: TemplateIn,
    creator: CreatorDep,
    session: SessionDep,
    redis: RedisDep,
    background: BackgroundTasks,
) -> OverrideOut:
    _check_editable(key)
    row = await texts.save_override(session, creator.tenant.id, key, language, body.template)
    background.add_task(bump_route_version, redis, creator.user.bot_id)
    return OverrideOut(key=row.key, language=row.language, template=row.template)


@router.delete("/{key}/{language}", status_code=status.HTTP_204_NO_CONTENT)
async def reset_text(
    key: Key,
    language: Language,
    creator: CreatorDep,
    session: SessionDep,
    redis: RedisDep,
    background: BackgroundTasks,
) -> Response:
    """Back to our default text in that language."""
    _check_editable(key)
    if not await texts.clear_override(session, creator.tenant.id, key, language):
        raise texts.UnknownTextError("this text has no override in that language", key=key)
    background.add_task(bump_route_version, redis, creator.user.bot_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/preview")
async def preview(
    body: PreviewIn, creator: CreatorDep, session: SessionDep, runtime: RuntimeDep
) -> PreviewOut:
    """Render a draft (checked exactly as saving would) or the current text with sample
    values, the bot's own name and the caller's variables."""
    _check_editable(body.key)
    if body.language not in SUPPORTED_LANGUAGES:
        raise ValidationError(f"unsupported language {body.language!r}", field="language")
    values = {
        **texts.SAMPLE_VALUES,
        "bot_name": creator.tenant.name,
        **body.variables,
    }
    if body.template is not None:
        texts.check_template(body.template)
        return PreviewOut(text=texts.render(body.template, values), source="draft")
    overrides = await texts.load_overrides(session, creator.tenant.id)
    override = overrides.get((body.key, body.language))
    default = runtime.i18n.gettext(texts.TEXTS[body.key].default, locale=body.language)
    rendered = texts.render_with_fallback(override, default, values, context=body.key)
    return PreviewOut(text=rendered, source="override" if override else "default")
