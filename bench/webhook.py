"""Webhook throughput: updates/second through the whole bot path, against a bare Dispatcher.

    .venv/bin/python -m bench.webhook [--database-url URL] [--redis-url URL] [--updates 5000]
                                      [--users 500] [--concurrency 32] [--rounds 3]

The whole path, in one process: HTTP POST ``/tg/{bot_id}`` into the real FastAPI app — every
ASGI middleware of the API included — handed over the way an ASGI server (uvicorn) hands a
parsed request, with ``--concurrency`` requests in flight → route cache → secret check (HMAC,
constant time) → one Redis pipeline (de-duplication ``SET NX EX``, route version, fan snapshot,
rate counter, the chat history's ``XADD`` of the message and of the previous reply) → aiogram
Dispatcher with the Redis FSM storage → our middlewares (tenant, unit of work, user snapshot or
upsert, i18n + tenant texts, throttling) → the handler → the reply, as JSON in the webhook
response (aiogram's "reply in webhook" — Telegram executes it; no extra request). The same
again through httpx's ``ASGITransport`` is printed too: it adds the client's own work (~0.1 ms
per request here), which in production is Telegram's.

The baseline: the same updates fed to a bare aiogram Dispatcher (``feed_raw_update``, memory
FSM storage, no middlewares) with the same ten routers in the same order, the same filters and
the same replies (text and keyboard); both route with aiogram's own router walk, in the same
process and run. "stack ÷ bare cost" compares our runtime without HTTP (``handle_webhook``:
secret check, Redis round trip, middlewares, handler, reply body), one update at a time, with
the bare Dispatcher; the whole path adds the HTTP hop. Each figure is the best of
``--rounds`` rounds, the kinds taking turns within a round, and is printed twice: per second of
wall-clock time, and per second of this process's CPU time — what one process does with a core
to itself, which a small machine shared with other work does not give it (the load average is
printed with the figures).

Without ``--database-url`` a throwaway PostgreSQL database is created on 127.0.0.1 (migrated,
dropped at the end). Redis defaults to ``redis://127.0.0.1:6379/15``, which is FLUSHED first.
Fans are created in a warm-up pass (their first update writes their row); the timed passes see
returning fans, whose rows are written at most every five minutes. The tenant's rate limit and
the assistant's daily quota are raised so their counters are still taken but never trip.
Prints figures; never fails on time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from typing import Any, NamedTuple

import httpx
from aiogram import Bot, Dispatcher, Router
from aiogram.filters import Command, CommandStart, Filter, StateFilter
from aiogram.methods import SendMessage
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    WebAppInfo,
)
from rich.console import Console
from rich.table import Table

from bench.common import SECRET_KEY, database, webhook_settings
from bot.filters import CallbackIs, CommandLike, PrivateChat, SlashText
from bot.generation.handlers import COMMANDS as GENERATION_COMMANDS
from bot.payments.handlers import HasRefundedPayment, HasSuccessfulPayment, PaymentOrCommand
from core import crypto
from core.db import create_engine, create_session_factory
from core.models import Tenant, TenantBot
from core.settings import Settings
from tenants.webhooks import SECRET_HEADER, secret_hash

BOT_ID = 6_000_000_001
TOKEN = f"{BOT_ID}:AAbenchmarkbenchmarkbenchmark_12345"
SECRET = "bench-secret-token"
console = Console()


def _message(update_id: int, user_id: int, text: str) -> dict[str, Any]:
    entities = (
        [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        if text.startswith("/")
        else []
    )
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user_id, "type": "private", "first_name": f"Fan {user_id}"},
        "from": {
            "id": user_id,
            "is_bot": False,
            "first_name": f"Fan {user_id}",
            "language_code": "en",
        },
        "text": text,
    }
    if entities:
        message["entities"] = entities
    return {"update_id": update_id, "message": message}


def _updates(start: int, count: int, users: int, text: str) -> list[dict[str, Any]]:
    return [_message(start + i, 1_000_000 + i % users, text) for i in range(count)]


class Rate(NamedTuple):
    """Updates per second of wall-clock time, and per second of this process's CPU time.
    The second is what one process can do with a core to itself; on a small machine shared
    with other work, the first also measures how much of a core the scheduler gave us."""

    wall: float
    cpu: float


class Clock:
    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def rate(self, count: int) -> Rate:
        return Rate(
            count / (time.perf_counter() - self.wall), count / (time.process_time() - self.cpu)
        )


# -- the bare baseline -------------------------------------------------------------------------


class Never(Filter):
    async def __call__(self, event: Message) -> bool:
        return False


class PlainText(Filter):
    """The assistant's filter without the tenant (a bare Dispatcher has none)."""

    async def __call__(self, event: Message) -> bool:
        return bool(event.text) and not (event.text or "").startswith("/")


def bare_dispatcher() -> Dispatcher:
    """Our routers in our order and groups (``bot.runtime.feature_routers``: the command-only
    routers behind one filter, the payments router behind its own with the plans router
    inside), with the same filters and the same replies (text and keyboard), but no
    middlewares: the manager-bot-only routers (onboarding, plans) fail on one router-level
    filter, as they do for every tenant bot."""

    welcome = "Hi Fan! Welcome to Bench Studio.\n\n" + "Create images, video and audio. " * 5
    menu = InlineKeyboardMarkup(  # the same reply as ours: text and the five-button menu
        inline_keyboard=[
            [InlineKeyboardButton(text="Open app", web_app=WebAppInfo(url="https://b/app/"))],
            [
                InlineKeyboardButton(text="Balance", callback_data="menu:balance"),
                InlineKeyboardButton(text="Invite friends", callback_data="menu:invite"),
            ],
            [
                InlineKeyboardButton(text="Language", callback_data="menu:language"),
                InlineKeyboardButton(text="Help", callback_data="menu:help"),
            ],
        ]
    )
    offline = (  # the assistant's offline answer to free text
        "I can make pictures, video, sounds, music and speech for you. Try: “draw a dog in "
        "space, turn it into a 5 second video and add space sounds”, or use /image, /video, "
        "/audio and /tts."
    )

    async def reply(message: Message) -> SendMessage:
        if (message.text or "").startswith("/start"):
            return message.answer(welcome, reply_markup=menu)
        return message.answer(offline)

    async def answer(callback: CallbackQuery) -> Any:
        return callback.answer()

    async def nothing(event: Any) -> None:
        return None

    names = ("o", "p", "s", "se", "w", "r", "m", "g", "a", "f")
    (
        onboarding,
        payments,
        start,
        settings,
        wallet,
        referrals,
        members,
        generation,
        assistant,
        (fallback),
    ) = (Router(name=n) for n in names)
    onboarding.message.filter(Never())  # the manager-bot-only router: one failing filter
    onboarding.callback_query.filter(Never())
    onboarding.message.register(reply, CommandStart())
    onboarding.message.register(reply, Command("help"))
    onboarding.message.register(reply, Command("newbot"))
    onboarding.callback_query.register(answer, CallbackIs("onb:new"))
    onboarding.message.register(reply, StateFilter("waiting"), SlashText(negate=True))
    onboarding.message.register(reply, Command("mybots"))
    onboarding.callback_query.register(answer, CallbackIs("mb:", prefix=True))
    plans = Router(name="pl")  # inside payments, manager-bot only, like ours
    plans.message.filter(Never())
    plans.callback_query.filter(Never())
    plans.message.register(reply, Command("plan"))
    plans.message.register(reply, Command("topup"))
    plans.callback_query.register(answer, CallbackIs("plan:", prefix=True))
    plans.callback_query.register(answer, CallbackIs("topup:", prefix=True))
    payments.include_router(plans)
    payments.pre_checkout_query.register(nothing)
    payments.message.register(reply, HasSuccessfulPayment())
    payments.message.register(reply, HasRefundedPayment())
    payments.message.register(reply, Command("buy"))
    payments.message.register(reply, Command("refund"))
    payments.message.register(reply, Command("payments"))
    payments.callback_query.register(answer, CallbackIs("buy:", prefix=True))
    start.message.register(reply, CommandStart())
    start.message.register(reply, Command("help"))
    start.callback_query.register(answer, CallbackIs("menu:help"))
    start.message.register(reply, Command("app"))
    settings.message.register(reply, Command("language"))
    settings.callback_query.register(answer, CallbackIs("menu:language"))
    settings.callback_query.register(answer, CallbackIs("lang:", prefix=True))
    settings.message.register(reply, Command("cancel"))
    wallet.message.register(reply, Command("balance"))
    wallet.callback_query.register(answer, CallbackIs("menu:balance"))
    referrals.message.register(reply, Command("invite"))
    referrals.callback_query.register(answer, CallbackIs("menu:invite"))
    members.my_chat_member.register(nothing, PrivateChat())
    generation.message.register(reply, Command(*GENERATION_COMMANDS))
    generation.message.register(reply, Command("jobs"))
    generation.message.register(reply, Command("cancel_job"))
    for prefix in ("gen:cancel:", "gen:rerun:", "gen:var:"):
        generation.callback_query.register(answer, CallbackIs(prefix, prefix=True))
    generation.callback_query.register(answer, CallbackIs("gen:buy"))
    assistant.message.register(reply, Command("reset"))
    assistant.message.register(reply, PlainText())
    for prefix in ("as:run:", "as:edit:", "as:drop:"):
        assistant.callback_query.register(answer, CallbackIs(prefix, prefix=True))
    fallback.message.register(reply, SlashText())
    fallback.message.register(reply)
    fallback.callback_query.register(answer)
    # The creator features (issue 8): command-only ones in the group, broadcasts on its own.
    feed, vip, tasks, stats, broadcasts = (Router(name=n) for n in ("fe", "v", "t", "st", "b"))
    feed.message.register(reply, Command("feed"))
    feed.callback_query.register(answer, CallbackIs("feed:buy:", prefix=True))
    feed.callback_query.register(answer, CallbackIs("feed:task:", prefix=True))
    vip.message.register(reply, Command("vip"))
    for prefix in ("vip:post:", "vip:buy:", "vip:cancel:"):
        vip.callback_query.register(answer, CallbackIs(prefix, prefix=True))
    tasks.message.register(reply, Command("tasks"))
    tasks.callback_query.register(answer, CallbackIs("task:", prefix=True))
    stats.message.register(reply, Command("stats"))
    broadcasts.message.register(reply, Command("broadcast"))
    broadcasts.message.register(reply, StateFilter("broadcast"), SlashText(negate=True))
    for prefix in ("bc:aud:", "bc:go:", "bc:drop:", "bc:pause:", "bc:resume:", "bc:cancel:"):
        broadcasts.callback_query.register(answer, CallbackIs(prefix, prefix=True))
    commands = Router(name="c")  # bot.runtime.commands_only
    commands.message.filter(CommandLike())
    commands.include_routers(
        start, settings, wallet, referrals, members, generation, feed, vip, tasks, stats
    )
    dp = Dispatcher()
    payments.message.filter(PaymentOrCommand())
    dp.include_routers(onboarding, commands, payments, broadcasts, assistant, fallback)
    return dp


async def run_bare(updates: list[dict[str, Any]]) -> Rate:
    dp = bare_dispatcher()
    bot = Bot(TOKEN)
    replies = 0
    clock = Clock()
    for raw in updates:
        result = await dp.feed_raw_update(bot, raw)
        replies += isinstance(result, SendMessage)
    await bot.session.close()
    assert replies == len(updates), f"bare: {replies} replies for {len(updates)} updates"
    return clock.rate(len(updates))


# -- the whole path ----------------------------------------------------------------------------


class AsgiPoster:
    """POSTs to an ASGI app the way an ASGI server hands it a request (uvicorn builds the same
    scope from the parsed HTTP/1.1 request), with nothing of a client's own work on top: the
    whole path measured is the server's. (httpx's ``ASGITransport`` adds ~0.1 ms of client
    work per request — URL parsing, cookie jar, header models — that is Telegram's CPU, not
    ours; :func:`run_httpx` measures through it too, for reference.)"""

    def __init__(self, app: Any, path: str, headers: dict[str, str]) -> None:
        self.app = app
        self.path = path
        self.headers = [(k.lower().encode(), v.encode()) for k, v in headers.items()]

    async def post(self, body: bytes) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "https",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"bench.example"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *self.headers,
            ],
            "client": ("149.154.167.220", 40000),
            "server": ("10.0.0.1", 443),
            "state": {},
        }
        status = 0
        chunks: list[bytes] = []
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if delivered:  # the app asks again only to watch for a disconnect
                await asyncio.Event().wait()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


async def run_whole(poster: AsgiPoster, updates: list[dict[str, Any]], concurrency: int) -> Rate:
    """The whole path: each update JSON-encoded (as Telegram sends it) and POSTed to the app."""
    queue = iter([json.dumps(raw).encode() for raw in updates])
    replies = 0

    async def worker() -> None:
        nonlocal replies
        for raw in queue:
            status, body = await poster.post(raw)
            if status != 200:
                raise RuntimeError(f"{status}: {body.decode()}")
            replies += body.startswith(b'{"method":"sendMessage"')

    clock = Clock()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    assert replies == len(updates), f"ours: {replies} replies for {len(updates)} updates"
    return clock.rate(len(updates))


async def run_httpx(
    client: httpx.AsyncClient, updates: list[dict[str, Any]], concurrency: int
) -> Rate:
    """The whole path again, through httpx's ASGI transport (client work included)."""
    queue = iter(updates)
    replies = 0

    async def worker() -> None:
        nonlocal replies
        for raw in queue:
            response = await client.post(f"/tg/{BOT_ID}", json=raw, headers={SECRET_HEADER: SECRET})
            if response.status_code != 200:
                raise RuntimeError(f"{response.status_code}: {response.text}")
            replies += response.content.startswith(b'{"method":"sendMessage"')

    clock = Clock()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    assert replies == len(updates), f"httpx: {replies} replies for {len(updates)} updates"
    return clock.rate(len(updates))


async def run_stack(runtime: Any, updates: list[dict[str, Any]]) -> Rate:
    """Our runtime without HTTP: ``handle_webhook`` on the raw body, one update at a time."""
    bodies = [json.dumps(raw).encode() for raw in updates]
    replies = 0
    clock = Clock()
    for body in bodies:
        reply = await runtime.handle_webhook(BOT_ID, SECRET, body)
        replies += reply.body.startswith(b'{"method":"sendMessage"')
    assert replies == len(updates), f"stack: {replies} replies for {len(updates)} updates"
    return clock.rate(len(updates))


async def calibrate() -> Rate:
    """The machine's speed in the unit of the field notes: a bare one-router Dispatcher."""

    async def nothing(message: Message) -> None:
        return None

    router = Router()
    router.message.register(nothing)
    dp = Dispatcher()
    dp.include_router(router)
    bot = Bot(TOKEN)
    updates = _updates(1, 3000, 10, "hello")
    clock = Clock()
    for raw in updates:
        await dp.feed_raw_update(bot, raw)
    rate = clock.rate(len(updates))
    await bot.session.close()
    return rate


async def _seed(settings: Settings) -> None:
    engine = create_engine(settings)
    async with create_session_factory(engine)() as session:
        tenant = Tenant(
            name="Bench Studio",
            plan="enterprise",  # custom limits: the assistant's daily quota never trips
            config={
                "throttle": {"limit": 10**9, "window": 60},
                "limits": {"messages_per_day": 10**9},
            },
        )
        session.add(tenant)
        await session.flush()
        session.add(
            TenantBot(
                tenant_id=tenant.id,
                telegram_bot_id=BOT_ID,
                username="bench_bot",
                token_encrypted=crypto.encrypt(TOKEN, secret_key=SECRET_KEY),
                webhook_secret_hash=secret_hash(SECRET, secret_key=SECRET_KEY),
            )
        )
        await session.commit()
    await engine.dispose()


Row = tuple[str, Rate, Rate, Rate, Rate]  # label, bare, stack, whole, httpx


def best(rates: list[Rate]) -> Rate:
    return Rate(max(r.wall for r in rates), max(r.cpu for r in rates))


async def measure(app: Any, args: argparse.Namespace) -> list[Row]:
    """Every figure of both kinds of update, best of ``--rounds`` rounds. The runs of a round
    follow one another (bare, stack, whole, httpx), so a burst of load on the shared machine
    slows one round of every kind rather than one kind."""
    runtime = app.state.bot_runtime
    poster = AsgiPoster(app, f"/tg/{BOT_ID}", {SECRET_HEADER: SECRET})
    transport = httpx.ASGITransport(app=app)
    rows: list[Row] = []
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
        next_id = 1

        def batch(count: int, text: str) -> list[dict[str, Any]]:
            nonlocal next_id
            made = _updates(next_id, count, args.users, text)
            next_id += count
            return made

        await run_whole(poster, batch(args.users, "/start"), args.concurrency)  # fans' rows
        for label, text in (("/start", "/start"), ("plain text", "hello there")):
            await run_whole(poster, batch(args.updates // 10, text), args.concurrency)  # warm
            runs: list[list[Rate]] = [[], [], [], []]
            for _ in range(args.rounds):
                runs[0].append(await run_bare(batch(args.updates, text)))
                runs[1].append(await run_stack(runtime, batch(args.updates, text)))
                runs[2].append(await run_whole(poster, batch(args.updates, text), args.concurrency))
                runs[3].append(await run_httpx(client, batch(args.updates, text), args.concurrency))
            rows.append((label, best(runs[0]), best(runs[1]), best(runs[2]), best(runs[3])))
    return rows


def report(rows: list[Row], reference: Rate, args: argparse.Namespace) -> None:
    for clock, title in (
        ("wall", "per second of wall-clock time"),
        ("cpu", "per second of this process's CPU time"),
    ):
        table = Table(title=f"updates {title}, one process (best of {args.rounds})")
        for column in ("update", "bare Dispatcher", "our stack, no HTTP", "stack ÷ bare cost"):
            table.add_column(column, justify="left" if column == "update" else "right")
        table.add_column(f"whole path (ASGI, {args.concurrency} concurrent)", justify="right")
        table.add_column("whole path via httpx", justify="right")
        for label, *rates in rows:
            bare, stack, whole, through_httpx = (getattr(rate, clock) for rate in rates)
            table.add_row(
                label,
                f"{bare:,.0f}",
                f"{stack:,.0f}",
                f"{bare / stack:.2f}×",
                f"{whole:,.0f}",
                f"{through_httpx:,.0f}",
            )
        console.print(table)
        lowest = min(getattr(row[3], clock) for row in rows)
        worst = max(getattr(row[1], clock) / getattr(row[2], clock) for row in rows)
        console.print(
            f"target ≥ 2,000 updates/s through the whole path: "
            f"{'met' if lowest >= 2000 else 'NOT met'} (lowest {lowest:,.0f}/s)\n"
            f"target: our middleware stack ≤ 3× the bare Dispatcher's cost: "
            f"{'met' if worst <= 3 else 'NOT met'} (worst {worst:.2f}×)\n"
        )
    console.print(
        f"[dim]machine reference: a bare one-router Dispatcher does {reference.wall:,.0f} "
        f"updates/s here ({reference.cpu:,.0f} per CPU second; the field notes measured "
        f"~11,000/s); load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} on "
        f"{os.cpu_count()} CPUs; {args.users} fans[/]"
    )


async def run(database_url: str, redis_url: str, args: argparse.Namespace) -> None:
    from miniapp_api.app import create_app, freeze_heap

    settings = await webhook_settings(database_url, redis_url)
    await _seed(settings)
    app = create_app(settings)
    freeze_heap()  # as the API's process does (miniapp_api.app.serve_app)
    async with app.router.lifespan_context(app):
        rows = await measure(app, args)
    report(rows, await calibrate(), args)


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.webhook", description=__doc__)
    parser.add_argument("--database-url", help="postgresql+asyncpg://... (default: throwaway)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15", help="FLUSHED first")
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    args = parser.parse_args(argv)
    async with database(args.database_url, "webhook") as url:
        await run(url, args.redis_url, args)


if __name__ == "__main__":
    asyncio.run(main())
