"""``atelier dev``: the whole platform in one process with embedded defaults.

SQLite, the in-process Redis stand-in (``memory://``, same redis-py and arq code path), local
disk storage, the Telegram Bot API emulator with its chat page, the TON stand-in (toncenter API,
TON Connect bridge, test wallet page) mounted at ``/ton`` on the emulator's port, the API and
the worker, plus a demo tenant whose bot answers in the emulator. State lives in ``var/dev/``
and survives restarts (the demo bot keeps its token, so its tenant row stays valid); the TON
chain is in memory and starts empty each time.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import Any

import typer
import uvicorn

from cli.output import console, fail
from cli.runtime import seed_reference_data
from core import migrate
from core.db import create_engine, create_session_factory, session_scope
from core.logging import configure_logging
from core.settings import Settings, get_settings

DEMO_BOT_USERNAME = "atelier_demo_bot"
DEMO_BOT_NAME = "Atelier Demo"
DEMO_BOT_ID = 7000000001
DEMO_PLATFORM_CREDITS = 100_000
TON_MOUNT = "/ton"


def _persistent_secret(path: Path, make: str) -> str:
    if not path.exists():
        path.write_text(make)
        path.chmod(0o600)
    return path.read_text().strip()


def configure_environment(data_dir: Path, host: str, port: int, emulator_port: int) -> None:
    """Embedded defaults; any ``ATELIER_*`` variable already set wins."""
    data_dir.mkdir(parents=True, exist_ok=True)
    defaults = {
        "ATELIER_ENVIRONMENT": "dev",
        "ATELIER_DATABASE_URL": f"sqlite+aiosqlite:///{(data_dir / 'atelier.db').resolve()}",
        "ATELIER_REDIS_URL": "memory://",
        "ATELIER_STORAGE_URL": f"file://{(data_dir / 'storage').resolve()}",
        "ATELIER_PUBLIC_BASE_URL": f"http://{host}:{port}",
        "ATELIER_TELEGRAM_API_BASE": f"http://{host}:{emulator_port}",
        "ATELIER_TON_API_BASE": f"http://{host}:{emulator_port}{TON_MOUNT}",
        "ATELIER_TON_CONNECT_WALLETS_URL": (
            f"http://{host}:{emulator_port}{TON_MOUNT}/tonconnect/wallets-v2.json"
        ),
        "ATELIER_SECRET_KEY": _persistent_secret(
            data_dir / "secret_key", secrets.token_urlsafe(48)
        ),
        "ATELIER_LOG_JSON": "false",
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, value)
    _configure_dev_ton_wallet(data_dir)
    get_settings.cache_clear()


def _configure_dev_ton_wallet(data_dir: Path) -> None:
    """A platform wallet of our own (its mnemonic kept in the data folder) that both takes the
    fans' TON payments and pays creators out, so the whole TON flow runs in ``atelier dev``;
    :func:`fund_dev_ton_wallet` deploys it on the stand-in's fresh chain at each start."""
    from pytoniq_core.crypto.keys import mnemonic_new

    from core.settings import TonNetwork
    from core.ton.platform import PlatformWallet

    words = _persistent_secret(data_dir / "ton_platform_mnemonic", " ".join(mnemonic_new(24)))
    os.environ.setdefault("ATELIER_TON_PLATFORM_MNEMONIC", words)
    if os.environ["ATELIER_TON_PLATFORM_MNEMONIC"] != words:
        return  # someone configured their own wallet: leave the merchant to them too
    network = TonNetwork(os.environ.get("ATELIER_TON_NETWORK", TonNetwork.MAINNET.value))
    wallet = PlatformWallet.from_mnemonic(words.split(), network)
    os.environ.setdefault("ATELIER_TON_MERCHANT_ADDRESS", wallet.address.raw)


async def fund_dev_ton_wallet(ton_app: Any, settings: Settings) -> None:
    """Deploy the platform wallet on the stand-in's chain (new at every start: it lives in
    memory) with a balance for payout fees, and restart the payment watcher's cursor, which
    the SQLite database kept from the previous chain."""
    from sqlalchemy import delete

    from core.models import TonWatchCursor

    if settings.ton_platform_mnemonic is None:
        return
    words = settings.ton_platform_mnemonic.get_secret_value()
    ton_app.state.ton.create_wallet(mnemonic=words, balance=1000 * 10**9, label="platform")
    engine = create_engine(settings)
    try:
        async with session_scope(create_session_factory(engine)) as session:
            await session.execute(delete(TonWatchCursor))
    finally:
        await engine.dispose()


async def ensure_demo_tenant(emulator_url: str, token: str) -> str:
    """Create the demo bot in the emulator and connect it as a tenant (once)."""
    from devtools.telegram.client import EmulatorClient
    from tenants import billing, repository, service

    async with EmulatorClient(emulator_url) as client:
        await client.create_bot(DEMO_BOT_USERNAME, DEMO_BOT_NAME, token=token)
    engine = create_engine()
    try:
        async with session_scope(create_session_factory(engine)) as session:
            bot = await repository.get_bot_by_telegram_id(session, DEMO_BOT_ID)
            if bot is None:
                bot = await service.register_tenant(
                    session, token, plan="premium", name=DEMO_BOT_NAME
                )
            # The platform meters every generation: give the demo creator a balance to spend.
            await billing.grant(
                session,
                bot.tenant_id,
                DEMO_PLATFORM_CREDITS,
                key="dev:demo-allowance",
                reason="atelier dev demo allowance",
            )
    finally:
        await engine.dispose()
    return DEMO_BOT_USERNAME


class _Server(uvicorn.Server):
    """uvicorn that leaves signal handling to ``atelier dev`` (several servers, one loop)."""

    @contextlib.contextmanager
    def capture_signals(self):  # type: ignore[no-untyped-def]
        yield


async def _start(server: _Server) -> asyncio.Task[None]:
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped during start-up")
        await asyncio.sleep(0.02)
    return task


async def run_dev(host: str, port: int, emulator_port: int, token: str) -> None:
    from bot.runtime import start_dev_bots
    from devtools.serving import KEEP_ALIVE_S
    from devtools.telegram.app import create_app as create_emulator_app
    from devtools.ton.app import create_app as create_ton_app
    from devtools.ton.config import TonSettings
    from jobs.worker import run_worker
    from miniapp_api.app import create_app

    settings = get_settings()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    emulator_app = create_emulator_app()
    ton_app = create_ton_app(TonSettings(network=settings.ton_network))
    emulator_app.mount(TON_MOUNT, ton_app)
    emulator = _Server(
        uvicorn.Config(
            emulator_app,
            host=host,
            port=emulator_port,
            log_level="warning",
            timeout_keep_alive=KEEP_ALIVE_S,
        )
    )
    api = _Server(uvicorn.Config(create_app(settings), host=host, port=port, log_level="warning"))
    servers = [await _start(emulator), await _start(api)]
    worker = asyncio.create_task(run_worker(settings, handle_signals=False))
    username = await ensure_demo_tenant(settings.telegram_api_base, token)
    await fund_dev_ton_wallet(ton_app, settings)
    for telegram_bot_id, problem in await start_dev_bots(settings):
        if problem is not None:
            console.print(f"[yellow]bot {telegram_bot_id} not served:[/] {problem}")

    console.print(
        "\n[bold green]Atelier is running[/] "
        "(embedded mode: SQLite, in-process Redis, local disk)\n"
        f"  chat with the demo bot  http://{host}:{emulator_port}/   (bot @{username})\n"
        f"  API                     http://{host}:{port}/   (docs at /docs, health at /readyz)\n"
        f"  Bot API emulator        {settings.telegram_api_base}\n"
        f"  TON stand-in            {settings.ton_api_base}   (test wallet at /wallet)\n"
        "  press Ctrl-C to stop\n",
        highlight=False,
        soft_wrap=True,
    )
    sys.stdout.flush()
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopping, worker, *servers], return_when=asyncio.FIRST_COMPLETED)
    # Orderly shutdown: servers finish their requests and lifespans, the worker its loop.
    await ton_app.state.ton.close()  # a mounted app gets no lifespan: end its SSE streams
    api.should_exit = emulator.should_exit = True
    worker.cancel()
    stopping.cancel()
    await asyncio.gather(worker, *servers, return_exceptions=True)
    failed = [task for task in done if task is not stopping and not task.cancelled()]
    for task in failed:
        if (error := task.exception()) is not None:
            raise error


def dev(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port of the API (and the Mini App)."),
    emulator_port: int = typer.Option(8081, help="Port of the Telegram emulator."),
    data_dir: Path = typer.Option(Path("var/dev"), help="Where the database and files live."),
) -> None:
    """Run API, worker, Telegram emulator and a demo tenant in one process."""
    configure_environment(data_dir, host, port, emulator_port)
    settings = get_settings()
    configure_logging(settings)
    token = _persistent_secret(
        data_dir / "demo_bot_token", f"{DEMO_BOT_ID}:{secrets.token_urlsafe(27)[:35]}"
    )
    try:
        migrate.upgrade(settings.database_url)
        asyncio.run(seed_reference_data())
    except Exception as exc:  # any failure here is one line for the user
        fail(f"cannot prepare the database: {str(exc).splitlines()[0]}")
    try:
        asyncio.run(run_dev(host, port, emulator_port, token))
    except KeyboardInterrupt:
        console.print("stopped")
    except OSError as exc:
        fail(str(exc), hint="is another `atelier dev` running? choose other ports with --port")


def register(app: typer.Typer) -> None:
    app.command("dev")(dev)
