"""Levels from XP: a ladder of thresholds with a name per language.

A tenant may set its own ladder in ``tenant.config["levels"]``::

    [{"xp": 0, "names": {"en": "Rookie", "tr": "Çaylak"}}, {"xp": 250, "names": {...}}, ...]

(thresholds ascending from 0; a name missing in a language falls back to the tenant's default
language, then to any name given). Without one, :data:`DEFAULT_LADDER` applies, whose names
are the translated texts ``level.1`` … ``level.5`` (``level.other`` past them), so creators
can also rename them per language in the texts editor.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import ValidationError
from tenants.texts import LANGUAGES

MAX_LEVELS = 20
MAX_NAME_CHARS = 32
Translate = Callable[..., str]
"""``translate(key, **variables)``: a text in the fan's language (the bot's ``Texts``)."""
DEFAULT_LADDER: tuple[int, ...] = (0, 100, 300, 700, 1500)
"""XP needed for levels 1 to 5 by default."""


@dataclass(frozen=True, slots=True)
class LevelSpec:
    xp: int
    names: Mapping[str, str]  # empty: the default translated name ``level.<n>``


@dataclass(frozen=True, slots=True)
class Level:
    number: int  # 1-based
    name: str
    xp: int  # the fan's XP
    floor: int  # XP where this level starts
    next_at: int | None  # XP where the next one starts (None: the top)


def ladder(config: Mapping[str, Any] | None) -> list[LevelSpec]:
    """The tenant's ladder, or the default one (also when the stored one is unusable)."""
    raw = (config or {}).get("levels")
    if raw:
        try:
            return parse_ladder(raw)
        except ValidationError:
            pass  # hand-edited config: never fail a fan's request over it
    return [LevelSpec(xp=xp, names={}) for xp in DEFAULT_LADDER]


def parse_ladder(raw: Any) -> list[LevelSpec]:
    """Check a ladder from the panel: 1–20 levels, the first at 0 XP, strictly ascending,
    names of at most 32 characters in supported languages."""
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_LEVELS:
        raise ValidationError(f"give between 1 and {MAX_LEVELS} levels")
    levels = []
    previous = -1
    for index, item in enumerate(raw, start=1):
        if not isinstance(item, Mapping):
            raise ValidationError(f"level {index} is not an object")
        xp, names = item.get("xp"), item.get("names") or {}
        if not isinstance(xp, int) or isinstance(xp, bool) or xp <= previous:
            raise ValidationError(f"level {index}: XP thresholds must rise", level=index)
        if index == 1 and xp != 0:
            raise ValidationError("the first level starts at 0 XP", level=index)
        levels.append(LevelSpec(xp=xp, names=_names(index, names)))
        previous = xp
    return levels


def _names(index: int, names: Any) -> dict[str, str]:
    if not isinstance(names, Mapping):
        raise ValidationError(f"level {index}: names must map languages to names")
    clean = {}
    for language, name in names.items():
        if language not in LANGUAGES:
            raise ValidationError(f"level {index}: unsupported language {language!r}")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME_CHARS:
            raise ValidationError(
                f"level {index}: a name has 1 to {MAX_NAME_CHARS} characters", level=index
            )
        clean[language] = name.strip()
    return clean


def dump_ladder(levels: Sequence[LevelSpec]) -> list[dict[str, Any]]:
    return [{"xp": level.xp, "names": dict(level.names)} for level in levels]


def level_of(
    xp: int,
    levels: Sequence[LevelSpec],
    *,
    language: str,
    fallback_language: str,
    translate: Translate,
) -> Level:
    """The level ``xp`` reaches; ``translate(key)`` gives the default name ``level.<n>``."""
    index = 0
    for position, spec in enumerate(levels):
        if xp >= spec.xp:
            index = position
    spec = levels[index]
    next_at = levels[index + 1].xp if index + 1 < len(levels) else None
    return Level(
        number=index + 1,
        name=name_of(spec, index + 1, language, fallback_language, translate),
        xp=xp,
        floor=spec.xp,
        next_at=next_at,
    )


def name_of(
    spec: LevelSpec,
    number: int,
    language: str,
    fallback_language: str,
    translate: Translate,
) -> str:
    if spec.names:
        return (
            spec.names.get(language)
            or spec.names.get(fallback_language)
            or next(iter(spec.names.values()))
        )
    if number <= len(DEFAULT_LADDER):
        return translate(f"level.{number}")
    return translate("level.other", level=number)
