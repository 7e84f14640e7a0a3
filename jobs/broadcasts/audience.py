"""Who a broadcast reaches: one SQL condition on ``users`` per audience kind, pluggable.

Each kind registers a builder (:func:`audience_filter`) that turns an :class:`AudienceSpec`
into conditions on :class:`core.models.User`; the repository adds the tenant, "not blocked"
and the walk's id window itself, so a filter can only narrow the audience, never widen it
past the tenant. A new kind is one more registered builder; the count before sending and
the sender use the very same conditions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select

from core.errors import ValidationError
from core.models import User, VipStatus, VipSubscription
from jobs.broadcasts.schemas import AudienceSpec
from tenants.texts import LANGUAGES


class AudienceUnavailableError(ValidationError):
    code = "audience_unavailable"


@dataclass(frozen=True, slots=True)
class AudienceContext:
    """What a filter may depend on besides its spec: the tenant's default language (fans
    with no language of ours get it) and the reference time (frozen when sending starts)."""

    default_language: str
    now: datetime


Builder = Callable[[AudienceSpec, AudienceContext], list[ColumnElement[bool]]]
_BUILDERS: dict[str, Builder] = {}


def audience_filter(kind: str) -> Callable[[Builder], Builder]:
    """Register the builder of one audience kind."""

    def register(builder: Builder) -> Builder:
        _BUILDERS[kind] = builder
        return builder

    return register


def conditions(spec: AudienceSpec, context: AudienceContext) -> list[ColumnElement[bool]]:
    builder = _BUILDERS.get(spec.kind)
    if builder is None:
        raise AudienceUnavailableError(f"unknown audience {spec.kind!r}")
    return builder(spec, context)


def check(spec: AudienceSpec, context: AudienceContext) -> AudienceSpec:
    """Refuse a spec that cannot be resolved (a missing parameter, an unknown language)."""
    conditions(spec, context)
    return spec


@audience_filter("all")
def _everyone(spec: AudienceSpec, context: AudienceContext) -> list[ColumnElement[bool]]:
    return []


@audience_filter("inactive")
def _inactive(spec: AudienceSpec, context: AudienceContext) -> list[ColumnElement[bool]]:
    if spec.days is None:
        raise ValidationError("an inactive audience needs the number of days")
    return [User.last_seen_at < context.now - timedelta(days=spec.days)]


@audience_filter("language")
def _language(spec: AudienceSpec, context: AudienceContext) -> list[ColumnElement[bool]]:
    """The fan's language as the bot picks it: their own choice, else Telegram's code when we
    speak it, else the tenant's default (see :func:`bot.i18n.pick_language`)."""
    language = (spec.language or "").lower()
    if language not in LANGUAGES:
        raise ValidationError(f"choose one of the bot's languages: {', '.join(LANGUAGES)}")
    telegram = func.lower(func.substr(User.language_code, 1, 2))
    unset = User.language.is_(None)
    matches = [User.language == language, and_(unset, telegram == language)]
    if language == context.default_language:
        unknown = or_(User.language_code.is_(None), telegram.not_in(LANGUAGES))
        matches.append(and_(unset, unknown))
    return [or_(*matches)]


@audience_filter("vip")
def _vip(spec: AudienceSpec, context: AudienceContext) -> list[ColumnElement[bool]]:
    """Fans whose VIP access is open at the reference time — cancelled ones too, until their
    period ends (as :func:`tenants.vip.service.is_open` grants access) — in any package or in
    ``package_id``. The subscription must be of the fan's own tenant."""
    members = select(VipSubscription.user_id).where(
        VipSubscription.tenant_id == User.tenant_id,
        VipSubscription.status != VipStatus.EXPIRED.value,
        VipSubscription.period_end > context.now,
    )
    if spec.package_id is not None:
        members = members.where(VipSubscription.package_id == spec.package_id)
    return [User.id.in_(members)]
