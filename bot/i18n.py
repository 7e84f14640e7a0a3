"""Languages of the bot: gettext catalogues (aiogram's ``I18n``) plus tenant overrides.

A fan's language is their own choice (``/language``), else Telegram's ``language_code`` when
we speak it, else the tenant's default language. :class:`Texts` is what handlers call to get a
text: the tenant's override for that language if there is one, else our translated default,
both rendered by :mod:`tenants.texts` with the same variables.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any

from aiogram.utils.i18n import I18n

from bot.locales.compile import LOCALES_DIR, ensure_compiled
from tenants.texts import LANGUAGES, TEXTS, render_with_fallback

DEFAULT_LANGUAGE = "en"
SUPPORTED_LANGUAGES: tuple[str, ...] = LANGUAGES
LANGUAGE_NAMES: dict[str, str] = {
    "en": "English",
    "tr": "Türkçe",
    "ru": "Русский",
    "ar": "العربية",
}
_EMPTY: Mapping[tuple[str, str], str] = {}


@lru_cache(maxsize=1)
def create_i18n() -> I18n:
    """The process-wide catalogues, compiled first if a ``.mo`` is missing or stale."""
    return I18n(path=ensure_compiled(LOCALES_DIR), default_locale=DEFAULT_LANGUAGE)


def supported(code: str | None) -> str | None:
    """``"pt-br"`` → None, ``"ru-RU"`` → ``"ru"``: Telegram sends IETF tags, we need ours."""
    if not code:
        return None
    short = code.split("-", 1)[0].split("_", 1)[0].lower()
    return short if short in SUPPORTED_LANGUAGES else None


def pick_language(
    choice: str | None,
    telegram_code: str | None,
    tenant_default: str,
    enabled: Collection[str] = SUPPORTED_LANGUAGES,
) -> str:
    """The fan's choice if the tenant enables it, else Telegram's code if enabled, else the
    tenant default. A choice the creator later disabled falls back instead of lingering; the
    stored choice is kept, so re-enabling the language brings it back."""
    for code in (supported(choice), supported(telegram_code)):
        if code is not None and code in enabled:
            return code
    return supported(tenant_default) or DEFAULT_LANGUAGE


def enabled_languages(config: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The languages a tenant offers (``config["languages"]``; default: all we speak).

    Computed once per route load (:mod:`bot.routing`), never per update."""
    raw = (config or {}).get("languages")
    if isinstance(raw, list):
        chosen = tuple(code for code in SUPPORTED_LANGUAGES if code in raw)
        if chosen:
            return chosen
    return SUPPORTED_LANGUAGES


class Texts:
    """Every fan-facing text of one update, in one language: ``texts("start.welcome")``.

    ``base`` holds the variables every text may use (names of the fan and the bot); a call
    adds its own (``balance=...``).
    """

    __slots__ = ("base", "i18n", "locale", "overrides")

    def __init__(
        self,
        i18n: I18n,
        locale: str,
        overrides: Mapping[tuple[str, str], str] | None = None,
        base: Mapping[str, Any] | None = None,
    ) -> None:
        self.i18n = i18n
        self.locale = locale
        self.overrides = overrides or _EMPTY
        self.base = dict(base or {})

    def __call__(self, key: str, **variables: Any) -> str:
        spec = TEXTS[key]
        default = self.i18n.gettext(spec.default, locale=self.locale)
        override = self.overrides.get((key, self.locale)) if self.overrides else None
        values = {**self.base, **variables} if variables else self.base
        return render_with_fallback(override, default, values, context=f"{key}/{self.locale}")

    def gettext(self, message: str) -> str:
        """A plain catalogue string (command descriptions), no template, no override."""
        return self.i18n.gettext(message, locale=self.locale)

    def with_locale(self, locale: str) -> Texts:
        return Texts(self.i18n, locale, self.overrides, self.base)

    def error_text(self, codes: list[str]) -> str:
        """The first of ``error.<code>`` that exists, for an error and its base classes."""
        for code in codes:
            if f"error.{code}" in TEXTS:
                return self(f"error.{code}")
        return self("error.generic")
