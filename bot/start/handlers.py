"""``/start``: register the fan (done by the middleware), run the deep-link payload, welcome."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import CallbackIs
from bot.i18n import Texts
from bot.menu import app_button, main_menu
from bot.routing import BotRoute
from bot.start.payloads import PayloadContext, dispatch_payload
from tenants.users import BotUser

if TYPE_CHECKING:
    from bot.runtime import BotRuntime


async def start(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    route: BotRoute,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    runtime: BotRuntime,
    state: FSMContext,
    raw_state: str | None,
    after_commit: list[Callable[[], Awaitable[Any]]],
) -> SendMessage:
    if raw_state is not None:
        await state.clear()
    if command.args:
        await dispatch_payload(
            command.args.strip(),
            lambda value: PayloadContext(
                value, session, route, user, texts, bot, runtime, after_commit
            ),
        )
    return message.answer(
        texts("start.welcome"), reply_markup=main_menu(texts, texts.base["app_url"])
    )


async def help_command(message: Message, texts: Texts) -> SendMessage:
    return message.answer(texts("help"))


async def help_button(callback: CallbackQuery, texts: Texts) -> Any:
    if isinstance(callback.message, Message):
        await callback.message.answer(texts("help"))
    return callback.answer()


async def app_command(message: Message, texts: Texts) -> SendMessage:
    url = texts.base["app_url"]
    return message.answer(texts("app.prompt"), reply_markup=app_button(texts, url))


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent)."""
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.message.register(help_command, Command("help"))
    router.callback_query.register(help_button, CallbackIs("menu:help"))
    router.message.register(app_command, Command("app"))
    return router
