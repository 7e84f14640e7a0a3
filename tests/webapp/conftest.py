"""The Mini App in headless Chromium, against the real platform.

One browser per test session (Debian's chromium, no download); per test a fresh platform (the
API served by uvicorn with the Telegram emulator, as in ``tests/bot``), a tenant bot with a
funded fan who started it, the tool catalogue, and a real arq worker running beside the API
(thumbnails and generations happen in it, as in production). The page is opened exactly as
Telegram opens it: the bot's ``/app/?bot=`` URL with emulator-signed launch data in the
fragment.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from core import ledger
from core.db import session_scope
from core.models import User
from devtools.telegram.client import BotInfo, UserInfo
from jobs.worker import create_worker
from miniapp_api import webapp
from tests.bot import conftest as bot_fixtures
from tests.bot.conftest import Platform
from tests.bot.generation import conftest as generation_fixtures
from tests.bot.generation.conftest import Fan, fan_of
from tests.jobs.generation.conftest import FAST

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
VIEWPORT = {"width": 420, "height": 860}

# The bot tests' platform (emulator + API with webhooks) and the seeded catalogue, reused.
emulator = bot_fixtures.emulator
start_platform = bot_fixtures.start_platform
platform = bot_fixtures.platform
catalog = generation_fixtures.catalog

BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]
"""``pytestmark`` of every browser test module."""


@pytest.fixture(scope="session")
def webapp_dist() -> Path:
    dist = webapp.DEFAULT_DIST
    if not (dist / "index.html").is_file():
        pytest.fail(f"the Mini App is not built: {webapp.BUILD_HINT}", pytrace=False)
    return dist


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield launched
        finally:
            await launched.close()


@contextlib.asynccontextmanager
async def running_worker(platform: Platform) -> AsyncIterator[None]:
    """The real arq worker, polling the test Redis until the block ends."""
    ctx = {"settings": platform.settings, "generation_config": FAST, "notify_edit_interval": 0.05}
    worker = create_worker(
        platform.settings, cron_jobs=[], handle_signals=False, poll_delay=0.05, ctx=ctx
    )
    task = asyncio.create_task(worker.async_run())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Call to deprecated close", DeprecationWarning)
            await worker.close()


@dataclass
class MiniApp:
    """A signed-in fan's Mini App page, and what the test needs beside it."""

    page: Any
    platform: Platform
    fan: Fan
    url: str
    errors: list[str]

    async def token(self) -> str:
        """The page's own bearer token (once it has signed in), for API calls beside it."""
        handle = await self.page.wait_for_function(
            """() => {
              const key = Object.keys(sessionStorage).find((k) => k.startsWith('atelier.session.'));
              return key ? JSON.parse(sessionStorage.getItem(key)).token : null;
            }"""
        )
        token: str = await handle.json_value()
        return token

    async def screenshot(self, name: str) -> None:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


async def launch_url(platform: Platform, fan: Fan) -> str:
    """The URL Telegram would open for the bot's menu button, with signed launch data."""
    launch = await platform.emulator.web_app_launch(
        fan.bot, fan.user, url=f"{platform.api_url}/app/?bot={fan.bot.id}"
    )
    url: str = launch["url"]
    return url


OpenApp = Callable[..., Awaitable[MiniApp]]


async def join(
    platform: Platform, bot: BotInfo, tenant_id: int, user: UserInfo, *, credits: int
) -> Fan:
    """``user`` starts the tenant's bot (and gets ``credits``)."""
    await platform.emulator.start(bot, user)
    await platform.replies(bot, user, 1)
    async with session_scope(platform.session_factory) as session:
        user_id = await session.scalar(
            select(User.id).where(User.tenant_id == tenant_id, User.telegram_id == user.id)
        )
        assert user_id is not None
        if credits:
            account = await ledger.get_or_create_account(session, tenant_id, user_id=user_id)
            await ledger.credit(
                session, tenant_id, account.id, credits, idempotency_key=f"test:{user_id}"
            )
    return Fan(bot, user, tenant_id, user_id)


async def owner_of_new_bot(platform: Platform, *, credits: int, language: str) -> Fan:
    """A creator: the Telegram user who connected a new tenant bot (funded, like fan_of)."""
    user = await platform.user("Carla", language_code=language)
    bot, tenant_id = await platform.add_tenant(owner_telegram_id=user.id)
    owner = await join(platform, bot, tenant_id, user, credits=credits)
    async with session_scope(platform.session_factory) as session:
        account = await ledger.get_or_create_account(
            session, tenant_id, kind=ledger.AccountKind.TENANT
        )
        await ledger.credit(session, tenant_id, account.id, 1000, idempotency_key="test:tenant")
    return owner


@pytest.fixture
async def open_app(
    browser: Any,
    platform: Platform,
    catalog: None,
    engine: AsyncEngine,
    webapp_dist: Path,
) -> AsyncIterator[OpenApp]:
    """``await open_app(language="en", credits=100)``: a fan, a worker, the page at /app/
    (``warm_up=True`` loads another page of the server first: see test_interactive)."""
    contexts: list[Any] = []
    async with running_worker(platform):

        async def _open(
            *,
            language: str = "en",
            credits: int = 100,
            warm_up: bool = False,
            owner: bool = False,
            bot_of: Fan | None = None,
        ) -> MiniApp:
            """``owner=True``: the bot's creator; ``bot_of=app.fan``: a new fan of that bot."""
            if owner:
                fan = await owner_of_new_bot(platform, credits=credits, language=language)
            elif bot_of is not None:
                user = await platform.user("Fred", language_code=language)
                fan = await join(platform, bot_of.bot, bot_of.tenant_id, user, credits=credits)
            else:
                fan = await fan_of(platform, credits=credits, language=language)
            context = await browser.new_context(viewport=VIEWPORT, locale=language)
            contexts.append(context)
            # Telegram links (invoices) go nowhere here: there is no network.
            await context.route("https://t.me/**", lambda route: route.fulfill(body="t.me"))
            page = await context.new_page()
            page.set_default_timeout(10_000)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            url = await launch_url(platform, fan)
            if warm_up:  # a fresh Chromium's first navigation is slow whatever it loads
                await page.goto(f"{platform.api_url}/healthz")
            await page.goto(url)
            return MiniApp(page=page, platform=platform, fan=fan, url=url, errors=errors)

        try:
            yield _open
        finally:
            for context in contexts:
                await context.close()
