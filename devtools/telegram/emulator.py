"""The emulator as one object: state, delivery, and what users do on the other side of a chat.

The control API and the chat page are thin layers over these methods, and ``atelier dev`` can
call them directly (``app.state.emulator``) to seed a demo bot without HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from typing import Any

from devtools.telegram import initdata, rules
from devtools.telegram.delivery import Delivery
from devtools.telegram.methods import STARS_SUBSCRIPTION_PERIOD, call_method
from devtools.telegram.rules import Params
from devtools.telegram.state import (
    BotRecord,
    Charge,
    ChatRecord,
    EmulatorSettings,
    InvoiceRecord,
    PendingAnswer,
    State,
    StoredMessage,
    UserRecord,
)


class ControlError(Exception):
    """A control API request that cannot be done (unknown bot, blocked bot, ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Emulator:
    def __init__(self, settings: EmulatorSettings | None = None) -> None:
        self.settings = settings or EmulatorSettings()
        self.state = State(self.settings)
        self.delivery = Delivery(self.settings, execute_reply=self._execute_reply)

    async def _execute_reply(self, bot: BotRecord, name: str, params: Params) -> Any:
        return await call_method(self, bot, name, params)

    async def close(self) -> None:
        self.state.events.close()
        for pending in self.state.pending_answers.values():
            if not pending.future.done():
                pending.future.cancel()
        await self.delivery.close()

    # ----------------------------------------------------------------- lookups

    def bot(self, bot_id: int) -> BotRecord:
        bot = self.state.bots.get(bot_id)
        if bot is None:
            raise ControlError(404, f"bot {bot_id} not found")
        return bot

    def user(self, user_id: int) -> UserRecord:
        user = self.state.users.get(user_id)
        if user is None:
            raise ControlError(404, f"user {user_id} not found")
        return user

    def group(self, chat_id: int) -> ChatRecord:
        group = self.state.groups.get(chat_id)
        if group is None:
            raise ControlError(404, f"group {chat_id} not found")
        return group

    def chats_for(self, bot_id: int, user_id: int) -> list[dict[str, Any]]:
        """Chats the page can show for a (bot, user) pair: the private chat and shared groups."""
        self.bot(bot_id)
        chats = [self.user(user_id).as_private_chat()]
        for group in self.state.groups.values():
            if user_id in group.members:
                chats.append({**group.to_api(), "bot_is_member": bot_id in group.bots})
        return chats

    # ----------------------------------------------------------------- bots

    def set_limits(self, bot_id: int | None = None, **limits: Any) -> dict[str, Any]:
        if bot_id is None:
            self.settings.limits = self.settings.limits.merged(**limits)
            current = self.settings.limits
        else:
            bot = self.bot(bot_id)
            bot.limits = (bot.limits or self.settings.limits).merged(**limits)
            current = bot.limits
        self.state.limiter.buckets.clear()
        return dict(current.__dict__)

    # ----------------------------------------------------------------- users acting

    def _chat_for(self, bot: BotRecord, user: UserRecord, chat_id: int | None) -> int:
        if chat_id is None or chat_id == user.id:
            if user.id in bot.blocked_by:
                raise ControlError(409, "the user has blocked the bot; unblock it first")
            return user.id
        group = self.group(chat_id)
        if user.id not in group.members:
            raise ControlError(409, "the user is not a member of this group")
        if bot.id not in group.bots:
            raise ControlError(409, "the bot is not a member of this group")
        return group.id

    def _deliverable_in_group(self, bot: BotRecord, text: str, reply: StoredMessage | None) -> bool:
        if not bot.privacy:
            return True
        if text.startswith("/"):
            return True
        if f"@{bot.username}".lower() in text.lower():
            return True
        return reply is not None and reply.from_bot

    def user_message(
        self,
        bot_id: int,
        user_id: int,
        content: dict[str, Any],
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> tuple[StoredMessage, int | None]:
        """Post a message from a user into the bot's chat and queue the update."""
        bot = self.bot(bot_id)
        user = self.user(user_id)
        target = self._chat_for(bot, user, chat_id)
        reply: StoredMessage | None = None
        if reply_to_message_id is not None:
            reply = self.state.find_message(bot.id, target, reply_to_message_id)
            if reply is None:
                raise ControlError(404, "message to reply to not found")
            content = {
                **content,
                "reply_to_message": {
                    k: v for k, v in reply.data.items() if k != "reply_to_message"
                },
            }
        if target > 0:
            bot.started_by.add(user.id)
        stored = self.state.add_message(bot, target, user.to_api(), content, from_bot=False)
        text = content.get("text") or content.get("caption") or ""
        update_id: int | None = None
        if target > 0 or self._deliverable_in_group(bot, text, reply):
            update_id = self.delivery.enqueue(bot, "message", stored.data)
        return stored, update_id

    def send_text(
        self,
        bot_id: int,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
    ) -> tuple[StoredMessage, int | None]:
        if not text.strip():
            raise ControlError(400, "text is empty")
        content: dict[str, Any] = {"text": text}
        entities = rules.auto_entities(text)
        if entities:
            content["entities"] = entities
        return self.user_message(
            bot_id, user_id, content, chat_id=chat_id, reply_to_message_id=reply_to_message_id
        )

    def send_file(
        self,
        bot_id: int,
        user_id: int,
        *,
        kind: str,
        content: bytes,
        filename: str,
        mime_type: str,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> tuple[StoredMessage, int | None]:
        """A user uploads a photo, video, audio, voice note or document to the bot."""
        from devtools.telegram.methods import image_size, media_object

        if kind not in ("photo", "video", "audio", "voice", "document", "animation"):
            raise ControlError(400, f"unknown file kind {kind!r}")
        if not content:
            raise ControlError(400, "file is empty")
        bot = self.bot(bot_id)
        width = height = 0
        if kind == "photo":
            try:
                width, height = image_size(content)
            except rules.ApiError:
                raise ControlError(400, "not an image") from None
        stored_file = self.state.store_file(
            bot.id,
            kind,
            content,
            mime_type=None if kind == "photo" else mime_type,
            file_name=None if kind in ("photo", "voice") else filename,
            width=width,
            height=height,
        )
        message: dict[str, Any] = {kind: media_object(kind, stored_file, {})}
        if caption:
            message["caption"] = caption
        return self.user_message(bot_id, user_id, message, chat_id=chat_id)

    async def press_button(
        self,
        bot_id: int,
        user_id: int,
        message_id: int,
        data: str,
        *,
        chat_id: int | None = None,
        wait: float = 2.0,
    ) -> dict[str, Any]:
        """Press an inline callback button; waits up to ``wait`` s for answerCallbackQuery."""
        bot = self.bot(bot_id)
        user = self.user(user_id)
        target = self._chat_for(bot, user, chat_id)
        stored = self.state.find_message(bot.id, target, message_id)
        if stored is None:
            raise ControlError(404, "message not found")
        buttons = rules.inline_buttons(stored.data.get("reply_markup"))
        if not any(button.get("callback_data") == data for button in buttons):
            raise ControlError(404, "the message has no button with this callback_data")
        query_id = self.state.new_query_id()
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.state.pending_answers[query_id] = PendingAnswer(
            "callback", bot.id, user.id, time.monotonic(), future, {"chat_id": target}
        )
        query = {
            "id": query_id,
            "from": user.to_api(),
            "chat_instance": self._chat_instance(bot.id, target),
            "message": stored.data,
            "data": data,
        }
        self.delivery.enqueue(bot, "callback_query", query)
        result: dict[str, Any] = {"callback_query_id": query_id, "answered": False}
        if wait > 0:
            try:
                answer = await asyncio.wait_for(asyncio.shield(future), wait)
            except (TimeoutError, asyncio.CancelledError):
                return result
            result.update(answered=True, **answer)
        return result

    def _chat_instance(self, bot_id: int, chat_id: int) -> str:
        digest = hashlib.sha256(f"{bot_id}:{chat_id}".encode()).hexdigest()
        return str(int(digest[:15], 16))

    def _member_update(
        self,
        bot: BotRecord,
        chat: dict[str, Any],
        actor: dict[str, Any],
        old: str,
        new: str,
        group: ChatRecord | None = None,
    ) -> None:
        def member(status: str) -> dict[str, Any]:
            if group is not None:
                return group.member_api(bot.to_api(), status)
            data: dict[str, Any] = {"status": status, "user": bot.to_api()}
            if status == "kicked":
                data["until_date"] = 0
            return data

        self.delivery.enqueue(
            bot,
            "my_chat_member",
            {
                "chat": chat,
                "from": actor,
                "date": int(time.time()),
                "old_chat_member": member(old),
                "new_chat_member": member(new),
            },
        )

    def block(self, bot_id: int, user_id: int) -> None:
        bot, user = self.bot(bot_id), self.user(user_id)
        if user.id in bot.blocked_by:
            return
        bot.blocked_by.add(user.id)
        self._member_update(bot, user.as_private_chat(), user.to_api(), "member", "kicked")
        self.state.events.publish({"type": "blocked", "bot_id": bot.id, "chat_id": user.id})

    def unblock(self, bot_id: int, user_id: int) -> None:
        bot, user = self.bot(bot_id), self.user(user_id)
        if user.id not in bot.blocked_by:
            return
        bot.blocked_by.discard(user.id)
        self._member_update(bot, user.as_private_chat(), user.to_api(), "kicked", "member")
        self.state.events.publish({"type": "unblocked", "bot_id": bot.id, "chat_id": user.id})

    # ----------------------------------------------------------------- groups

    def create_group(
        self,
        title: str,
        *,
        supergroup: bool = True,
        channel: bool = False,
        owner_id: int | None = None,
        members: list[int] | None = None,
        bots: list[int] | None = None,
        admins: list[int] | None = None,
        username: str | None = None,
    ) -> ChatRecord:
        """A group (or a channel with ``channel=True``); ``admins`` are user or bot ids to
        promote (bots not yet in the chat are added, as Telegram adds a bot to a channel)."""
        if owner_id is not None:
            self.user(owner_id)
        group = self.state.create_group(title, supergroup=supergroup, channel=channel)
        group.username = username
        group.owner_id = owner_id
        if owner_id is not None:
            group.members.add(owner_id)
        for user_id in members or []:
            self.join_group(group.id, user_id=user_id)
        for bot_id in bots or []:
            self.join_group(group.id, bot_id=bot_id)
        for admin_id in admins or []:
            self.promote(group.id, admin_id)
        return group

    def set_admin(self, chat_id: int, member_id: int, *, admin: bool) -> ChatRecord:
        """Promote a member (user or bot, by id) to administrator with every right, or demote."""
        group = self.group(chat_id)
        if member_id not in group.members and member_id not in group.bots:
            raise ControlError(409, "only a member of the group can be an administrator")
        if admin:
            self.promote(chat_id, member_id)
        else:
            self.demote(chat_id, member_id)
        return group

    def join_by_invite_link(self, user_id: int, invite_link: str) -> ChatRecord:
        """The user opens an invite link a bot created: refused when it expired, was revoked,
        reached its member limit, or the user is banned from the chat."""
        user = self.user(user_id)
        record, group = None, None
        for candidate in self.state.groups.values():
            record = candidate.invite_links.get(invite_link)
            if record is not None:
                group = candidate
                break
        if record is None or group is None:
            raise ControlError(404, "INVITE_HASH_INVALID")
        expired = record.expire_date is not None and record.expire_date <= time.time()
        if record.is_revoked or expired:
            raise ControlError(409, "INVITE_HASH_EXPIRED")
        if user.id in group.members:
            raise ControlError(409, "USER_ALREADY_PARTICIPANT")
        if record.member_limit is not None and record.joined >= record.member_limit:
            raise ControlError(409, "USERS_TOO_MUCH")
        self.join_group(group.id, user_id=user.id)
        record.joined += 1
        return group

    def promote(self, chat_id: int, member_id: int) -> None:
        """Make a user or bot an administrator (a bot that is not in the chat joins)."""
        group = self.group(chat_id)
        if member_id == group.owner_id or member_id in group.admins:
            return
        if member_id in self.state.bots:
            bot = self.bot(member_id)
            old = group.status_of(bot.id)
            group.bots.add(bot.id)
            group.admins.add(bot.id)
            actor = self._group_actor(group, bot.to_api())
            self._member_update(bot, group.to_api(), actor, old, "administrator", group)
            return
        user = self.user(member_id)
        if user.id not in group.members:
            raise ControlError(409, "the user is not a member of this chat")
        group.admins.add(user.id)

    def demote(self, chat_id: int, member_id: int) -> None:
        """Take administrator rights away (the member stays in the chat)."""
        group = self.group(chat_id)
        if member_id not in group.admins:
            return
        group.admins.discard(member_id)
        if member_id in self.state.bots:
            bot = self.bot(member_id)
            actor = self._group_actor(group, bot.to_api())
            self._member_update(bot, group.to_api(), actor, "administrator", "member", group)

    def _group_actor(self, group: ChatRecord, fallback: dict[str, Any]) -> dict[str, Any]:
        if group.owner_id is not None:
            return self.state.users[group.owner_id].to_api()
        return fallback

    def join_group(
        self, chat_id: int, *, user_id: int | None = None, bot_id: int | None = None
    ) -> None:
        group = self.group(chat_id)
        if bot_id is not None:
            bot = self.bot(bot_id)
            if bot.id not in group.bots:
                group.bots.add(bot.id)
                actor = self._group_actor(group, bot.to_api())
                self._member_update(bot, group.to_api(), actor, "left", "member")
        if user_id is not None:
            user = self.user(user_id)
            if user.id in group.members:
                return
            if user.id in group.banned:
                raise ControlError(409, "the user is banned from this group")
            group.members.add(user.id)
            if group.is_channel:
                self._channel_member_update(group, user, "left", "member")
                return
            for member_bot in self._group_bots(group):
                stored = self.state.add_message(
                    member_bot,
                    group.id,
                    user.to_api(),
                    {"new_chat_members": [user.to_api()]},
                    from_bot=False,
                )
                self.delivery.enqueue(member_bot, "message", stored.data)
                self._chat_member_update(member_bot, group, user, "left", "member")

    def leave_group(
        self,
        chat_id: int,
        *,
        user_id: int | None = None,
        bot_id: int | None = None,
        status: str = "left",
    ) -> None:
        group = self.group(chat_id)
        if bot_id is not None:
            bot = self.bot(bot_id)
            if bot.id in group.bots:
                old = group.status_of(bot.id)
                group.bots.discard(bot.id)
                group.admins.discard(bot.id)
                actor = self._group_actor(group, bot.to_api())
                self._member_update(bot, group.to_api(), actor, old, "left", group)
        if user_id is not None:
            user = self.user(user_id)
            if user.id not in group.members:
                return
            group.members.discard(user.id)
            group.admins.discard(user.id)
            if group.is_channel:
                self._channel_member_update(group, user, "member", status)
                return
            for member_bot in self._group_bots(group):
                stored = self.state.add_message(
                    member_bot,
                    group.id,
                    user.to_api(),
                    {"left_chat_member": user.to_api()},
                    from_bot=False,
                )
                self.delivery.enqueue(member_bot, "message", stored.data)
                self._chat_member_update(member_bot, group, user, "member", status)

    def _group_bots(self, group: ChatRecord) -> list[BotRecord]:
        return [self.state.bots[b] for b in sorted(group.bots) if b in self.state.bots]

    def _channel_member_update(
        self, group: ChatRecord, user: UserRecord, old: str, new: str
    ) -> None:
        """Channels have no join/leave service messages, and only their admin bots hear of
        subscribers (``chat_member``), as in Telegram."""
        for member_bot in self._group_bots(group):
            if member_bot.id in group.admins:
                self._chat_member_update(member_bot, group, user, old, new)

    def _chat_member_update(
        self, bot: BotRecord, group: ChatRecord, user: UserRecord, old: str, new: str
    ) -> None:
        self.delivery.enqueue(
            bot,
            "chat_member",
            {
                "chat": group.to_api(),
                "from": user.to_api(),
                "date": int(time.time()),
                "old_chat_member": {"status": old, "user": user.to_api()},
                "new_chat_member": {"status": new, "user": user.to_api()},
            },
        )

    # ----------------------------------------------------------------- payments

    def _find_invoice(
        self, bot: BotRecord, target: int, message_id: int | None, invoice_link: str | None
    ) -> InvoiceRecord:
        slug: str | None = None
        if invoice_link:
            slug = invoice_link.rsplit("$", 1)[-1] if "$" in invoice_link else invoice_link
        elif message_id is not None:
            stored = self.state.find_message(bot.id, target, message_id)
            if stored is None or stored.invoice_slug is None:
                raise ControlError(404, "no invoice in that message")
            slug = stored.invoice_slug
        else:
            for stored in reversed(self.state.conversation(bot.id, target).messages.values()):
                if stored.invoice_slug and not stored.deleted:
                    slug = stored.invoice_slug
                    break
        record = self.state.invoices.get(slug or "")
        if record is None or record.bot_id != bot.id:
            raise ControlError(404, "invoice not found")
        return record

    async def pay_invoice(
        self,
        bot_id: int,
        user_id: int,
        *,
        chat_id: int | None = None,
        message_id: int | None = None,
        invoice_link: str | None = None,
        answer_within: float | None = None,
    ) -> dict[str, Any]:
        """Run Telegram's Stars checkout: pre_checkout_query, the bot's answer, the payment."""
        bot, user = self.bot(bot_id), self.user(user_id)
        target = self._chat_for(bot, user, chat_id)
        record = self._find_invoice(bot, target, message_id, invoice_link)
        query_id = self.state.new_query_id()
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.state.pending_answers[query_id] = PendingAnswer(
            "pre_checkout", bot.id, user.id, time.monotonic(), future
        )
        self.delivery.enqueue(
            bot,
            "pre_checkout_query",
            {
                "id": query_id,
                "from": user.to_api(),
                "currency": record.currency,
                "total_amount": record.amount,
                "invoice_payload": record.payload,
            },
        )
        limit = self.settings.pre_checkout_timeout if answer_within is None else answer_within
        try:
            answer = await asyncio.wait_for(asyncio.shield(future), limit)
        except (TimeoutError, asyncio.CancelledError):
            self.state.pending_answers.pop(query_id, None)
            result = {"status": "timeout", "error": "The bot didn't confirm the payment in time."}
            self._publish_payment(bot.id, target, result)
            return result
        finally:
            if future.done():
                self.state.pending_answers.pop(query_id, None)
        if not answer["ok"]:
            result = {"status": "declined", "error": answer.get("error_message") or ""}
            self._publish_payment(bot.id, target, result)
            return result
        return self._complete_payment(bot, user, target, record)

    def _complete_payment(
        self, bot: BotRecord, user: UserRecord, target: int, record: InvoiceRecord
    ) -> dict[str, Any]:
        now = int(time.time())
        charge = Charge(
            charge_id=f"stxEmu{secrets.token_urlsafe(24)}",
            bot_id=bot.id,
            user_id=user.id,
            amount=record.amount,
            payload=record.payload,
            date=now,
            subscription_period=record.subscription_period,
        )
        self.state.charges[charge.charge_id] = charge
        source: dict[str, Any] = {
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": user.to_api(),
            "invoice_payload": record.payload,
        }
        payment: dict[str, Any] = {
            "currency": record.currency,
            "total_amount": record.amount,
            "invoice_payload": record.payload,
            "telegram_payment_charge_id": charge.charge_id,
            "provider_payment_charge_id": "",
        }
        if record.subscription_period:
            source["subscription_period"] = record.subscription_period
            payment.update(
                subscription_expiration_date=now
                + (record.subscription_period or STARS_SUBSCRIPTION_PERIOD),
                is_recurring=True,
                is_first_recurring=True,
            )
        self.state.star_transactions[bot.id].append(
            {"id": charge.charge_id, "amount": record.amount, "date": now, "source": source}
        )
        stored, _ = self.user_message(
            bot.id, user.id, {"successful_payment": payment}, chat_id=target
        )
        result = {
            "status": "paid",
            "telegram_payment_charge_id": charge.charge_id,
            "message_id": stored.message_id,
            "amount": record.amount,
        }
        self._publish_payment(bot.id, target, result)
        return result

    def renew_subscription(self, bot_id: int, charge_id: str) -> dict[str, Any]:
        """Telegram's monthly charge of a Stars subscription, now: a new charge with the same
        payload and amount, ``is_recurring`` but not ``is_first_recurring``, and no
        pre-checkout query. A cancelled subscription is not charged (``canceled``)."""
        bot = self.bot(bot_id)
        charge = self.state.charges.get(charge_id)
        if charge is None or charge.bot_id != bot.id or charge.subscription_period is None:
            raise ControlError(404, "subscription not found")
        root = self.state.charges.get(charge.subscription_of or "", charge)
        if root.is_canceled:
            return {"status": "canceled"}
        user = self.user(root.user_id)
        now = int(time.time())
        renewal = Charge(
            charge_id=f"stxEmu{secrets.token_urlsafe(24)}",
            bot_id=bot.id,
            user_id=user.id,
            amount=root.amount,
            payload=root.payload,
            date=now,
            subscription_period=root.subscription_period,
            subscription_of=root.charge_id,
        )
        self.state.charges[renewal.charge_id] = renewal
        source = {
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": user.to_api(),
            "invoice_payload": root.payload,
            "subscription_period": root.subscription_period,
        }
        self.state.star_transactions[bot.id].append(
            {"id": renewal.charge_id, "amount": root.amount, "date": now, "source": source}
        )
        payment = {
            "currency": "XTR",
            "total_amount": root.amount,
            "invoice_payload": root.payload,
            "telegram_payment_charge_id": renewal.charge_id,
            "provider_payment_charge_id": "",
            "subscription_expiration_date": now + (root.subscription_period or 0),
            "is_recurring": True,
        }
        bot.started_by.add(user.id)
        stored = self.state.add_message(
            bot, user.id, user.to_api(), {"successful_payment": payment}, from_bot=False
        )
        self.delivery.enqueue(bot, "message", stored.data)
        result = {
            "status": "paid",
            "telegram_payment_charge_id": renewal.charge_id,
            "message_id": stored.message_id,
            "amount": root.amount,
        }
        self._publish_payment(bot.id, user.id, result)
        return result

    def _publish_payment(self, bot_id: int, chat_id: int, result: dict[str, Any]) -> None:
        self.state.events.publish(
            {"type": "payment", "bot_id": bot_id, "chat_id": chat_id, **result}
        )

    # ----------------------------------------------------------------- reading

    def transcript(
        self, bot_id: int, chat_id: int, *, include_deleted: bool = False
    ) -> list[dict[str, Any]]:
        self.bot(bot_id)
        conv = self.state.conversations.get((bot_id, chat_id))
        if conv is None:
            return []
        return [
            message.transcript_entry()
            for message in conv.messages.values()
            if include_deleted or not message.deleted
        ]

    def web_app_launch(
        self,
        bot_id: int,
        user_id: int,
        *,
        url: str | None = None,
        start_param: str | None = None,
        chat_type: str | None = "private",
        with_query_id: bool = True,
    ) -> dict[str, Any]:
        """Signed ``initData`` (and the launch URL, when given the Mini App's URL)."""
        bot, user = self.bot(bot_id), self.user(user_id)
        user_data = {**user.to_api(), "allows_write_to_pm": True}
        user_data.pop("is_bot", None)
        init_data = initdata.build_init_data(
            bot_id=bot.id,
            bot_token=bot.token,
            user=user_data,
            query_id=initdata.new_query_id() if with_query_id else None,
            start_param=start_param,
            chat_type=chat_type,
            chat_instance=self._chat_instance(bot.id, user.id) if chat_type else None,
        )
        result: dict[str, Any] = {
            "init_data": init_data,
            "public_key": initdata.EMULATOR_PUBLIC_KEY.hex(),
        }
        if url:
            result["url"] = initdata.launch_url(url, init_data, start_param=start_param)
        return result
