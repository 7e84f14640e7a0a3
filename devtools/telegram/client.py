"""``EmulatorClient``: the control API from Python, for tests and for other parts' fixtures.

Every call is one HTTP request to ``/_emulator/...``; failures raise ``EmulatorError`` with the
emulator's message. Bots are addressed by id (``BotInfo.id``); private chats by the user's id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx


class EmulatorError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


@dataclass(frozen=True)
class BotInfo:
    id: int
    token: str
    username: str
    first_name: str = ""


@dataclass(frozen=True)
class UserInfo:
    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = None


@dataclass(frozen=True)
class GroupInfo:
    id: int
    type: str
    title: str
    members: list[int] = field(default_factory=list)
    bots: list[int] = field(default_factory=list)
    admins: list[int] = field(default_factory=list)
    username: str | None = None


@dataclass(frozen=True)
class ButtonAnswer:
    """What the user saw after pressing a callback button (``answered`` False: no answer yet)."""

    callback_query_id: str
    answered: bool
    text: str | None = None
    show_alert: bool = False
    url: str | None = None


@dataclass(frozen=True)
class PaymentResult:
    """``status`` is ``paid``, ``declined`` (``error`` = the bot's text) or ``timeout``."""

    status: str
    telegram_payment_charge_id: str | None = None
    message_id: int | None = None
    amount: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class TranscriptEntry:
    """One message in a chat as the bot sees it; ``message`` is the raw Bot API object."""

    message_id: int
    from_bot: bool
    date: int
    text: str | None
    caption: str | None
    entities: list[dict[str, Any]]
    reply_markup: dict[str, Any] | None
    reply_keyboard: dict[str, Any] | None
    media: dict[str, Any] | None
    edit_date: int | None
    deleted: bool
    message: dict[str, Any]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TranscriptEntry:
        return cls(
            message_id=data["message_id"],
            from_bot=data["from_bot"],
            date=data["date"],
            text=data.get("text"),
            caption=data.get("caption"),
            entities=data.get("entities") or [],
            reply_markup=data.get("reply_markup"),
            reply_keyboard=data.get("reply_keyboard"),
            media=data.get("media"),
            edit_date=data.get("edit_date"),
            deleted=data.get("deleted", False),
            message=data["message"],
        )

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Inline buttons, row by row, flattened."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [button for row in rows for button in row]


def _bot_id(bot: BotInfo | int | str) -> int:
    if isinstance(bot, BotInfo):
        return bot.id
    if isinstance(bot, str):  # a token
        return int(bot.split(":", 1)[0])
    return bot


def _user_id(user: UserInfo | int) -> int:
    return user.id if isinstance(user, UserInfo) else user


def _member_id(member: UserInfo | BotInfo | int) -> int:
    return member if isinstance(member, int) else member.id


def _group_info(data: dict[str, Any]) -> GroupInfo:
    return GroupInfo(
        data["id"],
        data["type"],
        data["title"],
        data["members"],
        data["bots"],
        data.get("admins", []),
        data.get("username"),
    )


class EmulatorClient:
    """Async client for the control API; ``base_url`` is the emulator root (no trailing path)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=f"{self.base_url}/_emulator", timeout=timeout)

    async def __aenter__(self) -> EmulatorClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def api_base(self) -> str:
        """What to pass to ``TelegramAPIServer.from_base``."""
        return self.base_url

    async def _call(self, verb: str, path: str, **kwargs: Any) -> Any:
        response = await self._http.request(verb, path, **kwargs)
        if response.status_code >= 400:
            try:
                message = response.json().get("error", response.text)
            except ValueError:
                message = response.text
            raise EmulatorError(response.status_code, message)
        return response.json()

    # ----------------------------------------------------------------- bots

    async def create_bot(
        self,
        username: str = "test_bot",
        first_name: str = "Test Bot",
        *,
        token: str | None = None,
        privacy: bool | None = None,
    ) -> BotInfo:
        """Register a bot; pass ``token`` to reuse a fixed one (its id part becomes the bot id)."""
        body: dict[str, Any] = {"username": username, "first_name": first_name}
        if token is not None:
            body["token"] = token
        if privacy is not None:
            body["privacy"] = privacy
        data = await self._call("POST", "/bots", json=body)
        return BotInfo(data["id"], data["token"], data["username"], data["first_name"])

    async def revoke_token(self, bot: BotInfo | int | str) -> str:
        """The old token answers 401 from now on; returns the new one."""
        data = await self._call("POST", f"/bots/{_bot_id(bot)}/revoke")
        return str(data["token"])

    async def delete_bot(self, bot: BotInfo | int | str) -> None:
        await self._call("DELETE", f"/bots/{_bot_id(bot)}")

    async def bot_details(
        self, bot: BotInfo | int | str, user: UserInfo | int | None = None
    ) -> dict[str, Any]:
        params = {"user_id": _user_id(user)} if user is not None else {}
        result: dict[str, Any] = await self._call("GET", f"/bots/{_bot_id(bot)}", params=params)
        return result

    async def set_limits(
        self, bot: BotInfo | int | str | None = None, **limits: float
    ) -> dict[str, Any]:
        """Tighten or loosen flood limits (see ``state.Limits``) globally or for one bot."""
        path = f"/bots/{_bot_id(bot)}/limits" if bot is not None else "/limits"
        result: dict[str, Any] = await self._call("PUT", path, json=limits)
        return result

    # ----------------------------------------------------------------- users and groups

    async def create_user(
        self,
        first_name: str = "Test",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "en",
        is_premium: bool = False,
    ) -> UserInfo:
        data = await self._call(
            "POST",
            "/users",
            json={
                "first_name": first_name,
                "last_name": last_name,
                "username": username,
                "language_code": language_code,
                "is_premium": is_premium,
            },
        )
        return UserInfo(data["id"], data["first_name"], data["username"], data["language_code"])

    async def create_group(
        self,
        title: str,
        *,
        owner: UserInfo | int | None = None,
        members: list[UserInfo | int] | None = None,
        bots: list[BotInfo | int | str] | None = None,
        admins: list[UserInfo | BotInfo | int] | None = None,
        supergroup: bool = True,
        channel: bool = False,
        username: str | None = None,
    ) -> GroupInfo:
        """A group, or a channel with ``channel=True``; ``admins`` (users or bots) are
        promoted to administrators (bots are added to the chat if needed)."""
        data = await self._call(
            "POST",
            "/groups",
            json={
                "title": title,
                "supergroup": supergroup,
                "channel": channel,
                "owner_id": _user_id(owner) if owner is not None else None,
                "members": [_user_id(m) for m in members or []],
                "bots": [_bot_id(b) for b in bots or []],
                "admins": [_member_id(a) for a in admins or []],
                "username": username,
            },
        )
        return _group_info(data)

    async def promote(
        self,
        chat_id: int,
        *,
        user: UserInfo | int | None = None,
        bot: BotInfo | int | str | None = None,
    ) -> GroupInfo:
        """Make a member (or a bot, joining if needed) an administrator of the chat."""
        return _group_info(
            await self._call("POST", f"/groups/{chat_id}/promote", json=self._membership(user, bot))
        )

    async def demote(
        self,
        chat_id: int,
        *,
        user: UserInfo | int | None = None,
        bot: BotInfo | int | str | None = None,
    ) -> GroupInfo:
        return _group_info(
            await self._call("POST", f"/groups/{chat_id}/demote", json=self._membership(user, bot))
        )

    async def group(self, chat_id: int) -> dict[str, Any]:
        """A group's members, bots, admins and banned users."""
        result: dict[str, Any] = await self._call("GET", f"/groups/{chat_id}")
        return result

    async def set_group_admin(
        self, chat_id: int, member: UserInfo | BotInfo | int, *, admin: bool = True
    ) -> None:
        await self._call(
            "POST",
            f"/groups/{chat_id}/admins",
            json={"member_id": _member_id(member), "admin": admin},
        )

    async def join_by_invite_link(self, user: UserInfo | int, invite_link: str) -> dict[str, Any]:
        """The user opens a bot-made invite link (refused: expired, used up, banned...)."""
        result: dict[str, Any] = await self._call(
            "POST",
            "/invite_links/join",
            json={"user_id": _user_id(user), "invite_link": invite_link},
        )
        return result

    async def join_group(
        self,
        chat_id: int,
        *,
        user: UserInfo | int | None = None,
        bot: BotInfo | int | str | None = None,
    ) -> None:
        await self._call("POST", f"/groups/{chat_id}/join", json=self._membership(user, bot))

    async def leave_group(
        self,
        chat_id: int,
        *,
        user: UserInfo | int | None = None,
        bot: BotInfo | int | str | None = None,
    ) -> None:
        await self._call("POST", f"/groups/{chat_id}/leave", json=self._membership(user, bot))

    @staticmethod
    def _membership(user: UserInfo | int | None, bot: BotInfo | int | str | None) -> dict[str, Any]:
        return {
            "user_id": _user_id(user) if user is not None else None,
            "bot_id": _bot_id(bot) if bot is not None else None,
        }

    # ----------------------------------------------------------------- acting as a user

    async def send_message(
        self,
        bot: BotInfo | int | str,
        user: UserInfo | int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> TranscriptEntry:
        """The user types ``text`` (commands like ``/start x`` get their bot_command entity)."""
        data = await self._call(
            "POST",
            f"/bots/{_bot_id(bot)}/messages",
            json={
                "user_id": _user_id(user),
                "text": text,
                "chat_id": chat_id,
                "reply_to_message_id": reply_to_message_id,
            },
        )
        return TranscriptEntry.from_json(data)

    async def send_command(
        self,
        bot: BotInfo | int | str,
        user: UserInfo | int,
        command: str,
        args: str = "",
        **kw: Any,
    ) -> TranscriptEntry:
        text = f"/{command.lstrip('/')}" + (f" {args}" if args else "")
        return await self.send_message(bot, user, text, **kw)

    async def start(
        self, bot: BotInfo | int | str, user: UserInfo | int, payload: str = ""
    ) -> TranscriptEntry:
        """``/start`` — until a user starts a bot, the bot cannot message them (403)."""
        return await self.send_command(bot, user, "start", payload)

    async def send_file(
        self,
        bot: BotInfo | int | str,
        user: UserInfo | int,
        content: bytes,
        *,
        filename: str = "file.bin",
        kind: str = "document",
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> TranscriptEntry:
        """``kind``: photo, video, audio, voice, document or animation."""
        form: dict[str, Any] = {"user_id": str(_user_id(user)), "kind": kind}
        if caption is not None:
            form["caption"] = caption
        if chat_id is not None:
            form["chat_id"] = str(chat_id)
        data = await self._call(
            "POST",
            f"/bots/{_bot_id(bot)}/files",
            data=form,
            files={"file": (filename, content, mime_type)},
        )
        return TranscriptEntry.from_json(data)

    async def press_button(
        self,
        bot: BotInfo | int | str,
        user: UserInfo | int,
        message_id: int,
        data: str,
        *,
        chat_id: int | None = None,
        wait: float = 2.0,
    ) -> ButtonAnswer:
        """Press the inline button with ``callback_data == data``; waits for the bot's answer."""
        result = await self._call(
            "POST",
            f"/bots/{_bot_id(bot)}/callback",
            json={
                "user_id": _user_id(user),
                "message_id": message_id,
                "data": data,
                "chat_id": chat_id,
                "wait": wait,
            },
        )
        return ButtonAnswer(
            callback_query_id=result["callback_query_id"],
            answered=result["answered"],
            text=result.get("text"),
            show_alert=bool(result.get("show_alert")),
            url=result.get("url"),
        )

    async def block_bot(self, bot: BotInfo | int | str, user: UserInfo | int) -> None:
        await self._call("POST", f"/bots/{_bot_id(bot)}/block", json={"user_id": _user_id(user)})

    async def unblock_bot(self, bot: BotInfo | int | str, user: UserInfo | int) -> None:
        await self._call("POST", f"/bots/{_bot_id(bot)}/unblock", json={"user_id": _user_id(user)})

    async def pay_invoice(
        self,
        bot: BotInfo | int | str,
        user: UserInfo | int,
        *,
        message_id: int | None = None,
        invoice_link: str | None = None,
        chat_id: int | None = None,
        answer_within: float | None = None,
    ) -> PaymentResult:
        """Pay an invoice message (default: the latest in the chat) or a ``createInvoiceLink``.

        The bot must answer the pre-checkout query within ``answer_within`` seconds (default:
        the emulator's ``pre_checkout_timeout``, 10 s like Telegram).
        """
        data = await self._call(
            "POST",
            f"/bots/{_bot_id(bot)}/pay",
            json={
                "user_id": _user_id(user),
                "message_id": message_id,
                "invoice_link": invoice_link,
                "chat_id": chat_id,
                "answer_within": answer_within,
            },
        )
        return PaymentResult(
            status=data["status"],
            telegram_payment_charge_id=data.get("telegram_payment_charge_id"),
            message_id=data.get("message_id"),
            amount=data.get("amount"),
            error=data.get("error"),
        )

    async def renew_subscription(self, bot: BotInfo | int | str, charge_id: str) -> PaymentResult:
        """Telegram's next monthly charge of the Stars subscription that ``charge_id`` (its
        first charge or any renewal) belongs to; ``status`` ``canceled`` when it was."""
        data = await self._call(
            "POST", f"/bots/{_bot_id(bot)}/subscriptions/renew", json={"charge_id": charge_id}
        )
        return PaymentResult(
            status=data["status"],
            telegram_payment_charge_id=data.get("telegram_payment_charge_id"),
            message_id=data.get("message_id"),
            amount=data.get("amount"),
        )

    async def transcript(
        self,
        bot: BotInfo | int | str,
        chat: UserInfo | int,
        *,
        include_deleted: bool = False,
        from_bot_only: bool = False,
    ) -> list[TranscriptEntry]:
        """Messages in a chat (a user's id for private chats), oldest first."""
        data = await self._call(
            "GET",
            f"/bots/{_bot_id(bot)}/chats/{_user_id(chat)}/transcript",
            params={"include_deleted": str(include_deleted).lower()},
        )
        entries = [TranscriptEntry.from_json(item) for item in data]
        return [e for e in entries if e.from_bot] if from_bot_only else entries

    async def web_app_init_data(
        self,
        bot: BotInfo | int | str,
        user: UserInfo | int,
        *,
        start_param: str | None = None,
        chat_type: str | None = "private",
        with_query_id: bool = True,
    ) -> str:
        """``initData`` signed with the bot's token (hash) and the emulator test key (signature)."""
        data = await self.web_app_launch(
            bot, user, start_param=start_param, chat_type=chat_type, with_query_id=with_query_id
        )
        return str(data["init_data"])

    async def web_app_launch(
        self,
        bot: BotInfo | int | str,
        user: UserInfo | int,
        *,
        url: str | None = None,
        start_param: str | None = None,
        chat_type: str | None = "private",
        with_query_id: bool = True,
    ) -> dict[str, Any]:
        """``{"init_data", "public_key", "url"}``; ``url`` carries ``#tgWebAppData=...``."""
        result: dict[str, Any] = await self._call(
            "POST",
            f"/bots/{_bot_id(bot)}/web_app",
            json={
                "user_id": _user_id(user),
                "url": url,
                "start_param": start_param,
                "chat_type": chat_type,
                "with_query_id": with_query_id,
            },
        )
        return result
