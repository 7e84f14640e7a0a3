"""Everything the emulator remembers, in memory: bots, users, chats, messages, files, payments.

The emulator is one process serving one event loop, so plain dicts are enough; nothing here
does I/O. Records render themselves as the JSON Telegram sends (``to_api``) so every answer is
something aiogram's types parse.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import secrets
import time
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True)
class Limits:
    """Flood limits as Telegram applies them (Bots FAQ); tests tighten them instead of waiting.

    Rates are token buckets: ``*_per_second`` refills, ``*_burst`` is the bucket size.
    """

    bot_per_second: float = 30.0
    bot_burst: int = 30
    paid_per_second: float = 1000.0
    paid_burst: int = 1000
    private_per_second: float = 1.0
    private_burst: int = 5
    group_per_minute: float = 20.0
    group_burst: int = 20

    def merged(self, **changes: Any) -> Limits:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


@dataclass
class EmulatorSettings:
    """Knobs for one emulator instance; defaults match Telegram, tests make them small."""

    limits: Limits = field(default_factory=Limits)
    max_upload_bytes: int = 50 * 1024 * 1024
    max_download_bytes: int = 20 * 1024 * 1024
    max_photo_bytes: int = 10 * 1024 * 1024
    pre_checkout_timeout: float = 10.0
    callback_query_ttl: float = 60.0
    long_poll_max: float = 50.0
    webhook_timeout: float = 30.0
    webhook_retry_delays: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0)
    #: Telegram insists on HTTPS for webhooks and Web App buttons; locally that is a nuisance,
    #: so plain http is accepted everywhere unless this is False (then only for localhost).
    allow_insecure_urls: bool = True
    #: Group privacy mode: bots see only commands, mentions and replies unless created with
    #: ``privacy=False``.
    group_privacy: bool = True


class TokenBucket:
    """A refilling bucket; ``wait_time`` says how long until one more message is allowed."""

    def __init__(self, rate: float, capacity: float) -> None:
        self.rate = rate
        self.capacity = max(capacity, 1.0)
        self.tokens = self.capacity
        self.stamp = time.monotonic()

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self, now: float, cost: float = 1.0) -> float:
        self._refill(now)
        if self.tokens >= cost:
            return 0.0
        return (cost - self.tokens) / self.rate if self.rate > 0 else math.inf

    def take(self, cost: float = 1.0) -> None:
        self.tokens -= cost


class RateLimiter:
    """Per-bot, per-private-chat and per-group buckets, created on first use."""

    def __init__(self) -> None:
        self.buckets: dict[tuple[Any, ...], TokenBucket] = {}

    def _bucket(self, key: tuple[Any, ...], rate: float, capacity: float) -> TokenBucket:
        bucket = self.buckets.get(key)
        if bucket is None or bucket.rate != rate or bucket.capacity != max(capacity, 1.0):
            bucket = self.buckets[key] = TokenBucket(rate, capacity)
        return bucket

    def acquire(
        self,
        limits: Limits,
        bot_id: int,
        chat_id: int,
        chat_type: str,
        *,
        paid: bool,
        cost: int = 1,
    ) -> int:
        """Take ``cost`` messages from every bucket involved, or return the seconds to wait."""
        if paid:
            overall = self._bucket(("paid", bot_id), limits.paid_per_second, limits.paid_burst)
        else:
            overall = self._bucket(("bot", bot_id), limits.bot_per_second, limits.bot_burst)
        if chat_type == "private":
            chat = self._bucket(
                ("private", bot_id, chat_id), limits.private_per_second, limits.private_burst
            )
        else:
            chat = self._bucket(
                ("group", bot_id, chat_id), limits.group_per_minute / 60.0, limits.group_burst
            )
        now = time.monotonic()
        wait = max(overall.wait_time(now, cost), chat.wait_time(now, cost))
        if wait > 0:
            return max(1, math.ceil(wait)) if math.isfinite(wait) else 3600
        overall.take(cost)
        chat.take(cost)
        return 0

    def forget_bot(self, bot_id: int) -> None:
        for key in [k for k in self.buckets if k[1] == bot_id]:
            del self.buckets[key]


def new_token(bot_id: int) -> str:
    """Tokens look like BotFather's: ``<bot id>:<35 url-safe characters>``."""
    return f"{bot_id}:AA{secrets.token_urlsafe(33)[:33]}"


@dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "en"
    is_premium: bool = False

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value:
                data[key] = value
        if self.is_premium:
            data["is_premium"] = True
        return data

    def as_private_chat(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name:
            data["last_name"] = self.last_name
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None


@dataclass
class BotRecord:
    id: int
    token: str
    username: str
    first_name: str
    privacy: bool = True
    can_join_groups: bool = True
    has_main_web_app: bool = False
    webhook: WebhookConfig | None = None
    allowed_updates: list[str] | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None
    pending: deque[dict[str, Any]] = field(default_factory=deque)
    next_update_id: int = field(default_factory=lambda: secrets.randbelow(10**8) + 10**8)
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    menu_buttons: dict[int | None, dict[str, Any]] = field(default_factory=dict)
    limits: Limits | None = None
    blocked_by: set[int] = field(default_factory=set)
    started_by: set[int] = field(default_factory=set)
    description: str = ""

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def get_me(self) -> dict[str, Any]:
        return {
            **self.to_api(),
            "can_join_groups": self.can_join_groups,
            "can_read_all_group_messages": not self.privacy,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": self.has_main_web_app,
        }


ADMIN_RIGHTS: dict[str, bool] = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": True,
    "can_edit_stories": True,
    "can_delete_stories": True,
    "can_send_welcome_messages": True,
}
"""What an administrator may do in the emulator: everything but promoting others."""


@dataclass
class ChatRecord:
    """A group, supergroup or channel; private chats are the user records themselves.

    ``admins`` holds the user and bot ids promoted to administrator (the owner is the
    ``creator`` and is not listed); every admin is also a member (``members`` or ``bots``).
    """

    id: int
    type: str
    title: str
    username: str | None = None
    owner_id: int | None = None
    members: set[int] = field(default_factory=set)
    bots: set[int] = field(default_factory=set)
    admins: set[int] = field(default_factory=set)
    #: Users banned by an admin: they cannot join (by link or otherwise) until unbanned.
    banned: set[int] = field(default_factory=set)
    invite_links: dict[str, InviteLinkRecord] = field(default_factory=dict)

    @property
    def is_channel(self) -> bool:
        return self.type == "channel"

    def status_of(self, member_id: int) -> str:
        """``creator``, ``administrator``, ``member``, ``kicked`` or ``left`` (Telegram's
        statuses)."""
        if member_id == self.owner_id:
            return "creator"
        if member_id in self.admins:
            return "administrator"
        if member_id in self.members or member_id in self.bots:
            return "member"
        if member_id in self.banned:
            return "kicked"
        return "left"

    def member_api(self, user: dict[str, Any], status: str) -> dict[str, Any]:
        """A ChatMember object; administrators carry every right (the emulator does not
        model partial rights)."""
        data: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            data["is_anonymous"] = False
        elif status == "kicked":
            data["until_date"] = 0  # banned for ever, until unbanned
        elif status == "administrator":
            data.update(ADMIN_RIGHTS)
            if self.is_channel:
                data.update(can_post_messages=True, can_edit_messages=True)
            else:
                data.update(can_pin_messages=True)
        return data

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type, "title": self.title}
        if self.username:
            data["username"] = self.username
        return data


@dataclass
class InviteLinkRecord:
    """An additional invite link a bot created (``createChatInviteLink``)."""

    link: str
    chat_id: int
    creator: dict[str, Any]
    name: str | None = None
    expire_date: int | None = None
    member_limit: int | None = None
    creates_join_request: bool = False
    is_revoked: bool = False
    joined: int = 0

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "invite_link": self.link,
            "creator": self.creator,
            "creates_join_request": self.creates_join_request,
            "is_primary": False,
            "is_revoked": self.is_revoked,
        }
        for key in ("name", "expire_date", "member_limit"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass
class StoredMessage:
    """A message as Telegram returned it, plus what the chat page needs to draw it."""

    bot_id: int
    chat_id: int
    message_id: int
    data: dict[str, Any]
    from_bot: bool
    reply_keyboard: dict[str, Any] | None = None
    deleted: bool = False
    invoice_slug: str | None = None

    def transcript_entry(self) -> dict[str, Any]:
        data = self.data
        media_kind = next(
            (k for k in MEDIA_KINDS if k in data),
            None,
        )
        media: dict[str, Any] | None = None
        if media_kind:
            item = data[media_kind]
            if media_kind == "photo":
                item = item[-1]
            media = {
                "kind": media_kind,
                "file_id": item["file_id"],
                "file_name": item.get("file_name"),
                "mime_type": item.get("mime_type"),
                "url": f"_emulator/files/{item['file_id']}",
            }
        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "from_bot": self.from_bot,
            "date": data["date"],
            "edit_date": data.get("edit_date"),
            "deleted": self.deleted,
            "text": data.get("text"),
            "caption": data.get("caption"),
            "entities": data.get("entities") or data.get("caption_entities") or [],
            "reply_markup": data.get("reply_markup"),
            "reply_keyboard": self.reply_keyboard,
            "media": media,
            "media_group_id": data.get("media_group_id"),
            "invoice": data.get("invoice"),
            "successful_payment": data.get("successful_payment"),
            "message": data,
        }


MEDIA_KINDS = ("photo", "video", "animation", "audio", "voice", "document", "sticker", "video_note")


@dataclass
class Conversation:
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1
    last_action: str | None = None


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    bot_id: int
    kind: str
    content: bytes
    mime_type: str | None
    file_name: str | None
    file_path: str
    width: int = 0
    height: int = 0
    duration: int = 0

    @property
    def size(self) -> int:
        return len(self.content)


@dataclass
class InvoiceRecord:
    slug: str
    bot_id: int
    title: str
    description: str
    payload: str
    currency: str
    amount: int
    subscription_period: int | None = None
    start_parameter: str = ""
    photo_url: str | None = None


@dataclass
class Charge:
    charge_id: str
    bot_id: int
    user_id: int
    amount: int
    payload: str
    date: int
    subscription_period: int | None = None
    refunded: bool = False
    is_canceled: bool = False
    #: For a renewal: the first charge of its subscription (where ``is_canceled`` lives).
    subscription_of: str | None = None


@dataclass
class PendingAnswer:
    """A callback or pre-checkout query waiting for the bot's answer."""

    kind: str
    bot_id: int
    user_id: int
    created: float
    future: asyncio.Future[dict[str, Any]]
    context: dict[str, Any] = field(default_factory=dict)


class EventHub:
    """Fan-out of chat events to the page's SSE streams (each subscriber owns a queue)."""

    def __init__(self) -> None:
        self.subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()

    def subscribe(self) -> asyncio.Queue[dict[str, Any] | None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(maxsize=1000)
        self.subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any] | None]) -> None:
        self.subscribers.discard(queue)

    def publish(self, event: dict[str, Any]) -> None:
        for queue in list(self.subscribers):
            if queue.full():  # a stalled page loses events rather than the emulator memory
                continue
            queue.put_nowait(event)

    def close(self) -> None:
        for queue in list(self.subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)


class State:
    """Registries of every record; ids are Telegram-shaped and unique per instance."""

    def __init__(self, settings: EmulatorSettings) -> None:
        self.settings = settings
        self.bots: dict[int, BotRecord] = {}
        self.tokens: dict[str, int] = {}
        self.users: dict[int, UserRecord] = {}
        self.groups: dict[int, ChatRecord] = {}
        self.conversations: dict[tuple[int, int], Conversation] = {}
        self.files: dict[str, StoredFile] = {}
        self.file_paths: dict[tuple[int, str], str] = {}
        self.invoices: dict[str, InvoiceRecord] = {}
        self.charges: dict[str, Charge] = {}
        self.star_transactions: dict[int, list[dict[str, Any]]] = {}
        self.pending_answers: dict[str, PendingAnswer] = {}
        self.limiter = RateLimiter()
        self.events = EventHub()
        self._bot_ids = itertools.count(7_000_000_001)
        self._user_ids = itertools.count(100_000_001)
        self._group_ids = itertools.count(1)
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._file_counter = itertools.count(1)

    # ----------------------------------------------------------------- bots and users

    def create_bot(
        self,
        username: str,
        first_name: str,
        *,
        token: str | None = None,
        privacy: bool | None = None,
        bot_id: int | None = None,
    ) -> BotRecord:
        if bot_id is None:
            bot_id = next(self._bot_ids)
            while bot_id in self.bots:
                bot_id = next(self._bot_ids)
        token = token or new_token(bot_id)
        bot = BotRecord(
            id=bot_id,
            token=token,
            username=username,
            first_name=first_name,
            privacy=self.settings.group_privacy if privacy is None else privacy,
        )
        self.bots[bot_id] = bot
        self.tokens[token] = bot_id
        self.star_transactions[bot_id] = []
        return bot

    def revoke_token(self, bot: BotRecord) -> str:
        self.tokens.pop(bot.token, None)
        bot.token = new_token(bot.id)
        self.tokens[bot.token] = bot.id
        return bot.token

    def delete_bot(self, bot: BotRecord) -> None:
        self.tokens.pop(bot.token, None)
        self.bots.pop(bot.id, None)
        self.limiter.forget_bot(bot.id)

    def bot_by_token(self, token: str) -> BotRecord | None:
        bot_id = self.tokens.get(token)
        return self.bots.get(bot_id) if bot_id is not None else None

    def create_user(self, first_name: str, **fields: Any) -> UserRecord:
        user = UserRecord(id=next(self._user_ids), first_name=first_name, **fields)
        self.users[user.id] = user
        return user

    def create_group(
        self, title: str, *, supergroup: bool = True, channel: bool = False
    ) -> ChatRecord:
        number = next(self._group_ids)
        if channel:
            chat = ChatRecord(id=-1_000_000_000_000 - number, type="channel", title=title)
        elif supergroup:
            chat = ChatRecord(id=-1_000_000_000_000 - number, type="supergroup", title=title)
        else:
            chat = ChatRecord(id=-4_000_000_000 - number, type="group", title=title)
        self.groups[chat.id] = chat
        return chat

    def limits_for(self, bot: BotRecord) -> Limits:
        return bot.limits or self.settings.limits

    # ----------------------------------------------------------------- chats and messages

    def chat_api(self, chat_id: int) -> dict[str, Any] | None:
        if chat_id in self.users:
            return self.users[chat_id].as_private_chat()
        if chat_id in self.groups:
            return self.groups[chat_id].to_api()
        return None

    def chat_type(self, chat_id: int) -> str:
        return "private" if chat_id > 0 else self.groups[chat_id].type

    def conversation(self, bot_id: int, chat_id: int) -> Conversation:
        key = (bot_id, chat_id)
        conv = self.conversations.get(key)
        if conv is None:
            conv = self.conversations[key] = Conversation()
        return conv

    def find_message(self, bot_id: int, chat_id: int, message_id: int) -> StoredMessage | None:
        conv = self.conversations.get((bot_id, chat_id))
        if conv is None:
            return None
        message = conv.messages.get(message_id)
        return None if message is None or message.deleted else message

    def add_message(
        self,
        bot: BotRecord,
        chat_id: int,
        sender: dict[str, Any],
        content: dict[str, Any],
        *,
        from_bot: bool,
        reply_keyboard: dict[str, Any] | None = None,
    ) -> StoredMessage:
        """Store a new message in the bot's view of the chat and tell the chat page."""
        conv = self.conversation(bot.id, chat_id)
        message_id = conv.next_message_id
        conv.next_message_id += 1
        chat = self.chat_api(chat_id)
        data = {"message_id": message_id, "from": sender, "chat": chat, "date": int(time.time())}
        data.update(content)
        stored = StoredMessage(
            bot_id=bot.id,
            chat_id=chat_id,
            message_id=message_id,
            data=data,
            from_bot=from_bot,
            reply_keyboard=reply_keyboard,
        )
        conv.messages[message_id] = stored
        if from_bot:
            conv.last_action = None
        self.events.publish(
            {
                "type": "message",
                "bot_id": bot.id,
                "chat_id": chat_id,
                "entry": stored.transcript_entry(),
            }
        )
        return stored

    def publish_edit(self, stored: StoredMessage) -> None:
        self.events.publish(
            {
                "type": "edit",
                "bot_id": stored.bot_id,
                "chat_id": stored.chat_id,
                "entry": stored.transcript_entry(),
            }
        )

    # ----------------------------------------------------------------- files

    def store_file(
        self,
        bot_id: int,
        kind: str,
        content: bytes,
        *,
        mime_type: str | None,
        file_name: str | None,
        width: int = 0,
        height: int = 0,
        duration: int = 0,
    ) -> StoredFile:
        number = next(self._file_counter)
        prefix = {"photo": "AgAC", "video": "BAAC", "audio": "CQAC", "voice": "AwAC"}.get(
            kind, "BQAC"
        )
        folder = {
            "photo": "photos",
            "video": "videos",
            "audio": "music",
            "voice": "voice",
            "animation": "animations",
        }.get(kind, "documents")
        extension = ""
        if file_name and "." in file_name:
            extension = "." + file_name.rsplit(".", 1)[1][:8]
        elif kind == "photo":
            extension = ".jpg"
        stored = StoredFile(
            file_id=f"{prefix}{secrets.token_urlsafe(40)}",
            file_unique_id=f"AQAD{secrets.token_urlsafe(9)}",
            bot_id=bot_id,
            kind=kind,
            content=content,
            mime_type=mime_type,
            file_name=file_name,
            file_path=f"{folder}/file_{number}{extension}",
            width=width,
            height=height,
            duration=duration,
        )
        self.files[stored.file_id] = stored
        self.file_paths[(bot_id, stored.file_path)] = stored.file_id
        return stored

    # ----------------------------------------------------------------- queries

    def new_query_id(self) -> str:
        return str(next(self._query_ids))

    def expire_answers(self) -> None:
        now = time.monotonic()
        ttl = max(self.settings.callback_query_ttl, self.settings.pre_checkout_timeout)
        for key in [k for k, v in self.pending_answers.items() if now - v.created > ttl]:
            pending = self.pending_answers.pop(key)
            if not pending.future.done():
                pending.future.cancel()
