"""``atelier ton-devnet`` as a person runs it: a real process serving the stand-in."""

from __future__ import annotations

import asyncio
import os
import signal
import socket

import httpx

from devtools.ton import TonClient
from tests.cli.test_commands import ATELIER


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_ton_devnet_serves_the_api_with_its_key() -> None:
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        *ATELIER, "ton-devnet", "--port", str(port), "--api-key", "devkey", "--network", "testnet",
        env={**os.environ, "COLUMNS": "200"},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=5) as http:
            for _ in range(300):
                if process.returncode is not None:
                    raise AssertionError("atelier ton-devnet exited during start-up")
                try:
                    ready = await http.get(
                        "/api/v3/masterchainInfo", headers={"X-API-Key": "devkey"}
                    )
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            assert ready.status_code == 200 and ready.json()["last"]["seqno"] > 0
            assert (await http.get("/api/v3/masterchainInfo")).status_code == 401
        async with TonClient(base) as ton:
            wallet = await ton.create_wallet()
            assert wallet.non_bounceable.startswith("0Q")  # testnet, non-bounceable
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
    text = output.decode()
    assert f"ATELIER_TON_API_BASE={base}" in text and "Traceback" not in text
