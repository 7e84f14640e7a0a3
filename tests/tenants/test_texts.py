"""Tenant text templates: sandboxed, checked when saved, never failing in front of a fan."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Tenant
from tenants import texts
from tenants.texts import TemplateRejectedError, UnknownTextError, check_template

LOCALES = Path(__file__).resolve().parents[2] / "bot" / "locales"
VARIABLE = re.compile(r"{{\s*(\w+)\s*}}")


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{{ ''.__class__.__mro__ }}", "private attribute"),
        ("{{ user_name.__class__ }}", "private attribute"),
        ("{{ user_name['__class__'] }}", "private attribute"),
        ("{{ user_name|attr('__class__') }}", "attr filter"),
        ("{{ [].append(1) }}", "unsafe"),
        ("{% for i in range(10) %}{{ i }}{% endfor %}", "loops"),
        ("{% set x = 1 %}", "assignments"),
        ("{% include 'x' %}", "includes"),
    ],
)
def test_escapes_are_rejected(template: str, reason: str) -> None:
    with pytest.raises(TemplateRejectedError, match=reason) as caught:
        check_template(template)
    assert caught.value.line == 1


def test_a_parse_error_reports_its_line() -> None:
    with pytest.raises(TemplateRejectedError) as caught:
        check_template("Hello {{ user_name }}\nall good\n{% if balance %}unclosed")
    assert caught.value.line == 3
    assert caught.value.details == {"line": 3, "reason": caught.value.reason}
    assert caught.value.message.startswith("line 3: ")


def test_good_templates_pass_and_render() -> None:
    check_template("Hi {{ user_name|upper }}! {% if balance > 10 %}rich{% else %}poor{% endif %}")
    assert texts.render("{{ user_name }} has {{ balance }}", {"user_name": "Al", "balance": 3}) == (
        "Al has 3"
    )


def test_render_failure_falls_back_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    result = texts.render_with_fallback(
        "{{ 100 // balance }}", "Balance: {{ balance }}", {"balance": 0}, context="balance.show"
    )
    assert result == "Balance: 0"
    assert "failed to render" in caplog.text


async def test_save_and_clear_an_override(session: AsyncSession) -> None:
    tenant = Tenant(name="Art")
    session.add(tenant)
    await session.flush()
    await texts.save_override(session, tenant.id, "start.welcome", "tr", "Selam {{ user_name }}")
    await texts.save_override(session, tenant.id, "start.welcome", "tr", "Merhaba {{ user_name }}")
    assert await texts.load_overrides(session, tenant.id) == {
        ("start.welcome", "tr"): "Merhaba {{ user_name }}"
    }
    with pytest.raises(TemplateRejectedError):
        await texts.save_override(session, tenant.id, "help", "en", "{{ x.__class__ }}")
    with pytest.raises(UnknownTextError):
        await texts.save_override(session, tenant.id, "no.such.text", "en", "hi")
    assert await texts.clear_override(session, tenant.id, "start.welcome", "tr")
    assert not await texts.clear_override(session, tenant.id, "start.welcome", "tr")
    assert await texts.load_overrides(session, tenant.id) == {}


@pytest.mark.parametrize("language", ["tr", "ru", "ar"])
def test_every_text_is_translated_with_the_same_variables(language: str) -> None:
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=language)
    for spec in texts.TEXTS.values():
        message = catalog.get(spec.default)
        assert message is not None and message.string, f"{spec.key} is not translated"
        assert set(VARIABLE.findall(message.string)) == set(VARIABLE.findall(spec.default)), (
            spec.key
        )
        check_template(message.string)


@pytest.mark.parametrize(
    "values",
    [texts.SAMPLE_VALUES, {}, {"user_name": None, "balance": 0, "bot_name": "<b>&</b>"}],
)
def test_plain_substitution_renders_exactly_as_jinja(values: dict[str, object]) -> None:
    """Texts made of words and ``{{ variable }}`` skip jinja (``texts.renderer``); every
    default in every language, and templates at the edges, must come out the same."""
    from bot.i18n import create_i18n

    i18n = create_i18n()
    sources = [
        i18n.gettext(spec.default, locale=language)
        for spec in texts.TEXTS.values()
        for language in texts.LANGUAGES
    ] + [
        "{{user_name}}{{ balance }}\n",
        "{{- user_name -}}  ,  {{ bot_name }}\r\nend",
        "{# note #}{{ user_name }}{% raw %}{{ not a variable }}{% endraw %}",
        "{{ range }} {{ self }} {{ missing }}",
        "{{ user_name|upper }} {{ balance ~ 1 }} {{ user_name is defined }}",
    ]
    fast = 0
    for source in sources:
        expected = texts.compile_template(source).render(values)
        assert texts.renderer(source)(values) == expected, source
        fast += not isinstance(texts.renderer.__wrapped__(source), texts.Template)
    assert fast > len(sources) // 2  # most texts take the fast path
