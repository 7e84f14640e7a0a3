"""``atelier emulator``: the Telegram Bot API emulator and its chat page, standalone."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.output import console, fail


def register(app: typer.Typer) -> None:
    app.command("emulator")(emulator)


def emulator(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8081,
    bot_token: Annotated[
        list[str] | None,
        typer.Option(
            "--bot-token",
            help="Register a bot with this fixed token at start (repeatable), "
            "so a configured TELEGRAM token keeps working across restarts.",
        ),
    ] = None,
) -> None:
    """Serve the Telegram Bot API emulator: point bots at http://HOST:PORT, chat at /."""
    import uvicorn

    from devtools.telegram.app import create_app

    app = create_app()
    state = app.state.emulator.state
    for number, token in enumerate(bot_token or [], start=1):
        bot_id, _, secret = token.partition(":")
        if not bot_id.isdigit() or len(secret) < 20:
            fail(f"not a bot token: {token!r}", hint="expected <digits>:<at least 20 characters>")
        state.create_bot(
            f"local{number}_bot", f"Local Bot {number}", token=token, bot_id=int(bot_id)
        )
    console.print(
        f"Telegram emulator on [bold]http://{host}:{port}[/] — Bot API base for aiogram: "
        f"TelegramAPIServer.from_base('http://{host}:{port}'); chat page at /",
        highlight=False,
    )
    try:
        uvicorn.run(app, host=host, port=port, log_level="info")
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
