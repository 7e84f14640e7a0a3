"""Talking to the Bot API on behalf of a tenant before it exists: validating a BotFather token."""

from __future__ import annotations

import re
from dataclasses import dataclass

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError, TelegramUnauthorizedError
from redis.asyncio import Redis

from tenants.chatlog.record import RecordSends
from tenants.errors import InvalidBotTokenError, TelegramUnreachableError

# BotFather tokens: "<bot id>:<35 url-safe characters>"; checked before any network call.
TOKEN_PATTERN = re.compile(r"^(?P<bot_id>\d{3,20}):[A-Za-z0-9_-]{30,64}$")


@dataclass(frozen=True, slots=True)
class BotIdentity:
    telegram_bot_id: int
    username: str
    first_name: str


def parse_token(token: str) -> int:
    """Return the bot id a token claims, or refuse a malformed token without a network call."""
    match = TOKEN_PATTERN.match(token.strip())
    if match is None:
        raise InvalidBotTokenError(
            "this does not look like a bot token; copy the whole token BotFather sent "
            "(it looks like 123456789:AA...)"
        )
    return int(match["bot_id"])


def make_session(api_base: str, redis: Redis | None = None) -> AiohttpSession:
    """A Bot API session; with ``redis``, what it sends to fans goes into the chat history."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base))
    if redis is not None:
        session.middleware(RecordSends(redis))
    return session


async def fetch_bot_identity(
    token: str, *, api_base: str, request_timeout: int = 10
) -> BotIdentity:
    """Ask Telegram who owns ``token`` (``getMe``); a revoked or wrong token is refused."""
    claimed_id = parse_token(token)
    session = make_session(api_base)
    bot = Bot(token.strip(), session=session)
    try:
        me = await bot.get_me(request_timeout=request_timeout)
    except TelegramUnauthorizedError:
        raise InvalidBotTokenError(
            "Telegram rejected this token (revoked or mistyped); ask BotFather for the current one"
        ) from None
    except TelegramNetworkError as exc:
        raise TelegramUnreachableError(
            f"cannot reach the Telegram Bot API: {exc.message}"
        ) from None
    except TelegramAPIError as exc:
        raise TelegramUnreachableError(f"Telegram answered an error: {exc.message}") from None
    finally:
        await session.close()
    if me.id != claimed_id or not me.is_bot or not me.username:
        raise InvalidBotTokenError("this token does not belong to a bot")
    return BotIdentity(telegram_bot_id=me.id, username=me.username, first_name=me.first_name)
