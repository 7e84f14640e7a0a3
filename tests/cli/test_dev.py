"""``atelier dev`` as a newcomer runs it: one process, no servers installed, a bot to talk to."""

import asyncio
import os
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import httpx

from core.settings import TonNetwork
from core.ton.platform import PlatformWallet
from devtools.telegram.client import EmulatorClient, TranscriptEntry
from tests.cli.test_commands import ATELIER


async def _next_from_bot(
    emulator: EmulatorClient,
    token: str,
    chat_id: int,
    matches: Callable[[TranscriptEntry], bool],
    within: float = 15,
) -> TranscriptEntry:
    for _ in range(int(within / 0.1)):
        found = [
            m for m in await emulator.transcript(token, chat_id, from_bot_only=True) if matches(m)
        ]
        if found:
            return found[-1]
        await asyncio.sleep(0.1)
    raise AssertionError("the demo bot did not send the expected message")


def _offers_packs(message: TranscriptEntry) -> bool:
    return any(str(b.get("callback_data", "")).startswith("buy:") for b in message.buttons)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _wait_ready(url: str, process: asyncio.subprocess.Process) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        for _ in range(600):
            if process.returncode is not None:
                raise AssertionError("atelier dev exited during start-up")
            try:
                response = await client.get(url)
                if response.status_code == 200:
                    return response
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never became ready")


async def test_dev_serves_api_emulator_and_a_demo_bot(tmp_path: Path) -> None:
    api_port, emulator_port = _free_port(), _free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("ATELIER_")  # embedded defaults only, as on a fresh machine
    }
    process = await asyncio.create_subprocess_exec(
        *ATELIER,
        "dev",
        "--port",
        str(api_port),
        "--emulator-port",
        str(emulator_port),
        "--data-dir",
        str(tmp_path / "dev"),
        env=env,
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        ready = await _wait_ready(f"http://127.0.0.1:{api_port}/readyz", process)
        assert ready.json()["checks"] == {"database": "ok", "redis": "ok"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{emulator_port}") as client:
            page = await client.get("/")
            assert page.status_code == 200 and "<html" in page.text.lower()
            chain = await client.get("/ton/api/v3/masterchainInfo")  # the TON stand-in
            assert chain.status_code == 200 and chain.json()["last"]["seqno"] > 0
            assert "TON test wallet" in (await client.get("/ton/wallet")).text
            token = (tmp_path / "dev" / "demo_bot_token").read_text().strip()
            for _ in range(100):  # the demo tenant is registered right after the servers start
                me = (await client.get(f"/bot{token}/getMe")).json()
                if me.get("ok"):
                    break
                await asyncio.sleep(0.1)
            assert me["result"]["username"] == "atelier_demo_bot"
            # The platform wallet (takes TON payments, pays creators) is live on the chain.
            words = (tmp_path / "dev" / "ton_platform_mnemonic").read_text().split()
            platform = PlatformWallet.from_mnemonic(words, TonNetwork.MAINNET)
            wallet: dict[str, object] = {}
            for _ in range(100):
                found = await client.get(
                    "/ton/api/v3/walletInformation", params={"address": platform.address.raw}
                )
                wallet = found.json()
                if wallet.get("status") == "active":
                    break
                await asyncio.sleep(0.1)
            assert wallet["status"] == "active" and int(str(wallet["balance"])) > 0
        async with EmulatorClient(f"http://127.0.0.1:{emulator_port}") as emulator:
            fan = await emulator.create_user("Newcomer", language_code="en")
            await emulator.start(token, fan)
            reply = None
            for _ in range(100):
                replies = await emulator.transcript(token, fan.id, from_bot_only=True)
                if replies:
                    reply = replies[0]
                    break
                await asyncio.sleep(0.1)
            assert reply is not None, "the demo bot never answered /start"
            assert reply.text and "Atelier Demo" in reply.text

            # A newcomer's first purchase and first picture, all offline.
            await emulator.send_command(token, fan, "buy")
            packs = await _next_from_bot(emulator, token, fan.id, _offers_packs)
            await emulator.press_button(
                token, fan, packs.message_id, packs.buttons[0]["callback_data"]
            )
            invoice = await _next_from_bot(
                emulator, token, fan.id, lambda m: "invoice" in m.message
            )
            paid = await emulator.pay_invoice(token, fan, message_id=invoice.message_id)
            assert paid.status == "paid"
            await emulator.send_command(token, fan, "image", "a red fox in the snow")
            photo = await _next_from_bot(
                emulator, token, fan.id, lambda m: "photo" in m.message, within=60
            )
            assert photo.message["photo"][0]["file_id"]
        assert (tmp_path / "dev" / "atelier.db").exists()
    finally:
        process.send_signal(signal.SIGINT)
        try:
            output, _ = await asyncio.wait_for(process.communicate(), timeout=20)
        except TimeoutError:
            process.kill()
            output, _ = await process.communicate()
    text = output.decode()
    assert "Atelier is running" in text, text
    assert f"http://127.0.0.1:{emulator_port}/" in text
    assert f"http://127.0.0.1:{emulator_port}/ton" in text
    assert "Traceback" not in text, text
