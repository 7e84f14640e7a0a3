"""Tenant texts: every fan-facing text, its default, and creators' sandboxed overrides.

Each text has a stable key (``start.welcome``) and an English default that is also its gettext
``msgid``; the bot translates the default through ``bot/locales`` and renders the result as a
jinja2 template with the variables listed below. A creator may override any text per language
with their own template (saved through :func:`save_override`, used later by the creator panel).

Templates render in :class:`jinja2.sandbox.ImmutableSandboxedEnvironment`. A template is
checked when it is saved — parsed, its syntax tree walked for private attributes (``_x``) and
for tags that have no business in a chat message (loops, macros, includes...), then rendered
once with sample values so sandbox violations surface as a :class:`TemplateRejectedError`
naming the line and the reason. A template that still fails when a fan is served (a value
nobody foresaw) falls back to the default and is logged: a fan never sees an error.

Variables (each text documents which ones it receives; unknown names render empty):

``user_name``       the fan's first name          ``bot_name``      the bot's display name
``user_username``   the fan's @username or empty   ``bot_username``  the bot's @username
``balance``         the fan's credits             ``reward``        referral reward in credits
``referral_link``   the fan's invite link          ``app_url``       the Mini App URL
``friend_name``     the fan who joined (referrals) ``command``       the unknown command typed
``plan``, ``panel_url``, ``status``                onboarding (manager bot) texts only
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import Template, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from core.db import tenant_select, utcnow
from core.errors import NotFoundError, ValidationError
from core.models import TenantText

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "tr", "ru", "ar")
MAX_TEMPLATE_CHARS = 4000
MAX_RENDERED_CHARS = 4096  # Telegram's message limit


def N_(message: str) -> str:
    """Mark a default for the catalogue extractor; translation happens in the bot."""
    return message


@dataclass(frozen=True, slots=True)
class TextSpec:
    key: str
    default: str  # English, also the gettext msgid
    variables: tuple[str, ...] = ()


_COMMON = ("user_name", "user_username", "bot_name", "bot_username")


def _spec(key: str, default: str, *extra: str) -> TextSpec:
    return TextSpec(key, default, _COMMON + extra)


TEXTS: dict[str, TextSpec] = {
    spec.key: spec
    for spec in (
        # -- fans, in every tenant bot
        _spec(
            "start.welcome",
            N_(
                "Hi {{ user_name }}! Welcome to {{ bot_name }}.\n\n"
                "Create images, video and audio with AI, keep everything in your own drive and "
                "enjoy exclusive content. Pick something from the menu below to get started."
            ),
            "app_url",
        ),
        _spec(
            "help",
            N_(
                "Here is what I can do:\n\n"
                "/start – main menu\n"
                "/app – open the app\n"
                "/balance – your credits\n"
                "/invite – invite friends and earn credits\n"
                "/language – change the language\n"
                "/cancel – stop the current action\n"
                "/help – this message"
            ),
        ),
        _spec("menu.open_app", N_("Open app")),
        _spec("menu.balance", N_("Balance")),
        _spec("menu.invite", N_("Invite friends")),
        _spec("menu.language", N_("Language")),
        _spec("menu.help", N_("Help")),
        _spec("language.prompt", N_("Choose your language:")),
        _spec("language.changed", N_("Done! From now on I will speak English with you.")),
        _spec("balance.show", N_("Your balance: {{ balance }} credits."), "balance"),
        _spec(
            "app.prompt",
            N_("Tap the button below to open {{ bot_name }}."),
            "app_url",
        ),
        _spec("cancel.done", N_("Cancelled. What would you like to do next?")),
        _spec("cancel.nothing", N_("There is nothing to cancel.")),
        _spec(
            "fallback.command",
            N_("I don't know the command {{ command }}. Send /help to see what I can do."),
            "command",
        ),
        _spec(
            "fallback.text",
            N_(
                "I can't answer free text yet. Send /help to see what I can do, "
                "or open the app with /app."
            ),
        ),
        _spec(
            "throttle.notice",
            N_("You are sending messages too fast. Please wait a few seconds and try again."),
        ),
        _spec(
            "referral.invite",
            N_(
                "Invite your friends with this link and get {{ reward }} credits for every "
                "friend who joins:\n{{ referral_link }}"
            ),
            "reward",
            "referral_link",
        ),
        _spec(
            "referral.rewarded",
            N_("{{ friend_name }} joined through your link. You received {{ reward }} credits!"),
            "friend_name",
            "reward",
        ),
        # -- errors, keyed by AtelierError.code
        _spec(
            "error.generic",
            N_("Sorry, something went wrong on our side. Please try again in a moment."),
        ),
        _spec("error.bad_request", N_("That didn't work. Please check and try again.")),
        _spec("error.invalid", N_("That doesn't look right. Please check it and try again.")),
        _spec("error.not_found", N_("I couldn't find that. It may have been removed.")),
        _spec("error.conflict", N_("That has already been done.")),
        _spec("error.forbidden", N_("Sorry, you are not allowed to do that.")),
        _spec("error.unauthorized", N_("Please start the bot again with /start.")),
        _spec("error.insufficient_funds", N_("You don't have enough credits for that.")),
        _spec(
            "error.upstream_error",
            N_("A service we rely on is not responding. Please try again later."),
        ),
        # -- creators, in the platform's manager bot
        _spec(
            "manager.welcome",
            N_(
                "Hi {{ user_name }}! I connect your own Telegram bot to Atelier, so your fans "
                "can chat with it, use AI tools and buy your content.\n\n"
                "/newbot – connect a bot you made with @BotFather\n"
                "/mybots – manage the bots you connected"
            ),
        ),
        _spec("manager.connect_button", N_("Connect a bot")),
        _spec(
            "manager.ask_token",
            N_(
                "Send me your bot's token from @BotFather. It looks like "
                "123456789:AAHk3x…\n\nI delete your message as soon as I have read it. "
                "Send /cancel to stop."
            ),
        ),
        _spec(
            "manager.connected",
            N_(
                "@{{ bot_username }} is connected!\n\nPlan: {{ plan }}\n"
                "Creator panel: {{ panel_url }}\n\nYour fans can start chatting with it now."
            ),
            "plan",
            "panel_url",
        ),
        _spec("manager.open_panel", N_("Open creator panel")),
        _spec(
            "manager.token_malformed",
            N_(
                "That doesn't look like a bot token. Copy the whole token @BotFather sent you "
                "(it looks like 123456789:AAHk3x…) and send it again, or send /cancel."
            ),
        ),
        _spec(
            "manager.token_rejected",
            N_(
                "Telegram rejected this token: it may have been revoked or mistyped. Get the "
                "current token from @BotFather and send it again, or send /cancel."
            ),
        ),
        _spec(
            "manager.token_taken",
            N_(
                "This bot is already connected to Atelier. Send the token of another bot, "
                "or send /cancel."
            ),
        ),
        _spec(
            "manager.token_is_manager",
            N_(
                "That is my own token! Create a new bot with @BotFather and send me its token "
                "instead, or send /cancel."
            ),
        ),
        _spec(
            "manager.telegram_down",
            N_("I couldn't reach Telegram to check the token. Please try again in a minute."),
        ),
        _spec(
            "manager.no_bots",
            N_("You haven't connected any bots yet. Send /newbot to connect one."),
        ),
        _spec("manager.bots_header", N_("Your bots:")),
        _spec(
            "manager.bot_line",
            N_("@{{ bot_username }} – {{ status }}, plan {{ plan }}"),
            "status",
            "plan",
        ),
        _spec("manager.status_active", N_("active")),
        _spec("manager.status_disabled", N_("disabled")),
        _spec("manager.disable_button", N_("Disable @{{ bot_username }}")),
        _spec("manager.enable_button", N_("Enable @{{ bot_username }}")),
        _spec(
            "manager.disabled",
            N_("@{{ bot_username }} is disabled. Fans get no answers until you enable it again."),
        ),
        _spec("manager.enabled", N_("@{{ bot_username }} is active again.")),
        _spec("manager.not_owner", N_("Only the owner of this bot can do that.")),
    )
}

#: Values for the trial render when a template is saved: every documented variable.
SAMPLE_VALUES: dict[str, Any] = {
    "user_name": "Alice",
    "user_username": "alice",
    "bot_name": "Art Studio",
    "bot_username": "art_studio_bot",
    "balance": 42,
    "reward": 10,
    "referral_link": "https://t.me/art_studio_bot?start=ref_1a",
    "app_url": "https://example.com/app/?bot=1",
    "friend_name": "Bob",
    "command": "/unknown",
    "plan": "Basic",
    "panel_url": "https://example.com/app/?bot=1#creator",
    "status": "active",
}

# Tags a chat text never needs; forbidding them keeps templates cheap and predictable (a
# nested loop over range() would otherwise let one template burn seconds of CPU per message).
_FORBIDDEN_NODES: dict[type[nodes.Node], str] = {
    nodes.For: "loops ({% for %}) are not allowed",
    nodes.Macro: "macros are not allowed",
    nodes.CallBlock: "call blocks are not allowed",
    nodes.Include: "includes are not allowed",
    nodes.Import: "imports are not allowed",
    nodes.FromImport: "imports are not allowed",
    nodes.Extends: "template inheritance is not allowed",
    nodes.Block: "blocks are not allowed",
    nodes.FilterBlock: "filter blocks are not allowed",
    nodes.With: "with blocks are not allowed",
    nodes.Assign: "assignments ({% set %}) are not allowed",
    nodes.AssignBlock: "assignments ({% set %}) are not allowed",
}


class TemplateRejectedError(ValidationError):
    """A template a creator tried to save; ``details`` carries ``line`` and ``reason``."""

    code = "template_rejected"

    def __init__(self, reason: str, line: int | None = None) -> None:
        where = f"line {line}: " if line else ""
        super().__init__(f"{where}{reason}", line=line, reason=reason)
        self.line = line
        self.reason = reason


class UnknownTextError(NotFoundError):
    code = "unknown_text"


_environment = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)


@lru_cache(maxsize=4096)
def compile_template(source: str) -> Template:
    """Compile once per distinct source; defaults and overrides are few and reused."""
    return _environment.from_string(source)


def check_template(source: str) -> None:
    """Refuse a template that does not parse, reaches for private attributes, uses a
    forbidden tag or trips the sandbox when rendered with sample values."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateRejectedError(f"the text is longer than {MAX_TEMPLATE_CHARS} characters")
    if not source.strip():
        raise TemplateRejectedError("the text is empty")
    try:
        tree = _environment.parse(source)
    except TemplateSyntaxError as exc:
        raise TemplateRejectedError(exc.message or "syntax error", exc.lineno) from None
    for node in tree.find_all(nodes.Node):
        _check_node(node)
    try:
        compile_template(source).render(SAMPLE_VALUES)
    except SecurityError as exc:
        raise TemplateRejectedError(f"not allowed: {exc}", _error_line(exc)) from None
    except TemplateError as exc:
        raise TemplateRejectedError(str(exc) or type(exc).__name__, _error_line(exc)) from None
    except Exception as exc:
        raise TemplateRejectedError(
            f"fails with sample values: {type(exc).__name__}: {exc}", _error_line(exc)
        ) from None


def _check_node(node: nodes.Node) -> None:
    line = getattr(node, "lineno", None)
    for forbidden, reason in _FORBIDDEN_NODES.items():
        if isinstance(node, forbidden):
            raise TemplateRejectedError(reason, line)
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        raise TemplateRejectedError(f"access to private attribute {node.attr!r}", line)
    if (
        isinstance(node, nodes.Getitem)
        and isinstance(node.arg, nodes.Const)
        and isinstance(node.arg.value, str)
        and node.arg.value.startswith("_")
    ):
        raise TemplateRejectedError(f"access to private attribute {node.arg.value!r}", line)
    if isinstance(node, nodes.Filter | nodes.Test) and node.name == "attr":
        raise TemplateRejectedError("the attr filter is not allowed", line)


def _error_line(exc: BaseException) -> int | None:
    """The template line of a render error, from the traceback jinja2 rewrites."""
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def render(source: str, variables: Mapping[str, Any]) -> str:
    """Render a (trusted or checked) template; errors propagate to the caller."""
    if "{" not in source:
        return source[:MAX_RENDERED_CHARS]  # a plain label: nothing to render
    text = compile_template(source).render(variables)
    return text[:MAX_RENDERED_CHARS]


def render_with_fallback(
    override: str | None, default: str, variables: Mapping[str, Any], *, context: str = ""
) -> str:
    """The override when it renders, else the default: a creator's mistake never reaches fans.

    The default itself comes from our catalogue; if even that fails (a broken translation)
    the untranslated source is the last resort.
    """
    if override is not None:
        try:
            return render(override, variables)
        except Exception:
            logger.warning("tenant text failed to render, using the default: %s", context)
    try:
        return render(default, variables)
    except Exception:
        logger.exception("default text failed to render: %s", context)
        return default


# -- overrides ---------------------------------------------------------------------------------


def _spec_for(key: str) -> TextSpec:
    spec = TEXTS.get(key)
    if spec is None:
        raise UnknownTextError(f"no text with key {key!r}", key=key)
    return spec


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise ValidationError(
            f"unsupported language {language!r}; use one of {', '.join(LANGUAGES)}",
            language=language,
        )


async def save_override(
    session: AsyncSession, tenant_id: int, key: str, language: str, template: str
) -> TenantText:
    """Validate and store a creator's text. The caller commits, then tells the bot runtime
    (``tenants.webhooks.bump_route_version``) so every process drops its cached copy."""
    _spec_for(key)
    _check_language(language)
    check_template(template)
    row = (
        await session.execute(
            tenant_select(TenantText, tenant_id).where(
                TenantText.key == key, TenantText.language == language
            )
        )
    ).scalar_one_or_none()
    if row is None:
        row = TenantText(tenant_id=tenant_id, key=key, language=language, template=template)
        session.add(row)
    else:
        row.template = template
        row.updated_at = utcnow()
    await session.flush()
    return row


async def clear_override(session: AsyncSession, tenant_id: int, key: str, language: str) -> bool:
    """Back to the default; True when there was an override."""
    _spec_for(key)
    result = await session.execute(
        delete(TenantText).where(
            TenantText.tenant_id == tenant_id,
            TenantText.key == key,
            TenantText.language == language,
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def load_overrides(session: AsyncSession, tenant_id: int) -> dict[tuple[str, str], str]:
    """Every override of a tenant as ``{(key, language): template}``."""
    rows = (await session.execute(tenant_select(TenantText, tenant_id))).scalars()
    return {(row.key, row.language): row.template for row in rows}


def documented_variables(keys: Iterable[str] | None = None) -> dict[str, tuple[str, ...]]:
    """Which variables each text receives (for the creator panel's editor)."""
    wanted = TEXTS if keys is None else {k: _spec_for(k) for k in keys}
    return {key: spec.variables for key, spec in wanted.items()}
