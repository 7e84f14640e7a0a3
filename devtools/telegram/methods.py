"""Bot API method handlers: what ``POST /bot{token}/{method}`` does for each method.

Each handler takes the emulator, the calling bot and its ``Params`` and returns the ``result``
Telegram would return (or raises ``ApiError``). Method names are case-insensitive, as on
Telegram. Results are the JSON shapes of Telegram's types so aiogram parses them unchanged.
"""

from __future__ import annotations

import io
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from devtools.telegram import rules
from devtools.telegram.rules import ApiError, Params, UploadedFile, bad_request, forbidden
from devtools.telegram.state import (
    MEDIA_KINDS,
    BotRecord,
    Charge,
    ChatRecord,
    InviteLinkRecord,
    InvoiceRecord,
    StoredFile,
    StoredMessage,
    WebhookConfig,
)

if TYPE_CHECKING:
    from devtools.telegram.emulator import Emulator

Handler = Callable[["Emulator", BotRecord, Params], Awaitable[Any]]
METHODS: dict[str, Handler] = {}

#: Telegram's flat description of a query that no longer exists.
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
STARS_SUBSCRIPTION_PERIOD = 2592000
MAX_STARS_AMOUNT = 10000
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
CONTENT_KEYS = (
    "text",
    "entities",
    "caption",
    "caption_entities",
    "has_media_spoiler",
    *MEDIA_KINDS,
)


@dataclass
class Described:
    """A result that carries Telegram's optional ``description`` (e.g. "Webhook was set")."""

    result: Any
    description: str


def method(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        METHODS[name.lower()] = handler
        return handler

    return register


async def call_method(em: Emulator, bot: BotRecord, name: str, params: Params) -> Any:
    handler = METHODS.get(name.lower())
    if handler is None:
        raise ApiError(404, "Not Found")
    return await handler(em, bot, params)


# --------------------------------------------------------------------------- shared helpers


def _chat_id(em: Emulator, p: Params, name: str = "chat_id") -> int:
    value = p.raw(name)
    if value is None or value == "":
        raise bad_request(f"{name} is empty")
    if isinstance(value, str) and value.startswith("@"):
        username = value[1:].lower()
        for group in em.state.groups.values():
            if group.username and group.username.lower() == username:
                return group.id
        raise bad_request("chat not found")
    try:
        chat_id = p.integer(name)
    except ApiError:
        raise bad_request("chat not found") from None
    if chat_id is None or em.state.chat_api(chat_id) is None:
        raise bad_request("chat not found")
    return chat_id


def _check_can_send(em: Emulator, bot: BotRecord, chat_id: int) -> None:
    if chat_id > 0:
        if chat_id in bot.blocked_by:
            raise forbidden("bot was blocked by the user")
        if chat_id not in bot.started_by:
            raise forbidden("bot can't initiate conversation with a user")
        return
    group = em.state.groups[chat_id]
    if bot.id not in group.bots:
        kind = group.type if group.type in ("supergroup", "channel") else "group"
        raise forbidden(f"bot is not a member of the {kind} chat")
    if group.is_channel and bot.id not in group.admins:
        raise bad_request("need administrator rights in the channel chat")


def _rate_limit(em: Emulator, bot: BotRecord, chat_id: int, p: Params, cost: int = 1) -> None:
    wait = em.state.limiter.acquire(
        em.state.limits_for(bot),
        bot.id,
        chat_id,
        em.state.chat_type(chat_id),
        paid=p.flag("allow_paid_broadcast"),
        cost=cost,
    )
    if wait:
        raise rules.too_many_requests(wait)


def _markup(em: Emulator, p: Params) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """Split reply_markup into the inline keyboard (part of the message) and the rest."""
    markup = rules.check_reply_markup(
        p.json("reply_markup", error="can't parse reply keyboard markup JSON object"),
        allow_insecure=em.settings.allow_insecure_urls,
    )
    if markup is None:
        return None, None
    if "inline_keyboard" in markup:
        return markup, None
    if "keyboard" in markup:
        return None, rules.normalize_reply_keyboard(markup)
    return None, markup


def _reply_to(em: Emulator, bot: BotRecord, chat_id: int, p: Params) -> dict[str, Any] | None:
    reply_id: int | None = None
    allow_missing = p.flag("allow_sending_without_reply")
    parameters = p.json("reply_parameters", error="can't parse reply parameters JSON object")
    if isinstance(parameters, dict):
        reply_id = (
            parameters.get("message_id") if isinstance(parameters.get("message_id"), int) else None
        )
        allow_missing = allow_missing or bool(parameters.get("allow_sending_without_reply"))
        if reply_id is None:
            raise bad_request("message to be replied not found")
    elif parameters is not None:
        raise bad_request("can't parse reply parameters JSON object")
    else:
        reply_id = p.integer("reply_to_message_id")
    if reply_id is None:
        return None
    target = em.state.find_message(bot.id, chat_id, reply_id)
    if target is None:
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")
    return {k: v for k, v in target.data.items() if k != "reply_to_message"}


def _formatted(text: str, p: Params, prefix: str = "") -> tuple[str, list[dict[str, Any]]]:
    entities_name = f"{prefix}entities" if prefix else "entities"
    entities = p.json(entities_name, error="can't parse entities JSON object")
    parsed, found = rules.parse_formatted(text, p.text("parse_mode"), entities)
    return rules.strip_formatted(parsed, found)


def _caption(p: Params, source: dict[str, Any] | None = None) -> dict[str, Any]:
    """Caption fields for a media message; ``source`` is an InputMedia item in a media group."""
    if source is not None:
        caption = source.get("caption")
        parse_mode = source.get("parse_mode")
        entities = source.get("caption_entities")
    else:
        caption = p.text("caption")
        parse_mode = p.text("parse_mode")
        entities = p.json("caption_entities", error="can't parse entities JSON object")
    if not caption:
        return {}
    if not isinstance(caption, str):
        raise bad_request('field "caption" must be of type String')
    text, found = rules.parse_formatted(caption, parse_mode, entities)
    text, found = rules.strip_formatted(text, found)
    rules.check_caption(text)
    content: dict[str, Any] = {"caption": text}
    if found:
        content["caption_entities"] = found
    return content


async def _send(
    em: Emulator,
    bot: BotRecord,
    p: Params,
    chat_id: int,
    content: dict[str, Any],
    *,
    invoice_slug: str | None = None,
) -> StoredMessage:
    """The common tail of every send method: markup, permissions, flood limits, storage."""
    inline, keyboard = _markup(em, p)
    reply = _reply_to(em, bot, chat_id, p)
    p.flag("disable_notification")  # read for its type check: Telegram rejects "maybe"
    _check_can_send(em, bot, chat_id)
    _rate_limit(em, bot, chat_id, p)
    if reply is not None:
        content["reply_to_message"] = reply
    if inline is not None and inline.get("inline_keyboard"):
        content["reply_markup"] = inline
    if p.flag("protect_content"):
        content["has_protected_content"] = True
    stored = em.state.add_message(
        bot, chat_id, bot.to_api(), content, from_bot=True, reply_keyboard=keyboard
    )
    stored.invoice_slug = invoice_slug
    return stored


def _own_message(em: Emulator, bot: BotRecord, p: Params, missing: str) -> StoredMessage:
    if p.has("inline_message_id"):
        raise bad_request("MESSAGE_ID_INVALID")
    chat_id = _chat_id(em, p)
    message_id = p.integer("message_id", required="message identifier is not specified")
    assert message_id is not None
    stored = em.state.find_message(bot.id, chat_id, message_id)
    if stored is None:
        raise bad_request(missing)
    return stored


def _finish_edit(
    em: Emulator, stored: StoredMessage, changes: dict[str, Any], markup: Any
) -> dict[str, Any]:
    """Apply an edit unless nothing changes (Telegram answers "message is not modified")."""
    data = stored.data
    updated = dict(data)
    for key, value in changes.items():
        if value in (None, []):
            updated.pop(key, None)
        else:
            updated[key] = value
    if markup is not None and markup.get("inline_keyboard"):
        updated["reply_markup"] = markup
    else:
        updated.pop("reply_markup", None)
    comparable = ("text", "entities", "caption", "caption_entities", "reply_markup")
    if all(updated.get(k) == data.get(k) for k in comparable):
        raise bad_request(NOT_MODIFIED)
    updated["edit_date"] = int(time.time())
    stored.data = updated
    em.state.publish_edit(stored)
    return updated


# --------------------------------------------------------------------------- files


def _file_kind_name(kind: str) -> str:
    return {
        "photo": "Photo",
        "video": "Video",
        "audio": "Audio",
        "voice": "Voice",
        "animation": "Animation",
    }.get(kind, "Document")


async def _input_file(
    em: Emulator, bot: BotRecord, p: Params, value: Any, field_name: str
) -> StoredFile | UploadedFile:
    """Resolve an upload, ``attach://name``, a reusable file_id or an HTTP URL."""
    if field_name in p.files:
        return p.files[field_name]
    if isinstance(value, str) and value.startswith("attach://"):
        attached = p.files.get(value.removeprefix("attach://"))
        if attached is None:
            raise bad_request(f'can\'t find attached file "{value.removeprefix("attach://")}"')
        return attached
    if not isinstance(value, str) or not value:
        raise bad_request(f"there is no {field_name} in the request")
    if value.startswith(("http://", "https://")):
        return await _download(em, value)
    stored = em.state.files.get(value)
    if stored is None or stored.bot_id != bot.id:
        raise bad_request("wrong file identifier/HTTP URL specified")
    return stored


async def _download(em: Emulator, url: str) -> UploadedFile:
    limit = em.settings.max_upload_bytes
    try:
        async with httpx.AsyncClient(timeout=10.0, follow_redirects=True) as client:
            response = await client.get(url)
    except httpx.HTTPError:
        raise bad_request("failed to get HTTP URL content") from None
    if response.status_code != 200:
        raise bad_request("failed to get HTTP URL content")
    if len(response.content) > limit:
        raise bad_request("file is too big")
    name = urlsplit(url).path.rsplit("/", 1)[-1] or "file"
    content_type = response.headers.get("content-type", "application/octet-stream").split(";")[0]
    return UploadedFile(filename=name, content_type=content_type, content=response.content)


def image_size(content: bytes) -> tuple[int, int]:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(content)) as image:
            return image.size
    except (UnidentifiedImageError, OSError, ValueError):
        raise bad_request("IMAGE_PROCESS_FAILED") from None


def media_object(kind: str, stored: StoredFile, extra: dict[str, Any]) -> Any:
    """The Telegram type for one stored file (PhotoSize list, Video, Audio, ...)."""
    base: dict[str, Any] = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
    }
    if kind == "photo":
        return [{**base, "width": stored.width, "height": stored.height}]
    if stored.file_name and kind in ("video", "audio", "animation", "document"):
        base["file_name"] = stored.file_name
    if stored.mime_type and kind != "photo":
        base["mime_type"] = stored.mime_type
    if kind in ("video", "animation"):
        base.update(width=stored.width, height=stored.height, duration=stored.duration)
    if kind in ("audio", "voice"):
        base["duration"] = stored.duration
    if kind == "audio":
        for key in ("performer", "title"):
            if extra.get(key):
                base[key] = extra[key]
    return base


async def _media_content(
    em: Emulator,
    bot: BotRecord,
    p: Params,
    kind: str,
    value: Any,
    field_name: str,
    extra: dict[str, Any],
) -> dict[str, Any]:
    source = await _input_file(em, bot, p, value, field_name)
    if isinstance(source, UploadedFile):
        if not source.content:
            raise bad_request("file must be non-empty")
        if len(source.content) > em.settings.max_upload_bytes:
            raise ApiError(413, "Request Entity Too Large")
        width = height = 0
        if kind == "photo":
            if len(source.content) > em.settings.max_photo_bytes:
                raise bad_request("PHOTO_SAVE_FILE_INVALID")
            width, height = image_size(source.content)
        else:
            width = _int(extra.get("width"))
            height = _int(extra.get("height"))
        mime = source.content_type
        if kind == "voice" and mime == "application/octet-stream":
            mime = "audio/ogg"
        stored = em.state.store_file(
            bot.id,
            kind,
            source.content,
            mime_type=None if kind == "photo" else mime,
            file_name=None if kind in ("photo", "voice") else source.filename,
            width=width,
            height=height,
            duration=_int(extra.get("duration")),
        )
    else:
        stored = source
        if (stored.kind == "photo") != (kind == "photo"):
            raise bad_request(
                f"can't use file of type {_file_kind_name(stored.kind)} as {_file_kind_name(kind)}"
            )
    content: dict[str, Any] = {kind: media_object(kind, stored, extra)}
    if extra.get("has_spoiler") in (True, "true") and kind in ("photo", "video", "animation"):
        content["has_media_spoiler"] = True
    return content


def _int(value: Any) -> int:
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return 0


# --------------------------------------------------------------------------- identity and updates


@method("getMe")
async def get_me(em: Emulator, bot: BotRecord, p: Params) -> Any:
    return bot.get_me()


@method("logOut")
async def log_out(em: Emulator, bot: BotRecord, p: Params) -> Any:
    return True


@method("close")
async def close(em: Emulator, bot: BotRecord, p: Params) -> Any:
    return True


_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _allowed_updates(p: Params) -> list[str] | None:
    value = p.json("allowed_updates", error="can't parse allowed_updates JSON object")
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request("can't parse allowed_updates JSON object")
    return value


@method("setWebhook")
async def set_webhook(em: Emulator, bot: BotRecord, p: Params) -> Any:
    url = p.text("url") or ""
    allowed = _allowed_updates(p)
    if not url:
        return await delete_webhook(em, bot, p)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
    if parts.scheme != "https" and not em.settings.allow_insecure_urls:
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.text("secret_token")
    if secret is not None and not _SECRET_RE.fullmatch(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = p.integer("max_connections") or 40
    if not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    if allowed is not None:
        bot.allowed_updates = allowed
    if p.flag("drop_pending_updates"):
        em.delivery.drop_pending(bot)
    same = bot.webhook is not None and bot.webhook.url == url
    bot.webhook = WebhookConfig(
        url=url,
        secret_token=secret,
        max_connections=max_connections,
        ip_address=p.text("ip_address"),
    )
    bot.last_error_date = bot.last_error_message = None
    em.delivery.wake(bot)
    return Described(True, "Webhook is already set" if same else "Webhook was set")


@method("deleteWebhook")
async def delete_webhook(em: Emulator, bot: BotRecord, p: Params) -> Any:
    if p.flag("drop_pending_updates"):
        em.delivery.drop_pending(bot)
    had = bot.webhook is not None
    bot.webhook = None
    em.delivery.wake(bot)
    return Described(True, "Webhook was deleted" if had else "Webhook is already deleted")


@method("getWebhookInfo")
async def get_webhook_info(em: Emulator, bot: BotRecord, p: Params) -> Any:
    info: dict[str, Any] = {
        "url": bot.webhook.url if bot.webhook else "",
        "has_custom_certificate": False,
        "pending_update_count": len(bot.pending),
    }
    if bot.webhook:
        info["max_connections"] = bot.webhook.max_connections
        if bot.webhook.ip_address:
            info["ip_address"] = bot.webhook.ip_address
    if bot.last_error_date:
        info["last_error_date"] = bot.last_error_date
        info["last_error_message"] = bot.last_error_message
    if bot.allowed_updates:
        info["allowed_updates"] = bot.allowed_updates
    return info


@method("getUpdates")
async def get_updates(em: Emulator, bot: BotRecord, p: Params) -> Any:
    limit = p.integer("limit") or 100
    limit = min(max(limit, 1), 100)
    timeout = p.integer("timeout") or 0
    allowed = _allowed_updates(p)
    if allowed is not None:
        bot.allowed_updates = allowed
    return await em.delivery.get_updates(bot, p.integer("offset"), limit, float(timeout))


# --------------------------------------------------------------------------- sending messages


@method("sendMessage")
async def send_message(em: Emulator, bot: BotRecord, p: Params) -> Any:
    chat_id = _chat_id(em, p)
    raw = rules.check_not_empty(p.text("text"))
    text, entities = _formatted(raw, p)
    rules.check_text(text)
    content: dict[str, Any] = {"text": text}
    if entities:
        content["entities"] = entities
    return (await _send(em, bot, p, chat_id, content)).data


def _media_method(kind: str) -> Handler:
    async def handler(em: Emulator, bot: BotRecord, p: Params) -> Any:
        chat_id = _chat_id(em, p)
        caption = _caption(p)
        extra = {
            key: p.raw(key)
            for key in ("width", "height", "duration", "performer", "title", "has_spoiler")
        }
        content = await _media_content(em, bot, p, kind, p.raw(kind), kind, extra)
        content.update(caption)
        return (await _send(em, bot, p, chat_id, content)).data

    handler.__name__ = f"send_{kind}"
    handler.__doc__ = f"send{kind.title()}: upload, file_id or URL, with an optional caption."
    return handler


for _kind in ("photo", "video", "audio", "voice", "document", "animation"):
    method(f"send{_kind.title()}")(_media_method(_kind))


@method("sendMediaGroup")
async def send_media_group(em: Emulator, bot: BotRecord, p: Params) -> Any:
    chat_id = _chat_id(em, p)
    media = p.json("media", error="can't parse media JSON object")
    if not isinstance(media, list) or not all(isinstance(item, dict) for item in media):
        raise bad_request("can't parse media JSON object")
    if not 2 <= len(media) <= 10:
        raise bad_request("wrong number of media specified; must be 2-10")
    kinds = [item.get("type") for item in media]
    if any(kind not in ("photo", "video", "audio", "document") for kind in kinds):
        raise bad_request("wrong media type specified in media group")
    for only in ("audio", "document"):
        if only in kinds and any(kind != only for kind in kinds):
            raise bad_request(f"{only} can't be mixed with other media types")
    _check_can_send(em, bot, chat_id)
    _rate_limit(em, bot, chat_id, p, cost=len(media))
    contents = []
    for item in media:
        kind = str(item["type"])
        content = await _media_content(em, bot, p, kind, item.get("media"), "", item)
        content.update(_caption(p, item))
        contents.append(content)
    group_id = str(int(time.time() * 1000) * 1000 + len(contents))
    reply = _reply_to(em, bot, chat_id, p)
    messages = []
    for content in contents:
        content["media_group_id"] = group_id
        if reply is not None:
            content["reply_to_message"] = reply
        stored = em.state.add_message(bot, chat_id, bot.to_api(), content, from_bot=True)
        messages.append(stored.data)
    return messages


def _copyable(stored: StoredMessage) -> dict[str, Any]:
    content = {k: v for k, v in stored.data.items() if k in CONTENT_KEYS}
    if not any(k in content for k in ("text", *MEDIA_KINDS)):
        raise bad_request("message can't be copied")
    return content


def _source(em: Emulator, bot: BotRecord, p: Params, missing: str) -> StoredMessage:
    from_chat = _chat_id(em, p, "from_chat_id")
    message_id = p.integer("message_id", required="message identifier is not specified")
    assert message_id is not None
    stored = em.state.find_message(bot.id, from_chat, message_id)
    if stored is None:
        raise bad_request(missing)
    return stored


@method("forwardMessage")
async def forward_message(em: Emulator, bot: BotRecord, p: Params) -> Any:
    chat_id = _chat_id(em, p)
    source = _source(em, bot, p, "message to forward not found")
    content = _copyable(source)
    content.pop("reply_markup", None)
    content["forward_origin"] = {
        "type": "user",
        "sender_user": source.data["from"],
        "date": source.data["date"],
    }
    _check_can_send(em, bot, chat_id)
    _rate_limit(em, bot, chat_id, p)
    stored = em.state.add_message(bot, chat_id, bot.to_api(), content, from_bot=True)
    return stored.data


@method("copyMessage")
async def copy_message(em: Emulator, bot: BotRecord, p: Params) -> Any:
    chat_id = _chat_id(em, p)
    source = _source(em, bot, p, "message to copy not found")
    content = _copyable(source)
    if p.raw("caption") is not None and "text" not in content:
        content.pop("caption", None)
        content.pop("caption_entities", None)
        content.update(_caption(p))
    stored = await _send(em, bot, p, chat_id, content)
    return {"message_id": stored.message_id}


@method("sendChatAction")
async def send_chat_action(em: Emulator, bot: BotRecord, p: Params) -> Any:
    chat_id = _chat_id(em, p)
    action = p.text("action", required="wrong parameter action in request")
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    _check_can_send(em, bot, chat_id)
    em.state.conversation(bot.id, chat_id).last_action = action
    em.state.events.publish(
        {"type": "action", "bot_id": bot.id, "chat_id": chat_id, "action": action}
    )
    return True


# --------------------------------------------------------------------------- editing


@method("editMessageText")
async def edit_message_text(em: Emulator, bot: BotRecord, p: Params) -> Any:
    stored = _own_message(em, bot, p, "message to edit not found")
    raw = rules.check_not_empty(p.text("text"))
    text, entities = _formatted(raw, p)
    rules.check_text(text)
    inline, _ = _markup(em, p)
    if not stored.from_bot:
        raise bad_request("message can't be edited")
    if "text" not in stored.data:
        raise bad_request("there is no text in the message to edit")
    return _finish_edit(em, stored, {"text": text, "entities": entities}, inline)


@method("editMessageCaption")
async def edit_message_caption(em: Emulator, bot: BotRecord, p: Params) -> Any:
    stored = _own_message(em, bot, p, "message to edit not found")
    caption = _caption(p)
    inline, _ = _markup(em, p)
    if not stored.from_bot:
        raise bad_request("message can't be edited")
    if not any(kind in stored.data for kind in MEDIA_KINDS):
        raise bad_request("there is no caption in the message to edit")
    changes = {
        "caption": caption.get("caption"),
        "caption_entities": caption.get("caption_entities"),
    }
    return _finish_edit(em, stored, changes, inline)


@method("editMessageReplyMarkup")
async def edit_message_reply_markup(em: Emulator, bot: BotRecord, p: Params) -> Any:
    stored = _own_message(em, bot, p, "message to edit not found")
    inline, _ = _markup(em, p)
    if not stored.from_bot:
        raise bad_request("message can't be edited")
    return _finish_edit(em, stored, {}, inline)


@method("deleteMessage")
async def delete_message(em: Emulator, bot: BotRecord, p: Params) -> Any:
    chat_id = _chat_id(em, p)
    message_id = p.integer("message_id", required="message identifier is not specified")
    assert message_id is not None
    stored = em.state.find_message(bot.id, chat_id, message_id)
    if stored is None:
        raise bad_request("message to delete not found")
    stored.deleted = True
    em.state.events.publish(
        {"type": "delete", "bot_id": bot.id, "chat_id": chat_id, "message_id": message_id}
    )
    return True


# --------------------------------------------------------------------------- callbacks


@method("answerCallbackQuery")
async def answer_callback_query(em: Emulator, bot: BotRecord, p: Params) -> Any:
    query_id = p.text("callback_query_id", required="query_id is empty") or ""
    text = p.text("text")
    if text is not None and len(text) > rules.MAX_CALLBACK_ANSWER_TEXT:
        raise bad_request("MESSAGE_TOO_LONG")
    em.state.expire_answers()
    pending = em.state.pending_answers.get(query_id)
    if (
        pending is None
        or pending.kind != "callback"
        or pending.bot_id != bot.id
        or pending.future.done()
    ):
        raise bad_request(QUERY_TOO_OLD)
    answer = {"text": text, "show_alert": p.flag("show_alert"), "url": p.text("url")}
    pending.future.set_result(answer)
    em.state.events.publish(
        {
            "type": "callback_answer",
            "bot_id": bot.id,
            "chat_id": pending.context.get("chat_id"),
            "callback_query_id": query_id,
            **answer,
        }
    )
    return True


# --------------------------------------------------------------------------- files


@method("getFile")
async def get_file(em: Emulator, bot: BotRecord, p: Params) -> Any:
    file_id = p.text("file_id", required="file_id is empty")
    stored = em.state.files.get(file_id or "")
    if stored is None or stored.bot_id != bot.id:
        raise bad_request("wrong file_id or the file is temporarily unavailable")
    if stored.size > em.settings.max_download_bytes:
        raise bad_request("file is too big")
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": stored.size,
        "file_path": stored.file_path,
    }


# --------------------------------------------------------------------------- commands and menu


def _scope_key(scope: Any) -> str:
    if scope is None:
        return "default"
    if not isinstance(scope, dict) or not isinstance(scope.get("type"), str):
        raise bad_request("can't parse BotCommandScope JSON object")
    kind = str(scope["type"])
    if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
        return kind
    if kind in ("chat", "chat_administrators", "chat_member"):
        if "chat_id" not in scope:
            raise bad_request("can't parse BotCommandScope JSON object")
        key = f"{kind}:{scope['chat_id']}"
        if kind == "chat_member":
            key += f":{scope.get('user_id')}"
        return key
    raise bad_request("wrong BotCommandScope type specified")


def _language(p: Params) -> str:
    language = p.text("language_code") or ""
    if language and not re.fullmatch(r"[a-z]{2}", language):
        raise bad_request("LANG_CODE_INVALID")
    return language


@method("setMyCommands")
async def set_my_commands(em: Emulator, bot: BotRecord, p: Params) -> Any:
    commands = p.json("commands", error="can't parse commands JSON object")
    if not isinstance(commands, list) or not all(isinstance(c, dict) for c in commands):
        raise bad_request("can't parse commands JSON object")
    if len(commands) > 100:
        raise bad_request("too many commands specified")
    cleaned = []
    for command in commands:
        name = command.get("command")
        description = command.get("description")
        if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name.lstrip("/")):
            raise bad_request("BOT_COMMAND_INVALID")
        if not isinstance(description, str) or not 1 <= len(description.strip()) <= 256:
            raise bad_request("command description must be non-empty")
        cleaned.append({"command": name.lstrip("/"), "description": description})
    key = (
        _scope_key(p.json("scope", error="can't parse BotCommandScope JSON object")),
        _language(p),
    )
    bot.commands[key] = cleaned
    return True


@method("getMyCommands")
async def get_my_commands(em: Emulator, bot: BotRecord, p: Params) -> Any:
    key = (
        _scope_key(p.json("scope", error="can't parse BotCommandScope JSON object")),
        _language(p),
    )
    return bot.commands.get(key, [])


@method("deleteMyCommands")
async def delete_my_commands(em: Emulator, bot: BotRecord, p: Params) -> Any:
    key = (
        _scope_key(p.json("scope", error="can't parse BotCommandScope JSON object")),
        _language(p),
    )
    bot.commands.pop(key, None)
    return True


@method("setChatMenuButton")
async def set_chat_menu_button(em: Emulator, bot: BotRecord, p: Params) -> Any:
    chat_id = _chat_id(em, p) if p.has("chat_id") else None
    button = p.json("menu_button", error="can't parse menu button JSON object")
    if button is None:
        button = {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
        raise bad_request("can't parse menu button JSON object")
    if button["type"] == "web_app":
        if not isinstance(button.get("text"), str) or not button["text"].strip():
            raise bad_request("menu button text must be non-empty")
        rules.check_web_app(button.get("web_app"), em.settings.allow_insecure_urls, "menu button")
    bot.menu_buttons[chat_id] = button
    em.state.events.publish({"type": "menu", "bot_id": bot.id, "chat_id": chat_id})
    return True


@method("getChatMenuButton")
async def get_chat_menu_button(em: Emulator, bot: BotRecord, p: Params) -> Any:
    chat_id = _chat_id(em, p) if p.has("chat_id") else None
    return menu_button_for(bot, chat_id)


def menu_button_for(bot: BotRecord, chat_id: int | None) -> dict[str, Any]:
    button = bot.menu_buttons.get(chat_id) or bot.menu_buttons.get(None) or {"type": "commands"}
    return {"type": "commands"} if button.get("type") == "default" else button


@method("setMyDescription")
async def set_my_description(em: Emulator, bot: BotRecord, p: Params) -> Any:
    description = p.text("description") or ""
    if len(description) > 512:
        raise bad_request("description is too long")
    bot.description = description
    return True


@method("getMyDescription")
async def get_my_description(em: Emulator, bot: BotRecord, p: Params) -> Any:
    return {"description": bot.description}


@method("getMyName")
async def get_my_name(em: Emulator, bot: BotRecord, p: Params) -> Any:
    return {"name": bot.first_name}


# --------------------------------------------------------------------------- chats


_GIFT_TYPES = {
    "unlimited_gifts": True,
    "limited_gifts": True,
    "unique_gifts": True,
    "premium_subscription": True,
    "gifts_from_channels": True,
}


@method("getChat")
async def get_chat(em: Emulator, bot: BotRecord, p: Params) -> Any:
    chat_id = _chat_id(em, p)
    chat = em.state.chat_api(chat_id) or {}
    info = {
        **chat,
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": _GIFT_TYPES,
    }
    if chat_id < 0 and bot.id not in em.state.groups[chat_id].bots:
        raise bad_request("chat not found")
    return info


@method("getChatMember")
async def get_chat_member(em: Emulator, bot: BotRecord, p: Params) -> Any:
    chat_id = _chat_id(em, p)
    user_id = p.integer("user_id", required="user not found")
    user: dict[str, Any] | None = None
    if user_id == bot.id:
        user = bot.to_api()
    elif user_id in em.state.users:
        user = em.state.users[user_id].to_api()
    if user is None or user_id is None:
        raise bad_request("user not found")
    if chat_id > 0:
        status = "member" if user_id in (chat_id, bot.id) else "left"
        return {"status": status, "user": user}
    group = _visible_group(em, bot, chat_id)
    if user_id != bot.id:
        _require_member_list(group, bot)
    return group.member_api(user, group.status_of(user_id))


@method("getChatAdministrators")
async def get_chat_administrators(em: Emulator, bot: BotRecord, p: Params) -> Any:
    chat_id = _chat_id(em, p)
    if chat_id > 0:
        raise bad_request("there are no administrators in the private chat")
    group = _visible_group(em, bot, chat_id)
    _require_member_list(group, bot)
    result = []
    if group.owner_id is not None and group.owner_id in em.state.users:
        result.append(group.member_api(em.state.users[group.owner_id].to_api(), "creator"))
    for admin_id in sorted(group.admins):
        record = em.state.bots.get(admin_id) or em.state.users.get(admin_id)
        if record is not None:
            result.append(group.member_api(record.to_api(), "administrator"))
    return result


@method("getChatMemberCount")
async def get_chat_member_count(em: Emulator, bot: BotRecord, p: Params) -> Any:
    chat_id = _chat_id(em, p)
    if chat_id > 0:
        return 2 if chat_id in em.state.users else 1  # the user and the bot
    group = _visible_group(em, bot, chat_id)
    _require_member_list(group, bot)
    return len(group.members | group.bots)


@method("leaveChat")
async def leave_chat(em: Emulator, bot: BotRecord, p: Params) -> Any:
    """The bot leaves a group or channel; like Telegram, it then gets its own
    ``my_chat_member`` update (``left``)."""
    chat_id = _chat_id(em, p)
    if chat_id > 0:
        raise bad_request("chat member status can't be changed in private chats")
    group = _visible_group(em, bot, chat_id)
    old = group.status_of(bot.id)
    group.bots.discard(bot.id)
    group.admins.discard(bot.id)
    em._member_update(bot, group.to_api(), bot.to_api(), old, "left", group)
    return True


def _visible_group(em: Emulator, bot: BotRecord, chat_id: int) -> ChatRecord:
    """The group or channel, if the bot is in it (Telegram hides other chats entirely)."""
    group = em.state.groups[chat_id]
    if bot.id not in group.bots:
        raise bad_request("chat not found")
    return group


def _require_member_list(group: ChatRecord, bot: BotRecord) -> None:
    """A channel's members are visible to its administrators only."""
    if group.is_channel and bot.id not in group.admins:
        raise bad_request("member list is inaccessible")


def _administered(em: Emulator, bot: BotRecord, p: Params, refusal: str) -> ChatRecord:
    """The group of ``chat_id`` if the bot is one of its administrators, else Telegram's
    refusal (``refusal`` names the missing right)."""
    chat_id = _chat_id(em, p)
    if chat_id > 0:
        raise bad_request("method is available for supergroup and channel chats only")
    group = em.state.groups[chat_id]
    if bot.id not in group.bots:
        raise bad_request("chat not found")
    if bot.id not in group.admins:
        raise bad_request(f"not enough rights to {refusal}")
    return group


@method("createChatInviteLink")
async def create_chat_invite_link(em: Emulator, bot: BotRecord, p: Params) -> Any:
    group = _administered(em, bot, p, "manage chat invite links")
    name = p.text("name")
    if name is not None and len(name) > 32:
        raise bad_request("invite link name is too long")
    member_limit = p.integer("member_limit")
    if member_limit is not None and not 1 <= member_limit <= 99_999:
        raise bad_request("member limit must be between 1 and 99999")
    join_request = p.flag("creates_join_request")
    if join_request and member_limit is not None:
        raise bad_request("can't create invite link with both member limit and join request")
    expire_date = p.integer("expire_date")
    record = InviteLinkRecord(
        link=f"https://t.me/+{secrets.token_urlsafe(12)}",
        chat_id=group.id,
        creator=bot.to_api(),
        name=name,
        expire_date=expire_date,
        member_limit=member_limit,
        creates_join_request=join_request,
    )
    group.invite_links[record.link] = record
    return record.to_api()


@method("banChatMember")
async def ban_chat_member(em: Emulator, bot: BotRecord, p: Params) -> Any:
    group = _administered(em, bot, p, "restrict/ban chat member")
    user_id = p.integer("user_id", required="user not found")
    if user_id is None or user_id not in em.state.users:
        raise bad_request("PARTICIPANT_ID_INVALID")
    if user_id == group.owner_id:
        raise bad_request("can't remove chat owner")
    if user_id in group.admins:
        raise bad_request("user is an administrator of the chat")
    if user_id in group.members:
        em.leave_group(group.id, user_id=user_id, status="kicked")
    group.banned.add(user_id)
    return True


@method("unbanChatMember")
async def unban_chat_member(em: Emulator, bot: BotRecord, p: Params) -> Any:
    group = _administered(em, bot, p, "restrict/ban chat member")
    user_id = p.integer("user_id", required="user not found")
    if user_id is None or user_id not in em.state.users:
        raise bad_request("PARTICIPANT_ID_INVALID")
    if user_id in group.members:
        if p.flag("only_if_banned"):
            return True
        em.leave_group(group.id, user_id=user_id, status="kicked")  # as Telegram does
    group.banned.discard(user_id)
    return True


# --------------------------------------------------------------------------- Telegram Stars


def _invoice(em: Emulator, bot: BotRecord, p: Params, *, link: bool) -> InvoiceRecord:
    title = p.text("title") or ""
    description = p.text("description") or ""
    payload = p.text("payload") or ""
    if not 1 <= len(title) <= 32:
        raise bad_request("INVOICE_TITLE_INVALID" if title else "title is empty")
    if not 1 <= len(description) <= 255:
        raise bad_request("INVOICE_DESCRIPTION_INVALID" if description else "description is empty")
    if not 1 <= len(payload.encode()) <= 128:
        raise bad_request("INVOICE_PAYLOAD_INVALID" if payload else "payload is empty")
    currency = p.text("currency", required="currency is empty")
    if currency != "XTR":
        raise bad_request("PAYMENT_PROVIDER_INVALID")
    prices = p.json("prices", error="can't parse prices JSON object")
    if not isinstance(prices, list) or not all(isinstance(item, dict) for item in prices):
        raise bad_request("can't parse prices JSON object")
    if len(prices) != 1 or not isinstance(prices[0].get("amount"), int):
        raise bad_request("STARS_INVOICE_INVALID")
    amount = prices[0]["amount"]
    if not 1 <= amount <= MAX_STARS_AMOUNT:
        raise bad_request("STARS_INVOICE_INVALID")
    period = p.integer("subscription_period") if link else None
    if period is not None and period != STARS_SUBSCRIPTION_PERIOD:
        raise bad_request("SUBSCRIPTION_PERIOD_INVALID")
    record = InvoiceRecord(
        slug=_slug(),
        bot_id=bot.id,
        title=title,
        description=description,
        payload=payload,
        currency=currency,
        amount=amount,
        subscription_period=period,
        start_parameter=p.text("start_parameter") or "",
        photo_url=p.text("photo_url"),
    )
    em.state.invoices[record.slug] = record
    return record


def _slug() -> str:
    import secrets

    return secrets.token_urlsafe(12)


@method("sendInvoice")
async def send_invoice(em: Emulator, bot: BotRecord, p: Params) -> Any:
    chat_id = _chat_id(em, p)
    record = _invoice(em, bot, p, link=False)
    inline, _ = _markup(em, p)
    if inline is not None and inline.get("inline_keyboard"):
        first = inline["inline_keyboard"][0][0] if inline["inline_keyboard"][0] else {}
        if not first.get("pay"):
            raise bad_request("REPLY_MARKUP_BUY_EMPTY")
    content = {
        "invoice": {
            "title": record.title,
            "description": record.description,
            "start_parameter": record.start_parameter,
            "currency": record.currency,
            "total_amount": record.amount,
        }
    }
    return (await _send(em, bot, p, chat_id, content, invoice_slug=record.slug)).data


@method("createInvoiceLink")
async def create_invoice_link(em: Emulator, bot: BotRecord, p: Params) -> Any:
    record = _invoice(em, bot, p, link=True)
    return f"https://t.me/${record.slug}"


@method("answerPreCheckoutQuery")
async def answer_pre_checkout_query(em: Emulator, bot: BotRecord, p: Params) -> Any:
    query_id = p.text("pre_checkout_query_id", required="query_id is empty") or ""
    ok = p.flag("ok")
    error_message = p.text("error_message")
    if not ok and not error_message:
        raise bad_request("error_message is empty")
    em.state.expire_answers()
    pending = em.state.pending_answers.get(query_id)
    if (
        pending is None
        or pending.kind != "pre_checkout"
        or pending.bot_id != bot.id
        or pending.future.done()
    ):
        raise bad_request(QUERY_TOO_OLD)
    pending.future.set_result({"ok": ok, "error_message": error_message})
    return True


def _charge(em: Emulator, bot: BotRecord, p: Params) -> Charge:
    user_id = p.integer("user_id", required="user not found")
    charge_id = p.text("telegram_payment_charge_id", required="CHARGE_ID_EMPTY") or ""
    charge = em.state.charges.get(charge_id)
    if charge is None or charge.bot_id != bot.id or charge.user_id != user_id:
        raise bad_request("CHARGE_NOT_FOUND")
    return charge


@method("refundStarPayment")
async def refund_star_payment(em: Emulator, bot: BotRecord, p: Params) -> Any:
    charge = _charge(em, bot, p)
    if charge.refunded:
        raise bad_request("CHARGE_ALREADY_REFUNDED")
    charge.refunded = True
    user = em.state.users[charge.user_id]
    now = int(time.time())
    em.state.star_transactions[bot.id].append(
        {
            "id": charge.charge_id,
            "amount": charge.amount,
            "date": now,
            "receiver": {
                "type": "user",
                "transaction_type": "invoice_payment",
                "user": user.to_api(),
                "invoice_payload": charge.payload,
            },
        }
    )
    refunded = {
        "refunded_payment": {
            "currency": "XTR",
            "total_amount": charge.amount,
            "invoice_payload": charge.payload,
            "telegram_payment_charge_id": charge.charge_id,
        }
    }
    stored = em.state.add_message(bot, user.id, user.to_api(), refunded, from_bot=False)
    em.delivery.enqueue(bot, "message", stored.data)
    return True


@method("getStarTransactions")
async def get_star_transactions(em: Emulator, bot: BotRecord, p: Params) -> Any:
    offset = max(p.integer("offset") or 0, 0)
    limit = min(max(p.integer("limit") or 100, 1), 100)
    return {"transactions": em.state.star_transactions[bot.id][offset : offset + limit]}


@method("getMyStarBalance")
async def get_my_star_balance(em: Emulator, bot: BotRecord, p: Params) -> Any:
    balance = 0
    for item in em.state.star_transactions[bot.id]:
        balance += item["amount"] if "source" in item else -item["amount"]
    return {"amount": balance}


@method("editUserStarSubscription")
async def edit_user_star_subscription(em: Emulator, bot: BotRecord, p: Params) -> Any:
    charge = _charge(em, bot, p)
    if charge.subscription_period is None:
        raise bad_request("SUBSCRIPTION_ID_INVALID")
    if p.raw("is_canceled") is None:
        raise bad_request("is_canceled is empty")
    root = em.state.charges.get(charge.subscription_of or "", charge)
    root.is_canceled = p.flag("is_canceled")
    return True
