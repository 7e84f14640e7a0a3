"""``/broadcast`` (owner and co-admins only; fans get the usual unknown-command answer):

1. ``/broadcast`` → "send me the message" (FSM state in Redis, per bot and chat);
2. the admin sends text or a photo / video / audio / document with a caption → a draft (its
   formatting kept as Telegram HTML, its media by the bot's own file id), a preview exactly
   as fans will see it, and the audience buttons;
3. an audience → how many fans it reaches, Send / Cancel;
4. Send → the message becomes the live progress message the worker keeps editing, with
   Pause / Resume / Cancel.

The rules are :mod:`jobs.broadcasts.service`'s, the same as the creator panel's.
"""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.methods import SendMessage
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from sqlalchemy.ext.asyncio import AsyncSession

from bot.broadcasts.keyboards import (
    AUDIENCE,
    DROP,
    GO,
    audience_keyboard,
    confirm_keyboard,
    parse_audience,
    parse_id,
)
from bot.filters import CallbackIs, InlineFilter, TenantAdminOnly
from bot.i18n import Texts
from bot.routing import TenantInfo
from core.errors import AtelierError
from core.models import Broadcast
from jobs.broadcasts import chat, service
from jobs.broadcasts.formatting import InvalidContentError
from jobs.broadcasts.message import Content, media_of, send
from jobs.broadcasts.service import BroadcastBusyError


class BroadcastFlow(StatesGroup):
    message = State()


class NotACommand(InlineFilter):
    """Anything but ``/something``: a command typed mid-flow goes to its own handler."""

    def test(self, message: Message, data: dict[str, Any]) -> bool:
        return not (message.text or "").startswith("/")


async def broadcast_command(message: Message, state: FSMContext, texts: Texts) -> SendMessage:
    await state.set_state(BroadcastFlow.message)
    return message.answer(texts("broadcast.ask"))


async def broadcast_message(
    message: Message,
    state: FSMContext,
    session: AsyncSession,
    tenant: TenantInfo,
    texts: Texts,
    bot: Bot,
) -> Any:
    media = media_of(message)
    if media is None and message.text is None:
        return message.answer(texts("broadcast.unsupported"))
    assert message.from_user is not None
    try:
        draft = await service.create_draft(
            session,
            tenant,
            by_telegram_id=message.from_user.id,
            text=message.html_text,
            chat_media=media,
        )
    except InvalidContentError as exc:
        return message.answer(texts("broadcast.invalid", problem=exc.message))
    await state.clear()
    await send(bot, message.chat.id, Content.of(draft))  # the preview: what fans will see
    return message.answer(
        texts("broadcast.pick_audience"), reply_markup=audience_keyboard(texts, draft.id)
    )


async def _edit(callback: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None) -> None:
    if isinstance(callback.message, Message):
        await callback.message.edit_text(text, reply_markup=markup)


async def audience_button(
    callback: CallbackQuery, session: AsyncSession, tenant: TenantInfo, texts: Texts
) -> Any:
    parsed = parse_audience(callback.data or "")
    if parsed is None:
        return callback.answer()
    broadcast_id, spec = parsed
    try:
        _, count = await service.set_audience(session, tenant, broadcast_id, spec)
    except AtelierError:
        return callback.answer(texts("broadcast.stale"), show_alert=True)
    if count == 0:
        return callback.answer(texts("broadcast.nobody"), show_alert=True)
    await _edit(
        callback, texts("broadcast.confirm", count=count), confirm_keyboard(texts, broadcast_id)
    )
    return callback.answer()


async def go_button(
    callback: CallbackQuery, session: AsyncSession, tenant: TenantInfo, texts: Texts
) -> Any:
    broadcast_id = parse_id(callback.data or "", GO)
    if broadcast_id is None or not isinstance(callback.message, Message):
        return callback.answer()
    where = (callback.message.chat.id, callback.message.message_id, texts.locale)
    try:
        broadcast = await service.start(session, tenant, broadcast_id, progress_chat=where)
    except BroadcastBusyError:
        return callback.answer(texts("broadcast.busy"), show_alert=True)
    except AtelierError:
        return callback.answer(texts("broadcast.stale"), show_alert=True)
    await _show(callback, texts, broadcast)
    return callback.answer()


async def drop_button(
    callback: CallbackQuery, session: AsyncSession, tenant: TenantInfo, texts: Texts
) -> Any:
    broadcast_id = parse_id(callback.data or "", DROP)
    if broadcast_id is None:
        return callback.answer()
    try:
        await service.cancel(session, tenant.id, broadcast_id)
    except AtelierError:
        return callback.answer(texts("broadcast.stale"), show_alert=True)
    await _edit(callback, texts("broadcast.dropped"), None)
    return callback.answer()


async def control_button(
    callback: CallbackQuery, session: AsyncSession, tenant: TenantInfo, texts: Texts
) -> Any:
    """Pause / Resume / Cancel on the progress message."""
    data = callback.data or ""
    actions = {chat.PAUSE: service.pause, chat.RESUME: service.resume, chat.CANCEL: service.cancel}
    for prefix, action in actions.items():
        broadcast_id = parse_id(data, prefix) if data.startswith(prefix) else None
        if broadcast_id is None:
            continue
        try:
            broadcast = await action(session, tenant.id, broadcast_id)
        except AtelierError:
            return callback.answer(texts("broadcast.stale"), show_alert=True)
        await _show(callback, texts, broadcast)
        break
    return callback.answer()


async def _show(callback: CallbackQuery, texts: Texts, broadcast: Broadcast) -> None:
    await _edit(callback, chat.status_text(texts, broadcast), chat.controls(texts, broadcast))


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent). The cheap filters
    come first; ``TenantAdminOnly`` reads the database only for these commands and buttons."""
    router = Router(name="broadcasts")
    admin = TenantAdminOnly()
    router.message.register(broadcast_command, Command("broadcast"), admin)
    router.message.register(
        broadcast_message, StateFilter(BroadcastFlow.message), NotACommand(), admin
    )
    router.callback_query.register(audience_button, CallbackIs(AUDIENCE, prefix=True), admin)
    router.callback_query.register(go_button, CallbackIs(GO, prefix=True), admin)
    router.callback_query.register(drop_button, CallbackIs(DROP, prefix=True), admin)
    for prefix in (chat.PAUSE, chat.RESUME, chat.CANCEL):
        router.callback_query.register(control_button, CallbackIs(prefix, prefix=True), admin)
    return router
