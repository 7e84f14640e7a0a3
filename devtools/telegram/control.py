"""The control API under ``/_emulator``: what tests and the chat page do as users.

JSON in, JSON out; errors are ``{"ok": false, "error": "..."}`` with a fitting status. This is
the user's side of Telegram, so it is deliberately not shaped like the Bot API.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from devtools.telegram import initdata
from devtools.telegram.emulator import ControlError, Emulator
from devtools.telegram.methods import menu_button_for
from devtools.telegram.state import BotRecord, ChatRecord, UserRecord

router = APIRouter(prefix="/_emulator", tags=["emulator control"])
SSE_KEEPALIVE_SECONDS = 15.0


def _emulator(request: Request) -> Emulator:
    emulator: Emulator = request.app.state.emulator
    return emulator


def _bot_json(bot: BotRecord, *, with_token: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": bot.id,
        "username": bot.username,
        "first_name": bot.first_name,
        "privacy": bot.privacy,
        "webhook_url": bot.webhook.url if bot.webhook else None,
        "pending_update_count": len(bot.pending),
    }
    if with_token:
        data["token"] = bot.token
    return data


def _user_json(user: UserRecord) -> dict[str, Any]:
    return {
        "id": user.id,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "username": user.username,
        "language_code": user.language_code,
        "is_premium": user.is_premium,
    }


def _group_json(group: ChatRecord) -> dict[str, Any]:
    return {
        **group.to_api(),
        "owner_id": group.owner_id,
        "members": sorted(group.members),
        "bots": sorted(group.bots),
        "admins": sorted(group.admins),
        "banned": sorted(group.banned),
    }


class BotIn(BaseModel):
    username: str = Field(min_length=3, max_length=32, pattern=r"^[A-Za-z0-9_]+$")
    first_name: str = Field(min_length=1, max_length=64)
    token: str | None = Field(default=None, pattern=r"^\d+:[A-Za-z0-9_-]{20,}$")
    privacy: bool | None = None


class UserIn(BaseModel):
    first_name: str = Field(min_length=1, max_length=64)
    last_name: str | None = None
    username: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{3,32}$")
    language_code: str | None = "en"
    is_premium: bool = False


class GroupIn(BaseModel):
    title: str = Field(min_length=1, max_length=128)
    supergroup: bool = True
    channel: bool = False
    owner_id: int | None = None
    members: list[int] = Field(default_factory=list)
    bots: list[int] = Field(default_factory=list)
    admins: list[int] = Field(default_factory=list)  # user or bot ids
    username: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_]{5,32}$")


class AdminIn(BaseModel):
    member_id: int = Field(description="a user's or a bot's id")
    admin: bool = True


class InviteJoinIn(BaseModel):
    user_id: int
    invite_link: str


class RenewIn(BaseModel):
    charge_id: str


class MembershipIn(BaseModel):
    user_id: int | None = None
    bot_id: int | None = None


class LimitsIn(BaseModel):
    bot_per_second: float | None = Field(default=None, gt=0)
    bot_burst: int | None = Field(default=None, ge=1)
    paid_per_second: float | None = Field(default=None, gt=0)
    paid_burst: int | None = Field(default=None, ge=1)
    private_per_second: float | None = Field(default=None, gt=0)
    private_burst: int | None = Field(default=None, ge=1)
    group_per_minute: float | None = Field(default=None, gt=0)
    group_burst: int | None = Field(default=None, ge=1)


class MessageIn(BaseModel):
    user_id: int
    text: str = Field(min_length=1, max_length=4096)
    chat_id: int | None = None
    reply_to_message_id: int | None = None


class CallbackIn(BaseModel):
    user_id: int
    message_id: int
    data: str
    chat_id: int | None = None
    wait: float = Field(default=2.0, ge=0, le=30)


class UserRef(BaseModel):
    user_id: int


class PayIn(BaseModel):
    user_id: int
    chat_id: int | None = None
    message_id: int | None = None
    invoice_link: str | None = None
    answer_within: float | None = Field(default=None, ge=0, le=60)


class WebAppIn(BaseModel):
    user_id: int
    url: str | None = None
    start_param: str | None = None
    chat_type: str | None = "private"
    with_query_id: bool = True


# --------------------------------------------------------------------------- overview


@router.get("/state")
async def overview(request: Request) -> dict[str, Any]:
    em = _emulator(request)
    return {
        "bots": [_bot_json(bot) for bot in em.state.bots.values()],
        "users": [_user_json(user) for user in em.state.users.values()],
        "groups": [_group_json(group) for group in em.state.groups.values()],
        "public_key": initdata.EMULATOR_PUBLIC_KEY.hex(),
    }


# --------------------------------------------------------------------------- bots


@router.post("/bots", status_code=201)
async def create_bot(request: Request, body: BotIn) -> dict[str, Any]:
    em = _emulator(request)
    if body.token is not None:
        bot_id = int(body.token.split(":", 1)[0])
        if bot_id in em.state.bots or body.token in em.state.tokens:
            raise ControlError(409, "a bot with this id already exists")
        bot = em.state.create_bot(
            body.username, body.first_name, token=body.token, privacy=body.privacy, bot_id=bot_id
        )
    else:
        bot = em.state.create_bot(body.username, body.first_name, privacy=body.privacy)
    return _bot_json(bot)


@router.get("/bots")
async def list_bots(request: Request) -> list[dict[str, Any]]:
    return [_bot_json(bot) for bot in _emulator(request).state.bots.values()]


@router.get("/bots/{bot_id}")
async def bot_details(request: Request, bot_id: int, user_id: int | None = None) -> dict[str, Any]:
    em = _emulator(request)
    bot = em.bot(bot_id)
    language = em.state.users[user_id].language_code if user_id in em.state.users else None
    commands = (
        bot.commands.get(("all_private_chats", language or ""))
        or bot.commands.get(("default", language or ""))
        or bot.commands.get(("all_private_chats", ""))
        or bot.commands.get(("default", ""))
        or []
    )
    return {
        **_bot_json(bot),
        "commands": commands,
        "menu_button": menu_button_for(bot, user_id),
        "blocked": user_id in bot.blocked_by if user_id is not None else False,
        "limits": dict(em.state.limits_for(bot).__dict__),
    }


@router.delete("/bots/{bot_id}")
async def delete_bot(request: Request, bot_id: int) -> dict[str, Any]:
    em = _emulator(request)
    em.state.delete_bot(em.bot(bot_id))
    return {"ok": True}


@router.post("/bots/{bot_id}/revoke")
async def revoke_token(request: Request, bot_id: int) -> dict[str, Any]:
    em = _emulator(request)
    return {"token": em.state.revoke_token(em.bot(bot_id))}


@router.put("/bots/{bot_id}/limits")
async def bot_limits(request: Request, bot_id: int, body: LimitsIn) -> dict[str, Any]:
    return _emulator(request).set_limits(bot_id, **body.model_dump())


@router.put("/limits")
async def global_limits(request: Request, body: LimitsIn) -> dict[str, Any]:
    return _emulator(request).set_limits(None, **body.model_dump())


# --------------------------------------------------------------------------- users and groups


@router.post("/users", status_code=201)
async def create_user(request: Request, body: UserIn) -> dict[str, Any]:
    user = _emulator(request).state.create_user(**body.model_dump())
    return _user_json(user)


@router.get("/users")
async def list_users(request: Request) -> list[dict[str, Any]]:
    return [_user_json(user) for user in _emulator(request).state.users.values()]


@router.post("/groups", status_code=201)
async def create_group(request: Request, body: GroupIn) -> dict[str, Any]:
    group = _emulator(request).create_group(**body.model_dump())
    return _group_json(group)


@router.post("/groups/{chat_id}/join")
async def join_group(request: Request, chat_id: int, body: MembershipIn) -> dict[str, Any]:
    em = _emulator(request)
    em.join_group(chat_id, user_id=body.user_id, bot_id=body.bot_id)
    return _group_json(em.group(chat_id))


@router.post("/groups/{chat_id}/leave")
async def leave_group(request: Request, chat_id: int, body: MembershipIn) -> dict[str, Any]:
    em = _emulator(request)
    em.leave_group(chat_id, user_id=body.user_id, bot_id=body.bot_id)
    return _group_json(em.group(chat_id))


@router.post("/groups/{chat_id}/promote")
async def promote(request: Request, chat_id: int, body: MembershipIn) -> dict[str, Any]:
    em = _emulator(request)
    for member_id in (body.user_id, body.bot_id):
        if member_id is not None:
            em.promote(chat_id, member_id)
    return _group_json(em.group(chat_id))


@router.post("/groups/{chat_id}/demote")
async def demote(request: Request, chat_id: int, body: MembershipIn) -> dict[str, Any]:
    em = _emulator(request)
    for member_id in (body.user_id, body.bot_id):
        if member_id is not None:
            em.demote(chat_id, member_id)
    return _group_json(em.group(chat_id))


@router.get("/groups/{chat_id}")
async def group_details(request: Request, chat_id: int) -> dict[str, Any]:
    return _group_json(_emulator(request).group(chat_id))


@router.post("/groups/{chat_id}/admins")
async def set_admin(request: Request, chat_id: int, body: AdminIn) -> dict[str, Any]:
    em = _emulator(request)
    return _group_json(em.set_admin(chat_id, body.member_id, admin=body.admin))


@router.post("/invite_links/join")
async def join_by_invite_link(request: Request, body: InviteJoinIn) -> dict[str, Any]:
    group = _emulator(request).join_by_invite_link(body.user_id, body.invite_link)
    return _group_json(group)


# --------------------------------------------------------------------------- acting as a user


@router.get("/bots/{bot_id}/chats")
async def chats(request: Request, bot_id: int, user_id: int) -> list[dict[str, Any]]:
    return _emulator(request).chats_for(bot_id, user_id)


@router.post("/bots/{bot_id}/messages")
async def send_message(request: Request, bot_id: int, body: MessageIn) -> dict[str, Any]:
    stored, update_id = _emulator(request).send_text(
        bot_id,
        body.user_id,
        body.text,
        chat_id=body.chat_id,
        reply_to_message_id=body.reply_to_message_id,
    )
    return {**stored.transcript_entry(), "update_id": update_id}


@router.post("/bots/{bot_id}/files")
async def send_file(
    request: Request,
    bot_id: int,
    user_id: Annotated[int, Form()],
    file: Annotated[UploadFile, File()],
    kind: Annotated[str, Form()] = "document",
    caption: Annotated[str | None, Form()] = None,
    chat_id: Annotated[int | None, Form()] = None,
) -> dict[str, Any]:
    content = await file.read()
    stored, update_id = _emulator(request).send_file(
        bot_id,
        user_id,
        kind=kind,
        content=content,
        filename=file.filename or "file",
        mime_type=file.content_type or "application/octet-stream",
        caption=caption,
        chat_id=chat_id,
    )
    return {**stored.transcript_entry(), "update_id": update_id}


@router.post("/bots/{bot_id}/callback")
async def press_button(request: Request, bot_id: int, body: CallbackIn) -> dict[str, Any]:
    return await _emulator(request).press_button(
        bot_id, body.user_id, body.message_id, body.data, chat_id=body.chat_id, wait=body.wait
    )


@router.post("/bots/{bot_id}/block")
async def block(request: Request, bot_id: int, body: UserRef) -> dict[str, Any]:
    _emulator(request).block(bot_id, body.user_id)
    return {"ok": True}


@router.post("/bots/{bot_id}/unblock")
async def unblock(request: Request, bot_id: int, body: UserRef) -> dict[str, Any]:
    _emulator(request).unblock(bot_id, body.user_id)
    return {"ok": True}


@router.post("/bots/{bot_id}/pay")
async def pay(request: Request, bot_id: int, body: PayIn) -> dict[str, Any]:
    return await _emulator(request).pay_invoice(
        bot_id,
        body.user_id,
        chat_id=body.chat_id,
        message_id=body.message_id,
        invoice_link=body.invoice_link,
        answer_within=body.answer_within,
    )


@router.post("/bots/{bot_id}/subscriptions/renew")
async def renew_subscription(request: Request, bot_id: int, body: RenewIn) -> dict[str, Any]:
    """Telegram's monthly charge of a Stars subscription, now (``canceled`` if it was)."""
    return _emulator(request).renew_subscription(bot_id, body.charge_id)


@router.post("/bots/{bot_id}/web_app")
async def web_app(request: Request, bot_id: int, body: WebAppIn) -> dict[str, Any]:
    return _emulator(request).web_app_launch(
        bot_id,
        body.user_id,
        url=body.url,
        start_param=body.start_param,
        chat_type=body.chat_type,
        with_query_id=body.with_query_id,
    )


@router.get("/bots/{bot_id}/chats/{chat_id}/transcript")
async def transcript(
    request: Request, bot_id: int, chat_id: int, include_deleted: bool = False
) -> list[dict[str, Any]]:
    return _emulator(request).transcript(bot_id, chat_id, include_deleted=include_deleted)


# --------------------------------------------------------------------------- media and live updates


@router.get("/files/{file_id}")
async def file_content(request: Request, file_id: str) -> Response:
    stored = _emulator(request).state.files.get(file_id)
    if stored is None:
        raise ControlError(404, "file not found")
    media_type = stored.mime_type or (
        "image/jpeg" if stored.kind == "photo" else "application/octet-stream"
    )
    if stored.kind == "photo":
        media_type = _sniff_image(stored.content) or media_type
    return Response(
        stored.content, media_type=media_type, headers={"Cache-Control": "max-age=3600"}
    )


def _sniff_image(content: bytes) -> str | None:
    if content.startswith(b"\x89PNG"):
        return "image/png"
    if content.startswith(b"GIF8"):
        return "image/gif"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content.startswith(b"\xff\xd8"):
        return "image/jpeg"
    return None


@router.get("/events")
async def events(
    request: Request, bot_id: int | None = None, chat_id: int | None = None
) -> StreamingResponse:
    """Server-sent events for the chat page: messages, edits, deletions, answers, payments."""
    em = _emulator(request)
    queue = em.state.events.subscribe()

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 1000\n\n"
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), SSE_KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if event is None:
                    return
                if bot_id is not None and event.get("bot_id") != bot_id:
                    continue
                if chat_id is not None and event.get("chat_id") not in (chat_id, None):
                    continue
                yield f"data: {json.dumps(event, ensure_ascii=False)}\n\n"
        finally:
            em.state.events.unsubscribe(queue)

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
