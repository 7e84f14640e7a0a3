"""``atelier ton-devnet``: the toncenter-compatible stand-in, TON Connect bridge and test wallet."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.output import console, fail


def register(app: typer.Typer) -> None:
    app.command("ton-devnet")(ton_devnet)


def ton_devnet(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8082,
    network: Annotated[str, typer.Option(help="mainnet or testnet (address forms).")] = "mainnet",
    api_key: Annotated[
        str | None, typer.Option(help="Require this X-API-Key on /api routes.")
    ] = None,
    rate_limit: Annotated[
        float | None, typer.Option(help="Requests per second per caller before 429.")
    ] = None,
    block_interval: Annotated[
        float, typer.Option(help="Seconds between masterchain blocks (0: one per message).")
    ] = 0.0,
    finality_delay: Annotated[
        float, typer.Option(help="Seconds from a block to its finality.")
    ] = 0.0,
) -> None:
    """Serve the TON stand-in: toncenter API at /api, bridge at /bridge, wallet page at /wallet."""
    import uvicorn

    from devtools.ton.app import create_app
    from devtools.ton.config import TonSettings

    if network not in ("mainnet", "testnet"):
        fail(f"unknown network {network!r}", hint="use mainnet or testnet")
    settings = TonSettings(
        network=network,
        api_key=api_key,
        rate_limit_rps=rate_limit,
        block_interval=block_interval,
        finality_delay=finality_delay,
    )
    base = f"http://{host}:{port}"
    console.print(
        f"TON stand-in on [bold]{base}[/] — ATELIER_TON_API_BASE={base}; "
        f"TON Connect bridge {base}/bridge; wallet page {base}/wallet; control API {base}/_ton",
        highlight=False,
        soft_wrap=True,
    )
    try:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
    except OSError as exc:
        fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
