"""``atelier tenants``: connect creators' bots and manage tenants."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.table import Table
from sqlalchemy.exc import OperationalError, ProgrammingError

from cli.output import console, fail
from cli.runtime import unit_of_work
from core.errors import AtelierError
from tenants.plans import DEFAULT_PLAN, PLANS, UnknownPlanError

if TYPE_CHECKING:
    from tenants.service import TenantSummary

T = TypeVar("T")

tenants_app = typer.Typer(help="Tenants and their bots.", no_args_is_help=True)


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except AtelierError as exc:
        fail(exc.message)
    except UnknownPlanError as exc:
        fail(str(exc))
    except (OperationalError, ProgrammingError, OSError) as exc:
        first_line = str(exc).splitlines()[0]
        if "no such table" in first_line or "does not exist" in first_line:
            fail("the database schema is missing or old", hint="run `atelier db upgrade`")
        fail(f"cannot reach the database: {first_line}", hint="check ATELIER_DATABASE_URL")


@tenants_app.command("add")
def add(
    token: str = typer.Option(..., "--token", help="The bot token from BotFather."),
    plan: str = typer.Option(DEFAULT_PLAN, help=f"One of: {', '.join(PLANS)}."),
    owner: int | None = typer.Option(None, help="Telegram user id of the creator."),
    platform: bool = typer.Option(False, help="Register the platform's own manager bot."),
) -> None:
    """Connect a bot: validate the token with Telegram, store it encrypted."""
    from core.models import TenantRole
    from tenants import service  # aiogram is slow to import: only when the command runs

    async def _add() -> tuple[int, str, int]:
        async with unit_of_work() as session:
            bot = await service.register_tenant(
                session,
                token,
                plan=plan,
                owner_telegram_id=owner,
                role=TenantRole.PLATFORM if platform else TenantRole.CREATOR,
            )
            return bot.tenant_id, bot.username, bot.telegram_bot_id

    tenant_id, username, bot_id = _run(_add())
    console.print(f"[green]tenant {tenant_id} connected[/]: @{username} (bot id {bot_id}, {plan})")
    _report_resync(_run(_resync([bot_id])))


@tenants_app.command("list")
def list_() -> None:
    """Show every tenant with its bot and plan."""
    from tenants import service

    async def _list() -> list[TenantSummary]:
        async with unit_of_work() as session:
            return list(await service.list_tenants(session))

    rows = _run(_list())
    table = Table("id", "name", "bot", "bot id", "plan", "role", "status")
    for row in rows:
        table.add_row(
            str(row.tenant_id),
            row.name,
            f"@{row.bot_username}" if row.bot_username else "—",
            str(row.telegram_bot_id or "—"),
            row.plan,
            row.role,
            "[green]active[/]" if row.is_active else "[red]disabled[/]",
        )
    console.print(table if rows else "no tenants yet: `atelier tenants add --token ...`")


def _set_active(tenant_id: int, active: bool) -> None:
    from core.redis import close_redis, create_redis
    from tenants import service
    from tenants.webhooks import publish_route_changes

    async def _apply() -> None:
        async with unit_of_work() as session:
            await service.set_tenant_active(session, tenant_id, active=active)
        redis = create_redis()
        try:  # running API processes drop their cached route at the next update
            await publish_route_changes(session, redis)
        finally:
            await close_redis(redis)

    _run(_apply())
    console.print(f"tenant {tenant_id} {'enabled' if active else 'disabled'}")


@tenants_app.command("disable")
def disable(tenant_id: int) -> None:
    """Stop serving a tenant's bot (its data stays)."""
    _set_active(tenant_id, False)


@tenants_app.command("enable")
def enable(tenant_id: int) -> None:
    """Serve a disabled tenant's bot again."""
    _set_active(tenant_id, True)


@tenants_app.command("resync")
def resync(
    bot_id: list[int] = typer.Option(
        [], "--bot-id", help="Only these bots (Telegram ids); default: every active tenant."
    ),
) -> None:
    """Re-set webhooks (fresh secrets), commands and menu buttons with Telegram."""
    results = _run(_resync(bot_id or None))
    _report_resync(results)
    if not results:
        console.print("no bots to resync")
    if any(error for _, error in results):
        raise typer.Exit(1)


async def _resync(bot_ids: list[int] | None) -> list[tuple[int, str | None]]:
    from bot.runtime import resync_webhooks
    from core.settings import get_settings

    return await resync_webhooks(get_settings(), bot_ids)


def _report_resync(results: list[tuple[int, str | None]]) -> None:
    for telegram_bot_id, error in results:
        if error is None:
            console.print(f"[green]bot {telegram_bot_id}[/]: webhook set")
        else:
            console.print(
                f"[yellow]bot {telegram_bot_id}[/]: webhook not set ({error}); run "
                f"`atelier tenants resync --bot-id {telegram_bot_id}` once "
                "ATELIER_PUBLIC_BASE_URL is reachable by Telegram",
                highlight=False,
                soft_wrap=True,
            )


def register(app: typer.Typer) -> None:
    app.add_typer(tenants_app, name="tenants")
