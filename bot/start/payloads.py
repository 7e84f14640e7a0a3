"""Deep-link payloads of ``/start``: features register a prefix, ``/start`` dispatches.

``t.me/<bot>?start=ref_1a`` arrives as ``/start ref_1a``; the handler registered for ``ref_``
gets ``1a``. A feature registers with::

    @payload_handler("ref_")
    async def on_referral(ctx: PayloadContext) -> None: ...

Unknown payloads are ignored (the fan still gets the welcome). Payloads are at most 64
characters of ``A-Za-z0-9_-`` (Telegram's rule), so prefixes are short words ending in ``_``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiogram import Bot
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Texts
from bot.routing import BotRoute
from tenants.users import BotUser

if TYPE_CHECKING:
    from bot.runtime import BotRuntime

logger = logging.getLogger(__name__)

_PREFIX = re.compile(r"^[a-z][a-z0-9]{0,15}_$")


@dataclass(frozen=True, slots=True)
class PayloadContext:
    value: str  # the payload without its prefix
    session: AsyncSession
    route: BotRoute
    user: BotUser
    texts: Texts
    bot: Bot
    runtime: BotRuntime
    after_commit: list[Callable[[], Awaitable[Any]]]


PayloadHandler = Callable[[PayloadContext], Awaitable[None]]
_handlers: dict[str, PayloadHandler] = {}


def payload_handler(prefix: str) -> Callable[[PayloadHandler], PayloadHandler]:
    if not _PREFIX.match(prefix):
        raise ValueError(f"payload prefix must look like 'ref_', not {prefix!r}")

    def register(handler: PayloadHandler) -> PayloadHandler:
        if _handlers.get(prefix, handler) is not handler:
            raise ValueError(f"payload prefix {prefix!r} is already taken")
        _handlers[prefix] = handler
        return handler

    return register


def registered_prefixes() -> tuple[str, ...]:
    return tuple(sorted(_handlers))


async def dispatch_payload(payload: str, make_context: Callable[[str], PayloadContext]) -> bool:
    """Run the handler whose prefix starts ``payload``; False when none matches."""
    for prefix, handler in _handlers.items():
        if payload.startswith(prefix) and len(payload) > len(prefix):
            await handler(make_context(payload[len(prefix) :]))
            return True
    logger.debug("unknown /start payload ignored")
    return False
