"""The error handler: one failing update never stops the others, and the fan gets a reply.

- ``TelegramForbiddenError`` (the fan blocked the bot): mark them, say nothing.
- :class:`core.errors.AtelierError`: a polite reply keyed by the error's ``code`` (walking up
  its base classes: ``invalid_bot_token`` → ``invalid``), logged at INFO.
- anything else: logged with the update id and tenant, and "something went wrong" in the fan's
  language.

The reply is returned (sent in the webhook response, or by the polling loop), so a failure
to send it cannot raise again.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiogram.exceptions import TelegramForbiddenError
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import Chat, ErrorEvent, User

from bot.i18n import DEFAULT_LANGUAGE, Texts, pick_language
from bot.routing import BotRoute
from core.errors import AtelierError
from tenants.users import mark_blocked

if TYPE_CHECKING:
    from bot.runtime import BotRuntime

logger = logging.getLogger("bot.errors")


def error_codes(exc: AtelierError) -> list[str]:
    return [
        cls.code
        for cls in type(exc).__mro__
        if isinstance(cls, type) and issubclass(cls, AtelierError)
    ]


async def on_error(
    event: ErrorEvent,
    runtime: BotRuntime,
    route: BotRoute | None = None,
    texts: Texts | None = None,
    event_from_user: User | None = None,
    event_chat: Chat | None = None,
) -> Any:
    exc = event.exception
    update = event.update
    context = {
        "update_id": update.update_id,
        "tenant_id": route.tenant.id if route else None,
        "bot_id": route.telegram_bot_id if route else None,
    }
    if isinstance(exc, TelegramForbiddenError):
        if route is not None and event_from_user is not None:
            await mark_blocked(
                runtime.session_factory, runtime.redis, route.tenant.id, event_from_user.id
            )
        return None
    if texts is None:
        default = route.tenant.default_language if route else DEFAULT_LANGUAGE
        code = event_from_user.language_code if event_from_user else None
        texts = Texts(
            runtime.i18n, pick_language(None, code, default), route.texts if route else None
        )
    if isinstance(exc, AtelierError):
        logger.info("update %s refused: %s", update.update_id, exc.code, extra=context)
        text = texts.error_text(error_codes(exc))
    else:
        logger.error("update %s failed", update.update_id, exc_info=exc, extra=context)
        text = texts("error.generic")
    if update.callback_query is not None:
        return AnswerCallbackQuery(
            callback_query_id=update.callback_query.id, text=text[:200], show_alert=True
        )
    if event_chat is not None:
        return SendMessage(chat_id=event_chat.id, text=text)
    return None
