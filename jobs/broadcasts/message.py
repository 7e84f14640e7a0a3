"""One broadcast message through the Bot API, the same for the preview and for every fan.

Text goes as Telegram HTML; media as a photo, video, audio or document with the text as its
caption. A drive file is uploaded once: the first successful send returns the bot's own
``file_id``, which every later send (and the next chunk, through the row) reuses.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from aiogram import Bot
from aiogram.types import (
    BufferedInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)

from core.models import Broadcast

MEDIA_KINDS = ("photo", "video", "audio", "document")
MAX_PHOTO_BYTES = 10 * 1024 * 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
PARSE_MODE = "HTML"


def media_kind(mime_type: str, size: int) -> str:
    """How a drive file goes out: a photo (Telegram's photo types up to 10 MB), an mp4 video,
    audio, or else a document."""
    if mime_type in ("image/jpeg", "image/png", "image/webp") and size <= MAX_PHOTO_BYTES:
        return "photo"
    if mime_type == "video/mp4":
        return "video"
    if mime_type.startswith("audio/"):
        return "audio"
    return "document"


@dataclass(frozen=True, slots=True)
class Upload:
    data: bytes
    filename: str


@dataclass(frozen=True, slots=True)
class Content:
    text: str
    buttons: list[list[dict[str, str]]] = field(default_factory=list)
    media_kind: str | None = None
    telegram_file_id: str | None = None
    upload: Upload | None = None

    @classmethod
    def of(cls, broadcast: Broadcast, upload: Upload | None = None) -> Content:
        return cls(
            text=broadcast.text,
            buttons=list(broadcast.buttons or []),
            media_kind=broadcast.media_kind,
            telegram_file_id=broadcast.telegram_file_id,
            upload=None if broadcast.telegram_file_id else upload,
        )

    @property
    def needs_upload(self) -> bool:
        return self.media_kind is not None and self.telegram_file_id is None

    def with_file_id(self, file_id: str) -> Content:
        return replace(self, telegram_file_id=file_id, upload=None)


def keyboard(buttons: list[list[dict[str, str]]]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=b["text"], url=b["url"]) for b in row] for row in buttons
        ]
    )


async def send(bot: Bot, chat_id: int, content: Content) -> Message:
    """Send the broadcast to one chat; Bot API errors propagate (the sender sorts them)."""
    markup = keyboard(content.buttons)
    if content.media_kind is None:
        return await bot.send_message(
            chat_id,
            content.text,
            parse_mode=PARSE_MODE,
            reply_markup=markup,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
    media: Any = content.telegram_file_id
    if media is None:
        if content.upload is None:
            raise ValueError("a media broadcast without its file")
        media = BufferedInputFile(content.upload.data, filename=content.upload.filename)
    options: dict[str, Any] = {
        "caption": content.text or None,
        "parse_mode": PARSE_MODE,
        "reply_markup": markup,
    }
    if content.media_kind == "photo":
        return await bot.send_photo(chat_id, media, **options)
    if content.media_kind == "video":
        return await bot.send_video(chat_id, media, **options)
    if content.media_kind == "audio":
        return await bot.send_audio(chat_id, media, **options)
    return await bot.send_document(chat_id, media, **options)


def file_id_of(message: Message) -> str | None:
    """The bot's own id of the media in a message it sent (or received)."""
    if message.photo:
        return message.photo[-1].file_id
    for item in (message.video, message.audio, message.document):
        if item is not None:
            return item.file_id
    return None


def media_of(message: Message) -> tuple[str, str] | None:
    """``(kind, file_id)`` of a photo, video, audio or document a creator sent in chat."""
    file_id = file_id_of(message)
    if file_id is None:
        return None
    if message.photo:
        return "photo", file_id
    if message.video is not None:
        return "video", file_id
    if message.audio is not None:
        return "audio", file_id
    return "document", file_id
