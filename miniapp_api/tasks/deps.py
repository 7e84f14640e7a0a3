"""The tenant's bot and a person's texts for the tasks, stats and admin endpoints.

The bot comes from the shared bot runtime (its route cache and its one HTTP session), as for
the wallet's invoice links: the API talks to Telegram as the tenant's own bot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from aiogram import Bot
from fastapi import Depends, Request

from bot.i18n import Texts, pick_language
from bot.menu import app_url
from bot.routing import BotRoute
from bot.runtime import BotRuntime
from core.errors import NotFoundError
from core.models import User
from miniapp_api.auth.tokens import CurrentUser


async def get_bot_runtime(request: Request) -> BotRuntime:
    runtime: BotRuntime = request.app.state.bot_runtime
    return runtime


RuntimeDep = Annotated[BotRuntime, Depends(get_bot_runtime)]


@dataclass(frozen=True, slots=True)
class TenantBot:
    route: BotRoute
    bot: Bot


async def tenant_bot(runtime: BotRuntime, user: CurrentUser) -> TenantBot:
    """The bot the caller signed in through (404 when it is gone or disabled)."""
    route = await runtime.routes.get(user.bot_id)
    if route is None or not route.active or route.tenant.id != user.tenant_id:
        raise NotFoundError("this bot is not available")
    return TenantBot(route=route, bot=runtime.bots.get(route))


def texts_for(runtime: BotRuntime, route: BotRoute, person: User) -> Texts:
    """Texts in the person's language, with the tenant's overrides, as the chat has them."""
    return Texts(
        runtime.i18n,
        pick_language(
            person.language,
            person.language_code,
            route.tenant.default_language,
            route.tenant.languages,
        ),
        route.texts,
        {
            "user_name": person.first_name or "",
            "user_username": person.username or "",
            "bot_name": route.tenant.name,
            "bot_username": route.username,
            "app_url": app_url(runtime.settings.public_base_url, route.telegram_bot_id),
        },
    )
