"""The bot runtime: one aiogram Dispatcher serving every tenant's bot.

:class:`BotRuntime` owns the shared pieces — the Dispatcher and its routers, the Redis FSM
storage, one ``AiohttpSession`` for every ``Bot``, an LRU of ``Bot`` objects by bot id, the
routing cache — and is made once per process (the API lifespan, ``atelier bot poll``). Nothing
here does I/O until an update arrives, and nothing loops over tenants at start-up.

The webhook path (:meth:`BotRuntime.handle_webhook`), which ``miniapp_api.webhooks`` calls::

    route (in-process cache) → secret header (constant time) → one Redis round trip
    (de-duplication, route version, fan snapshot, rate counter, the fan's message and the
    process's pending replies into the chat history stream) → Dispatcher with the tenant's Bot
    → 200, with the handler's reply as the webhook response when it has one (held for the
    chat history until the next update's Redis command carries it)

Messages the bot sends through the Bot API (handlers, replies after the deadline) are recorded
by the shared HTTP session's :class:`tenants.chatlog.record.RecordSends` middleware; a tenant
whose creator turned the history off records nothing (the route cache carries the switch).

Handlers run in the request's own task (a task per update, with a timed wait on it, cost more
than a quick update's middlewares). The HTTP layer keeps the promise that an update whose
handlers take longer than ``response_deadline`` (2 s) is answered 200 at once, so Telegram
never waits on slow work nor re-sends it: it answers on its own and marks the
:class:`Deadline` passed, and the reply that comes later goes out through the Bot API.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import Default
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods import AnswerPreCheckoutQuery, TelegramMethod
from aiogram.types import Update
from arq.connections import ArqRedis
from pydantic_core import PydanticSerializationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.errors import on_error
from bot.filters import CommandLike
from bot.i18n import SUPPORTED_LANGUAGES, Texts, create_i18n, pick_language
from bot.menu import app_url, commands_for
from bot.middlewares import setup_middlewares
from bot.prefetch import Prefetch, describe, prefetch
from bot.routing import MISSING, BotRoute, RouteCache
from bot.storage import PrefetchingRedisStorage, reset, use_prefetched_state
from bot.wallet_ton.messages import chat_waits
from core.models import Tenant, TenantBot, TenantRole
from core.settings import Settings
from tenants.chatlog import record as chatlog
from tenants.webhooks import BotSetup, configure_webhook, route_version_key, secret_matches

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WebhookReply:
    status: int
    body: bytes = b""
    content_type: str = "application/json"


OK = WebhookReply(200, b"{}")
NOT_FOUND = WebhookReply(404, b'{"error":"unknown bot"}')
UNAUTHORIZED = WebhookReply(401, b'{"error":"bad secret token"}')
BAD_REQUEST = WebhookReply(400, b'{"error":"not an update"}')


def feature_routers() -> list[Router]:
    """Every feature's router, in matching order. Order matters for speed too: aiogram tries
    routers one by one (~15 µs each even when nothing in it matches), so the manager bot's
    router (one cheap filter for everyone else) comes first and the catch-all fallback last.

    A feature whose messages are all slash commands (buttons and other updates are free) goes
    into the ``commands_only`` group: free text — the assistant's, most of a bot's messages —
    skips the whole group with one check. A feature that reads plain text, media or FSM input
    gets its own place in the list instead, with a router-level filter of its own when it can
    say cheaply which messages concern it (payments: payment reports and commands). No two
    features answer the same command, button or update, so the order decides speed only:
    the most frequent commands (``/start``, menus) come first."""
    from bot.assistant import handlers as assistant  # issue 6: free text, after all commands
    from bot.broadcasts import handlers as broadcasts
    from bot.fallback import handlers as fallback
    from bot.feed import handlers as feed
    from bot.generation import handlers as generation  # issue 6
    from bot.members import handlers as members
    from bot.onboarding import handlers as onboarding
    from bot.payments import handlers as payments
    from bot.referrals import handlers as referrals
    from bot.settings import handlers as settings
    from bot.start import handlers as start
    from bot.stats import handlers as stats
    from bot.tasks import handlers as tasks
    from bot.vip import handlers as vip
    from bot.wallet import handlers as wallet
    from bot.wallet_ton import handlers as wallet_ton

    return [
        onboarding.create_router(),
        commands_only(
            start.create_router(),
            settings.create_router(),
            wallet.create_router(),
            wallet_ton.create_router(),  # /wallet and TON payment buttons
            referrals.create_router(),
            members.create_router(),
            generation.create_router(),
            feed.create_router(),  # issue 8: premium content
            vip.create_router(),
            tasks.create_router(),
            stats.create_router(),  # admins only
        ),
        payments.create_router(),  # payments and its commands only (one router-level filter)
        broadcasts.create_router(),  # admins only; reads the message to send (FSM), not a command
        assistant.create_router(),
        fallback.create_router(),
    ]


def commands_only(*routers: Router) -> Router:
    """``routers`` behind one router-level filter on messages: only a command (text or caption
    starting with "/", what aiogram's ``Command`` filter needs) gets in."""
    group = Router(name="commands")
    group.message.filter(CommandLike())
    group.include_routers(*routers)
    return group


def create_dispatcher(runtime: BotRuntime, extra_routers: Sequence[Router] = ()) -> Dispatcher:
    """A Dispatcher with our middlewares and routers; ``extra_routers`` go before the
    fallback (tests use it to add probe handlers; later features may too)."""
    dp = Dispatcher(storage=runtime.storage, runtime=runtime, redis=runtime.redis)
    setup_middlewares(dp, runtime)
    dp.errors.register(on_error)
    routers = feature_routers()
    dp.include_routers(*routers[:-1], *extra_routers, routers[-1])
    return dp


class Deadline:
    """Set by the HTTP layer: ``passed`` turns True once Telegram got its 200 without waiting
    for the update's reply, which must then be sent through the Bot API."""

    __slots__ = ("passed",)

    def __init__(self) -> None:
        self.passed = False


class BotCache:
    """``Bot`` objects by bot id (LRU); all share one HTTP session, so an idle tenant costs a
    few hundred bytes at most, and nothing at all until its first update."""

    def __init__(self, session: AiohttpSession, maxsize: int = 2048) -> None:
        self._session = session
        self._maxsize = maxsize
        self._bots: OrderedDict[int, Bot] = OrderedDict()

    def get(self, route: BotRoute) -> Bot:
        bot = self._bots.get(route.telegram_bot_id)
        if bot is not None and bot.token == route.token:
            self._bots.move_to_end(route.telegram_bot_id)
            return bot
        bot = Bot(route.token, session=self._session)
        self._bots[route.telegram_bot_id] = bot
        while len(self._bots) > self._maxsize:
            self._bots.popitem(last=False)
        return bot

    def __len__(self) -> int:
        return len(self._bots)


class BotRuntime:
    def __init__(
        self,
        settings: Settings,
        session_factory: async_sessionmaker[AsyncSession],
        redis: ArqRedis,
        *,
        response_deadline: float = 2.0,
        extra_routers: Sequence[Router] = (),
        bot_cache_size: int = 2048,
    ) -> None:
        self.settings = settings
        self.session_factory = session_factory
        self.redis = redis
        self.response_deadline = response_deadline
        self.i18n = create_i18n()
        self.api_session = AiohttpSession(
            api=TelegramAPIServer.from_base(settings.telegram_api_base)
        )
        self.bots = BotCache(self.api_session, bot_cache_size)
        self.routes = RouteCache(session_factory)
        self.api_session.middleware(chatlog.RecordSends(redis, self.records_chat))
        self.replies = chatlog.PendingReplies(redis)
        self.storage = PrefetchingRedisStorage(redis)
        self.ton_waits = chat_waits(settings, session_factory, redis, self.api_session)
        self.dp = create_dispatcher(self, extra_routers)
        self._background: set[asyncio.Future[Any]] = set()

    # -- the webhook -------------------------------------------------------------------------

    async def handle_webhook(
        self,
        telegram_bot_id: int,
        secret: str | None,
        body: bytes,
        deadline: Deadline | None = None,
    ) -> WebhookReply:
        cached = self.routes.peek(telegram_bot_id)
        route = await self.routes.get(telegram_bot_id) if cached is MISSING else cached
        if not isinstance(route, BotRoute):
            return NOT_FOUND
        if not secret_matches(route.secret_hash, secret, secret_key=self.settings.secret_key):
            version = await self.redis.get(route_version_key(telegram_bot_id))
            route = await self.routes.reload_for_secret(route, version)
            if route is None:
                return NOT_FOUND
            if not secret_matches(route.secret_hash, secret, secret_key=self.settings.secret_key):
                return UNAUTHORIZED
        try:
            raw = json.loads(body)
            update_id = raw["update_id"]
        except (ValueError, TypeError, KeyError):
            return BAD_REQUEST
        if not isinstance(update_id, int):
            return BAD_REQUEST
        envelope = describe(raw)
        fsm_key = None
        if envelope.chat_id is not None and envelope.sender_id is not None:
            fsm_key = self.storage.state_key(
                route.telegram_bot_id, envelope.chat_id, envelope.sender_id
            )
        records = chatlog.recording(route.tenant.config)
        message = chatlog.incoming(telegram_bot_id, envelope.update_type, raw) if records else None
        prefetched = await self.prefetch(
            route, update_id, envelope.sender_id, envelope.update_type, fsm_key, message
        )
        if not prefetched.fresh:
            return OK  # a re-delivery of an update we already took
        fresh_route = await self.routes.refresh_if_changed(route, prefetched.route_version)
        if fresh_route is None or not fresh_route.active:
            if fresh_route is not None and envelope.update_type == "pre_checkout_query":
                return self.refuse_checkout(fresh_route, raw["pre_checkout_query"])
            return OK  # disabled: 200, so Telegram does not retry
        if fresh_route is not route and not records:
            records = await self.record_late(fresh_route, envelope.update_type, raw)
        bot = self.bots.get(fresh_route)
        update = Update.model_validate(raw, context={"bot": bot})
        token = use_prefetched_state(fsm_key, prefetched.fsm_state) if fsm_key else None
        try:
            result = await self.feed(bot, update, route=fresh_route, prefetch=prefetched)
        finally:
            if token is not None:
                reset(token)
        if result is None:
            return OK
        if deadline is not None and deadline.passed:  # Telegram was answered without it
            await self.dp.silent_call_request(bot=bot, result=result)
            return OK
        reply = method_body(bot, result)
        if reply is None:  # carries a file: cannot ride in the response
            self._spawn(self.dp.silent_call_request(bot=bot, result=result))
            return OK
        if records:
            self.replies.add(telegram_bot_id, result)
        return WebhookReply(200, reply)

    def refuse_checkout(self, route: BotRoute, query: dict[str, Any]) -> WebhookReply:
        """A disabled tenant takes no money: the fan sees why at once instead of a payment
        that times out (answered in the webhook response, well inside Telegram's 10 s)."""
        sender = query.get("from") or {}
        tenant = route.tenant
        language = pick_language(
            None, sender.get("language_code"), tenant.default_language, tenant.languages
        )
        method = AnswerPreCheckoutQuery(
            pre_checkout_query_id=str(query.get("id", "")),
            ok=False,
            error_message=Texts(self.i18n, language)("payments.refused.unavailable"),
        )
        return WebhookReply(200, method_body(self.bots.get(route), method) or b"{}")

    async def prefetch(
        self,
        route: BotRoute,
        update_id: int | None,
        sender_id: int | None,
        update_type: str | None,
        fsm_key: str | None = None,
        message: chatlog.Fields | None = None,
    ) -> Prefetch:
        replies = self.replies.take()
        try:
            return await prefetch(
                self.redis,
                telegram_bot_id=route.telegram_bot_id,
                tenant_id=route.tenant.id,
                update_id=update_id,
                sender_id=sender_id,
                update_type=update_type,
                throttle=route.tenant.throttle,
                fsm_key=fsm_key,
                message=message,
                replies=replies,
            )
        except BaseException:
            self.replies.give_back(replies)
            raise

    async def record_late(
        self, route: BotRoute, update_type: str | None, raw: dict[str, Any]
    ) -> bool:
        """The creator has just turned the history on (the cached route said off): record the
        update's message after all, with a command of its own (only on a route change). The
        other way round the drain leaves out what the stale route let in."""
        if not chatlog.recording(route.tenant.config):
            return False
        message = chatlog.incoming(route.telegram_bot_id, update_type, raw)
        if message is not None:
            await chatlog.append(self.redis, message)
        return True

    def records_chat(self, telegram_bot_id: int) -> bool:
        """Whether messages this bot sends are recorded: its tenant's switch, as cached (a
        bot not cached here is recorded, and the worker's drain applies the switch)."""
        route = self.routes.peek(telegram_bot_id)
        return not isinstance(route, BotRoute) or chatlog.recording(route.tenant.config)

    async def feed(self, bot: Bot, update: Update, **data: Any) -> TelegramMethod[Any] | None:
        """Run the update through the Dispatcher, in the caller's task; the reply, if any."""
        try:
            result = await self.dp.feed_update(bot, update, **data)
        except Exception:
            logger.exception("update %s escaped the error handler", update.update_id)
            return None
        return result if isinstance(result, TelegramMethod) else None

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- setting bots up ---------------------------------------------------------------------

    def bot_setup(self, tenant: Tenant, telegram_bot_id: int) -> BotSetup:
        """Allowed updates from the handlers, commands in every language, the Mini App button."""
        manager = tenant.role == TenantRole.PLATFORM
        default = Texts(self.i18n, tenant.default_language)
        commands = {"": commands_for(default, manager=manager)}
        for language in SUPPORTED_LANGUAGES:
            commands[language] = commands_for(Texts(self.i18n, language), manager=manager)
        return BotSetup(
            allowed_updates=self.dp.resolve_used_update_types(),
            commands=commands,
            menu_button_text=default("menu.open_app"),
            menu_button_url=app_url(self.settings.public_base_url, telegram_bot_id),
        )

    async def configure_bot(
        self,
        session: AsyncSession,
        bot_row: TenantBot,
        tenant: Tenant,
        *,
        drop_pending_updates: bool = False,
    ) -> str:
        """Set the webhook (fresh secret), commands and menu button; the caller commits and
        publishes the route change. Returns the secret (tests post with it)."""
        from tenants.service import bot_token

        bot = Bot(bot_token(bot_row), session=self.api_session)
        return await configure_webhook(
            session,
            bot_row,
            bot,
            self.bot_setup(tenant, bot_row.telegram_bot_id),
            public_base_url=self.settings.public_base_url,
            secret_key=self.settings.secret_key,
            drop_pending_updates=drop_pending_updates,
        )

    async def close(self) -> None:
        """Let background sends (replies carrying files) finish, briefly; then close the
        shared HTTP session."""
        await self.ton_waits.close()  # their leases go, so the worker's sweep takes over
        await self.replies.close()
        if self._background:
            _, pending = await asyncio.wait(list(self._background), timeout=5)
            for task in pending:
                task.cancel()
        await self.api_session.close()


def method_body(bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
    """A reply for the webhook response as JSON (``{"method": ..., ...}``), or None when it
    carries a file. pydantic writes the JSON itself (in Rust, half the cost of dumping to
    Python and encoding that); the bot's defaults (``parse_mode``...) are left out when unset,
    which is the usual case, and resolved in Python otherwise."""
    unset = set()
    for name, value in method.__dict__.items():
        if isinstance(value, Default):
            if bot.default[value.name] is not None:
                return _method_body_with_defaults(bot, method)
            unset.add(name)
    try:
        body = method.model_dump_json(exclude_none=True, exclude=unset, warnings=False)
    except PydanticSerializationError:  # an InputFile (upload) or another non-JSON value
        return None
    head = f'{{"method":"{method.__api_method__}"'
    return (head + ("}" if body == "{}" else "," + body[1:])).encode()


def _method_body_with_defaults(bot: Bot, method: TelegramMethod[Any]) -> bytes | None:
    fields: dict[str, Any] = {"method": method.__api_method__}
    for key, value in method.model_dump(exclude_none=True, warnings=False).items():
        if isinstance(value, Default):
            value = bot.default[value.name]
            if value is None:
                continue
            if hasattr(value, "model_dump"):
                value = value.model_dump(exclude_none=True)
        fields[key] = value
    try:
        return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()
    except TypeError:  # an InputFile (upload) or another non-JSON value
        return None


async def resync_bots(
    runtime: BotRuntime, telegram_bot_ids: Iterable[int] | None = None
) -> list[tuple[int, str | None]]:
    """Re-set webhooks (new secrets), commands and menu buttons of the given bots, or of every
    active tenant; used by ``atelier tenants resync`` and ``atelier dev``. Returns
    ``(bot id, error or None)`` per bot; one failing bot does not stop the others."""
    from sqlalchemy import select

    from core.queue import unit_of_work
    from tenants.webhooks import publish_route_changes

    async with runtime.session_factory() as session:
        statement = select(TenantBot.telegram_bot_id).join(Tenant, Tenant.id == TenantBot.tenant_id)
        if telegram_bot_ids is None:
            statement = statement.where(Tenant.is_active.is_(True))
        else:
            statement = statement.where(TenantBot.telegram_bot_id.in_(list(telegram_bot_ids)))
        ids = list((await session.execute(statement.order_by(TenantBot.id))).scalars())
    results: list[tuple[int, str | None]] = []
    for telegram_bot_id in ids:
        try:
            async with unit_of_work(runtime.session_factory, runtime.redis) as session:
                row = (
                    await session.execute(
                        select(TenantBot, Tenant)
                        .join(Tenant, Tenant.id == TenantBot.tenant_id)
                        .where(TenantBot.telegram_bot_id == telegram_bot_id)
                    )
                ).one()
                await runtime.configure_bot(session, row[0], row[1])
            await publish_route_changes(session, runtime.redis)
            runtime.routes.invalidate(telegram_bot_id)
            results.append((telegram_bot_id, None))
        except Exception as exc:
            logger.warning("resync of bot %s failed: %s", telegram_bot_id, exc)
            results.append((telegram_bot_id, str(exc) or type(exc).__name__))
    return results


async def resync_webhooks(
    settings: Settings, telegram_bot_ids: Iterable[int] | None = None
) -> list[tuple[int, str | None]]:
    """:func:`resync_bots` with a short-lived runtime of its own (engine, Redis): for
    ``atelier tenants resync`` and ``atelier dev``, which have no running API at hand."""
    from core.db import create_engine, create_session_factory
    from core.redis import close_redis, create_redis

    engine = create_engine(settings)
    redis = create_redis(settings)
    runtime = BotRuntime(settings, create_session_factory(engine), redis)
    try:
        return await resync_bots(runtime, telegram_bot_ids)
    finally:
        await runtime.close()
        await close_redis(redis)
        await engine.dispose()


async def start_dev_bots(
    settings: Settings, telegram_bot_ids: Iterable[int] | None = None
) -> list[tuple[int, str | None]]:
    """For ``atelier dev``, once the API listens and the demo tenant exists: point the given
    bots (default: every active tenant — a dev database holds a handful) at the API's webhook
    in the emulator. The API process itself then serves them (embedded mode)."""
    return await resync_webhooks(settings, telegram_bot_ids)


async def poll_bot(
    settings: Settings, telegram_bot_id: int, *, handle_signals: bool = True
) -> None:
    """``atelier bot poll``: one tenant's bot with long polling (the webhook is deleted
    first), through the very same middlewares and routers as the webhook."""
    from core.db import create_engine, create_session_factory
    from core.redis import close_redis, create_redis

    engine = create_engine(settings)
    redis = create_redis(settings)
    runtime = BotRuntime(settings, create_session_factory(engine), redis)
    try:
        route = await runtime.routes.get(telegram_bot_id)
        if route is None:
            raise LookupError(f"no bot with id {telegram_bot_id}; see `atelier tenants list`")
        bot = runtime.bots.get(route)
        await bot.delete_webhook(drop_pending_updates=False)
        with contextlib.suppress(asyncio.CancelledError):
            await runtime.dp.start_polling(
                bot,
                allowed_updates=runtime.dp.resolve_used_update_types(),
                handle_signals=handle_signals,
                close_bot_session=False,
            )
    finally:
        await runtime.close()
        await close_redis(redis)
        await engine.dispose()
