"""Pick the update's language and inject ``i18n`` and ``texts`` (aiogram's I18nMiddleware)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram.types import TelegramObject
from aiogram.utils.i18n import I18n, I18nMiddleware

from bot.i18n import Texts, pick_language
from bot.menu import app_url


class LocaleMiddleware(I18nMiddleware):
    """The fan's choice, else Telegram's ``language_code``, else the tenant's default; the first
    two only if the tenant enables that language (a snapshot field, no I/O)."""

    def __init__(self, i18n: I18n, public_base_url: str) -> None:
        super().__init__(i18n)
        self.public_base_url = public_base_url

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        tenant = data["tenant"]
        user = data.get("user")
        if user is not None:
            return pick_language(
                user.language, user.language_code, tenant.default_language, tenant.languages
            )
        sender = data.get("event_from_user")
        code = sender.language_code if sender is not None else None
        return pick_language(None, code, tenant.default_language, tenant.languages)

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        locale = await self.get_locale(event, data)
        data["i18n"] = self.i18n
        data["i18n_middleware"] = self
        data["texts"] = texts_for(self.i18n, locale, data, self.public_base_url)
        with self.i18n.context(), self.i18n.use_locale(locale):
            return await handler(event, data)


def texts_for(i18n: I18n, locale: str, data: dict[str, Any], public_base_url: str) -> Texts:
    route = data["route"]
    sender = data.get("event_from_user")
    return Texts(
        i18n,
        locale,
        route.texts,
        {
            "user_name": sender.first_name if sender else "",
            "user_username": (sender.username or "") if sender else "",
            "bot_name": route.tenant.name,
            "bot_username": route.username,
            "app_url": app_url(public_base_url, route.telegram_bot_id),
        },
    )
