"""``atelier bot``: run one tenant's bot with long polling, for development."""

from __future__ import annotations

import asyncio

import typer

from cli.output import console, fail

bot_app = typer.Typer(help="The bot runtime.", no_args_is_help=True)


@bot_app.command("poll")
def poll(
    bot_id: int = typer.Option(..., "--bot-id", help="Telegram id of the tenant's bot."),
) -> None:
    """Serve one bot with getUpdates (its webhook is deleted first); Ctrl-C stops."""
    from core.logging import configure_logging
    from core.settings import get_settings

    settings = get_settings()
    configure_logging(settings)
    from bot.runtime import poll_bot  # aiogram is slow to import: only when the command runs

    console.print(f"polling bot {bot_id} (Ctrl-C to stop)")
    try:
        asyncio.run(poll_bot(settings, bot_id))
    except LookupError as exc:
        fail(str(exc))
    except KeyboardInterrupt:
        console.print("stopped")


def register(app: typer.Typer) -> None:
    app.add_typer(bot_app, name="bot")
