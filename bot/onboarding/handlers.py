"""The manager bot's conversation: ``/newbot`` → token → connected; ``/mybots`` → toggles.

Only routed in the platform tenant's bot (:class:`bot.filters.PlatformBot`). The token message
is deleted as soon as it is read, whatever the outcome.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Any

from aiogram import Router
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.filters import Command, CommandStart, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import SendMessage
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import CallbackIs, PlatformBot, SlashText
from bot.i18n import Texts
from bot.menu import panel_url
from bot.onboarding import service
from bot.onboarding.service import MalformedTokenError, ManagerTokenError
from core.errors import PermissionDeniedError
from core.models import Tenant, TenantBot
from tenants.errors import (
    BotAlreadyConnectedError,
    InvalidBotTokenError,
    TelegramUnreachableError,
    TenantNotFoundError,
)
from tenants.plans import get_plan

if TYPE_CHECKING:
    from bot.runtime import BotRuntime

logger = logging.getLogger(__name__)

TOGGLE_PREFIX = "mb:"


class Onboarding(StatesGroup):
    waiting_token = State()


def _welcome_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=texts("manager.connect_button"), callback_data="onb:new")]
        ]
    )


async def manager_welcome(
    message: Message, state: FSMContext, raw_state: str | None, texts: Texts
) -> SendMessage:
    if raw_state is not None:
        await state.clear()
    return message.answer(texts("manager.welcome"), reply_markup=_welcome_keyboard(texts))


async def new_bot(message: Message, state: FSMContext, texts: Texts) -> SendMessage:
    await state.set_state(Onboarding.waiting_token)
    return message.answer(texts("manager.ask_token"))


async def new_bot_button(callback: CallbackQuery, state: FSMContext, texts: Texts) -> Any:
    await state.set_state(Onboarding.waiting_token)
    if isinstance(callback.message, Message):
        await callback.message.answer(texts("manager.ask_token"))
    return callback.answer()


async def receive_token(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    texts: Texts,
    runtime: BotRuntime,
) -> SendMessage:
    token = message.text or ""
    with contextlib.suppress(TelegramBadRequest, TelegramForbiddenError):
        await message.delete()
    assert message.from_user is not None
    try:
        bot_row = await service.connect_bot(
            session,
            token,
            owner_telegram_id=message.from_user.id,
            manager_bot_id=message.bot.id if message.bot else 0,
            api_base=runtime.settings.telegram_api_base,
        )
    except MalformedTokenError:
        return message.answer(texts("manager.token_malformed"))
    except ManagerTokenError:
        return message.answer(texts("manager.token_is_manager"))
    except BotAlreadyConnectedError:
        return message.answer(texts("manager.token_taken"))
    except InvalidBotTokenError:
        return message.answer(texts("manager.token_rejected"))
    except TelegramUnreachableError:
        return message.answer(texts("manager.telegram_down"))
    tenant = await session.get(Tenant, bot_row.tenant_id)
    assert tenant is not None
    await runtime.configure_bot(session, bot_row, tenant)
    await state.clear()
    url = panel_url(runtime.settings.public_base_url, bot_row.telegram_bot_id)
    keyboard = None
    if url.startswith("https://"):
        keyboard = InlineKeyboardMarkup(
            inline_keyboard=[[InlineKeyboardButton(text=texts("manager.open_panel"), url=url)]]
        )
    return message.answer(
        texts(
            "manager.connected",
            bot_username=bot_row.username,
            plan=get_plan(tenant.plan).name,
            panel_url=url,
        ),
        reply_markup=keyboard,
    )


def _bots_view(
    texts: Texts, bots: list[tuple[Tenant, TenantBot]]
) -> tuple[str, InlineKeyboardMarkup | None]:
    if not bots:
        return texts("manager.no_bots"), None
    lines = [texts("manager.bots_header")]
    buttons = []
    for tenant, bot in bots:
        status = texts("manager.status_active" if tenant.is_active else "manager.status_disabled")
        lines.append(
            texts(
                "manager.bot_line",
                bot_username=bot.username,
                status=status,
                plan=get_plan(tenant.plan).name,
            )
        )
        label = "manager.disable_button" if tenant.is_active else "manager.enable_button"
        buttons.append(
            [
                InlineKeyboardButton(
                    text=texts(label, bot_username=bot.username),
                    callback_data=f"{TOGGLE_PREFIX}{tenant.id}",
                )
            ]
        )
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=buttons)


async def my_bots(message: Message, session: AsyncSession, texts: Texts) -> SendMessage:
    assert message.from_user is not None
    bots = list(await service.owned_bots(session, message.from_user.id))
    text, keyboard = _bots_view(texts, bots)
    return message.answer(text, reply_markup=keyboard)


async def toggle_bot(callback: CallbackQuery, session: AsyncSession, texts: Texts) -> Any:
    raw_id = (callback.data or "").removeprefix(TOGGLE_PREFIX)
    if not raw_id.isdigit():
        return callback.answer()
    try:
        tenant, bot = await service.toggle_tenant(
            session, int(raw_id), owner_telegram_id=callback.from_user.id
        )
    except (PermissionDeniedError, TenantNotFoundError):
        return callback.answer(texts("manager.not_owner"), show_alert=True)
    bots = list(await service.owned_bots(session, callback.from_user.id))
    text, keyboard = _bots_view(texts, bots)
    if isinstance(callback.message, Message):
        with contextlib.suppress(TelegramBadRequest):
            await callback.message.edit_text(text, reply_markup=keyboard)
    done = "manager.enabled" if tenant.is_active else "manager.disabled"
    return callback.answer(texts(done, bot_username=bot.username))


def create_router() -> Router:
    """Manager-bot only: one router-level filter keeps every other tenant's updates cheap."""
    router = Router(name="onboarding")
    router.message.filter(PlatformBot())
    router.callback_query.filter(PlatformBot())
    router.message.register(manager_welcome, CommandStart())
    router.message.register(manager_welcome, Command("help"))
    router.message.register(new_bot, Command("newbot"))
    router.callback_query.register(new_bot_button, CallbackIs("onb:new"))
    router.message.register(
        receive_token, StateFilter(Onboarding.waiting_token), SlashText(negate=True)
    )
    router.message.register(my_bots, Command("mybots"))
    router.callback_query.register(toggle_bot, CallbackIs(TOGGLE_PREFIX, prefix=True))
    return router
