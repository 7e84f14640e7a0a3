"""Direct generation commands in every tenant bot: ``/image``, ``/video``, ``/audio``,
``/tts``, ``/jobs``, ``/cancel_job``; and the buttons on progress and result messages."""

from __future__ import annotations

from typing import Any

from aiogram import Bot, Router
from aiogram.filters import Command, CommandObject
from aiogram.methods import AnswerCallbackQuery, SendMessage
from aiogram.types import CallbackQuery, Message
from arq.connections import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from bot.filters import CallbackIs
from bot.generation import service
from bot.generation.keyboards import (
    BUY,
    CANCEL_PREFIX,
    RERUN_PREFIX,
    VARIATIONS_PREFIX,
    parse_target,
)
from bot.generation.service import Chat, Reply
from bot.i18n import Texts
from tenants.users import BotUser

#: command → (tool, the parameter the text after the command fills, example for the usage text)
COMMANDS: dict[str, tuple[str, str]] = {
    "image": ("image-generate", "prompt"),
    "video": ("video-from-text", "prompt"),
    "audio": ("sound-effect", "prompt"),
    "tts": ("text-to-speech", "text"),
}
VARIATION_TOOL = "image-variation"


def _answer(message: Message, reply: Reply | None) -> SendMessage | None:
    return None if reply is None else message.answer(reply.text, reply_markup=reply.markup)


async def generate_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    redis: ArqRedis,
    user: BotUser,
    texts: Texts,
    bot: Bot,
) -> SendMessage | None:
    tool, param = COMMANDS[command.command.lower()]
    text = (command.args or "").strip()
    if not text:
        return message.answer(texts("gen.usage", command=f"/{command.command}"))
    chat = Chat(bot, message.chat.id, user, texts)
    return _answer(message, await service.start_tool(session, redis, chat, tool, {param: text}))


async def jobs_command(
    message: Message, session: AsyncSession, user: BotUser, texts: Texts
) -> SendMessage:
    return message.answer(await service.jobs_text(session, user, texts))


async def cancel_job_command(
    message: Message,
    command: CommandObject,
    session: AsyncSession,
    redis: ArqRedis,
    user: BotUser,
    texts: Texts,
    bot: Bot,
) -> SendMessage:
    """``/cancel_job 12`` cancels job 12; without a number, the newest running one."""
    argument = (command.args or "").strip().lstrip("#")
    if argument and not argument.isdigit():
        return message.answer(texts("gen.cancel_usage"))
    if argument:
        job_id = int(argument)
    else:
        latest = await service.latest_active(session, user)
        if latest is None:
            return message.answer(texts("gen.cancel_usage"))
        job_id = latest.id
    chat = Chat(bot, message.chat.id, user, texts)
    reply = await service.cancel(session, redis, chat, "job", job_id)
    return message.answer(reply.text, reply_markup=reply.markup)


async def _on_button(
    callback: CallbackQuery,
    user: BotUser,
    texts: Texts,
    bot: Bot,
    act: Any,
) -> AnswerCallbackQuery:
    if not isinstance(callback.message, Message):
        return callback.answer()
    chat = Chat(bot, callback.message.chat.id, user, texts)
    reply: Reply | None = await act(chat)
    if reply is not None:
        await callback.message.answer(reply.text, reply_markup=reply.markup)
    return callback.answer()


async def cancel_button(
    callback: CallbackQuery,
    session: AsyncSession,
    redis: ArqRedis,
    user: BotUser,
    texts: Texts,
    bot: Bot,
) -> AnswerCallbackQuery:
    target = parse_target(callback.data or "", CANCEL_PREFIX)
    if target is None or not isinstance(callback.message, Message):
        return callback.answer()
    chat = Chat(bot, callback.message.chat.id, user, texts)
    reply = await service.cancel(session, redis, chat, *target)
    return callback.answer(reply.text[:200])


async def rerun_button(
    callback: CallbackQuery,
    session: AsyncSession,
    redis: ArqRedis,
    user: BotUser,
    texts: Texts,
    bot: Bot,
) -> AnswerCallbackQuery:
    target = parse_target(callback.data or "", RERUN_PREFIX)
    if target is None:
        return callback.answer()

    async def act(chat: Chat) -> Reply | None:
        return await service.rerun(session, redis, chat, *target)

    return await _on_button(callback, user, texts, bot, act)


async def variations_button(
    callback: CallbackQuery,
    session: AsyncSession,
    redis: ArqRedis,
    user: BotUser,
    texts: Texts,
    bot: Bot,
) -> AnswerCallbackQuery:
    file_id = (callback.data or "").removeprefix(VARIATIONS_PREFIX)
    if not file_id.isdigit():
        return callback.answer()

    async def act(chat: Chat) -> Reply | None:
        inputs = {"image": int(file_id)}
        return await service.start_tool(session, redis, chat, VARIATION_TOOL, {}, inputs)

    return await _on_button(callback, user, texts, bot, act)


async def buy_button(callback: CallbackQuery, texts: Texts) -> AnswerCallbackQuery:
    return callback.answer(texts("gen.buy_hint"), show_alert=True)


def create_router() -> Router:
    """A fresh router per Dispatcher (an aiogram router has one parent)."""
    router = Router(name="generation")
    router.message.register(generate_command, Command(*COMMANDS))
    router.message.register(jobs_command, Command("jobs"))
    router.message.register(cancel_job_command, Command("cancel_job"))
    router.callback_query.register(cancel_button, CallbackIs(CANCEL_PREFIX, prefix=True))
    router.callback_query.register(rerun_button, CallbackIs(RERUN_PREFIX, prefix=True))
    router.callback_query.register(variations_button, CallbackIs(VARIATIONS_PREFIX, prefix=True))
    router.callback_query.register(buy_button, CallbackIs(BUY))
    return router
