"""TON Connect end to end: pytonconnect ⇄ our bridge ⇄ the test wallet ⇄ the chain."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
import urllib.parse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from httpx_sse import aconnect_sse
from nacl.signing import VerifyKey
from pytonconnect import TonConnect
from pytonconnect._wallets_list_manager import WalletsListManager
from pytonconnect.crypto import SessionCrypto
from pytonconnect.exceptions import UserRejectsError
from pytonconnect.storage import DefaultStorage
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit
from pytoniq_core.tlb.transaction import MessageAny

from devtools.ton import TonSettings, cells
from devtools.ton.tonconnect import parse_universal_link
from tests.devtools.ton.conftest import TON, Ton


@pytest.fixture
def ton_settings() -> TonSettings:
    return TonSettings(bridge_heartbeat=0.2)


@asynccontextmanager
async def dapp(ton: Ton) -> AsyncIterator[TonConnect]:
    """pytonconnect as a backend uses it, pointed at the stand-in's bridge (no list fetch)."""
    connector = TonConnect(manifest_url=ton.client.demo_manifest_url, storage=DefaultStorage())
    try:
        yield connector
    finally:
        connector.pause_connection()  # close its SSE before the server goes away


def verify_proof(account: Any, proof: Any, expected_domain: str, payload: str) -> None:
    """Check a ton_proof from first principles, as the TON Connect spec defines it."""
    init = StateInit.deserialize(
        Cell.one_from_boc(base64.b64decode(account.wallet_state_init)).begin_parse()
    )
    workchain, hash_hex = account.address.split(":")
    assert init.serialize().hash.hex() == hash_hex  # the state_init is this address
    data = init.data.begin_parse()
    data.skip_bits(64)  # v4R2: seqno, subwallet id
    public_key = data.load_bytes(32)
    assert public_key.hex() == account.public_key
    assert proof.domain_val == expected_domain and proof.domain_len == len(expected_domain)
    assert proof.payload == payload and abs(time.time() - proof.timestamp) < 60
    message = (
        b"ton-proof-item-v2/"
        + int(workchain).to_bytes(4, "big", signed=True)
        + bytes.fromhex(hash_hex)
        + proof.domain_len.to_bytes(4, "little")
        + proof.domain_val.encode()
        + proof.timestamp.to_bytes(8, "little")
        + proof.payload.encode()
    )
    digest = hashlib.sha256(b"\xff\xffton-connect" + hashlib.sha256(message).digest()).digest()
    VerifyKey(public_key).verify(digest, proof.signature)  # raises if forged


async def test_pytonconnect_round_trip_with_proof_and_payment(ton: Ton) -> None:
    fan = await ton.client.create_wallet(balance=10 * TON, label="fan")
    merchant = await ton.client.create_wallet(label="merchant")
    payload = secrets.token_hex(16)
    async with dapp(ton) as connector:
        link = await connector.connect(ton.client.pytonconnect_wallet(), {"ton_proof": payload})
        connected = connector.wait_for_connection()
        result = await ton.client.connect(fan, link)
        wallet = await asyncio.wait_for(connected, 10)

        host = urllib.parse.urlsplit(ton.base_url).netloc
        assert result.session_id and result.domain == host
        assert wallet.account.address == fan.address
        assert wallet.account.chain == "-239"
        verify_proof(wallet.account, wallet.ton_proof, host, payload)

        sending = asyncio.create_task(
            connector.send_transaction(
                {
                    "valid_until": int(time.time()) + 300,
                    "messages": [
                        {
                            "address": merchant.non_bounceable,
                            "amount": str(2 * TON),
                            "payload": cells.comment_boc_b64("inv-777"),
                        }
                    ],
                }
            )
        )
        [request] = await ton.client.pending_requests(fan, wait=10)
        assert request.domain == host
        assert request.messages[0]["comment"] == "inv-777"
        assert (
            request.messages[0]["amount"] == str(2 * TON) and request.messages[0]["bounce"] is False
        )
        approved = await ton.client.approve(request.id)
        answer = await asyncio.wait_for(sending, 10)

    assert answer["boc"] == approved["boc"]
    external = MessageAny.deserialize(cells.parse_boc(answer["boc"]).begin_parse())
    assert external.is_external and cells.to_raw(external.info.dest) == cells.to_raw(
        cells.parse_address(fan.address)
    )
    [paid] = (await ton.transactions(merchant.address))["transactions"]
    assert paid["in_msg"]["value"] == str(2 * TON)
    assert paid["in_msg"]["message_content"]["decoded"]["comment"] == "inv-777"
    assert paid["in_msg"]["source"] == cells.to_raw(cells.parse_address(fan.address))


async def test_rejected_transaction_raises_in_pytonconnect(ton: Ton) -> None:
    fan = await ton.client.create_wallet(balance=10 * TON)
    async with dapp(ton) as connector:
        link = await connector.connect(ton.client.pytonconnect_wallet())
        connected = connector.wait_for_connection()
        await ton.client.connect(fan, link, domain="shop.example")
        await asyncio.wait_for(connected, 10)
        await ton.client.set_policy(fan, "reject")
        message = {"address": fan.address, "amount": "1"}
        with pytest.raises(UserRejectsError):
            await asyncio.wait_for(connector.send_transaction({"messages": [message]}), 10)
    assert (await ton.client.account(fan)).seqno == 0  # nothing was signed


async def test_auto_approve_and_disconnect(ton: Ton) -> None:
    fan = await ton.client.create_wallet(balance=10 * TON)
    await ton.client.set_policy(fan, "approve")
    async with dapp(ton) as connector:
        link = await connector.connect(ton.client.pytonconnect_wallet())
        connected = connector.wait_for_connection()
        result = await ton.client.connect(fan, link, domain="shop.example")
        await asyncio.wait_for(connected, 10)
        message = {"address": fan.address, "amount": "5"}
        sent = await asyncio.wait_for(connector.send_transaction({"messages": [message]}), 10)
        assert cells.parse_boc(sent["boc"])
        assert (await ton.client.account(fan)).seqno == 1

        changes: asyncio.Queue[Any] = asyncio.Queue()
        connector.on_status_change(changes.put_nowait)
        assert result.session_id is not None
        await ton.client.disconnect(result.session_id)
        assert await asyncio.wait_for(changes.get(), 10) is None  # the wallet said goodbye
        assert not connector.connected
    assert (await ton.client.state())["sessions"] == []


# ---------------------------------------------------------------------- the bridge itself


async def _events(ton: Ton, client_id: str, want: int, last: int | None = None) -> list[Any]:
    params = {"client_id": client_id} | ({"last_event_id": str(last)} if last else {})
    seen: list[Any] = []
    async with (
        httpx.AsyncClient(base_url=ton.base_url, timeout=10) as http,
        aconnect_sse(http, "GET", "/bridge/events", params=params) as source,
    ):
        async for event in source.aiter_sse():
            seen.append(event)
            if len([e for e in seen if e.event == "message"]) >= want:
                break
    return seen


async def test_bridge_delivers_replays_and_beats(ton: Ton) -> None:
    app, wallet = SessionCrypto(), SessionCrypto()
    for text in ("one", "two"):
        sealed = app.encrypt(text, wallet.session_id).decode()
        posted = await ton.http.post(
            "/bridge/message",
            params={"client_id": app.session_id, "to": wallet.session_id, "ttl": 300, "topic": "x"},
            content=sealed,
        )
        assert posted.json() == {"message": "OK", "statusCode": 200}

    events = await _events(ton, wallet.session_id, want=2)
    messages = [e for e in events if e.event == "message"]
    bodies = [json.loads(e.data) for e in messages]
    assert [b["from"] for b in bodies] == [app.session_id] * 2
    assert [wallet.decrypt(b["message"], app.session_id) for b in bodies] == ["one", "two"]

    replay = await _events(ton, wallet.session_id, want=1, last=int(messages[0].id))
    assert wallet.decrypt(json.loads(replay[-1].data)["message"], app.session_id) == "two"

    async with (
        httpx.AsyncClient(base_url=ton.base_url, timeout=10) as http,
        aconnect_sse(http, "GET", "/bridge/events", params={"client_id": app.session_id}) as source,
    ):
        first = await asyncio.wait_for(anext(source.aiter_sse()), 5)
    assert first.event == "heartbeat"

    too_long = await ton.http.post(
        "/bridge/message",
        params={"client_id": app.session_id, "to": wallet.session_id, "ttl": 100000},
        content="aGk=",
    )
    assert too_long.status_code == 400 and too_long.json()["statusCode"] == 400
    bad_id = await ton.http.get("/bridge/events", params={"client_id": "not-hex"})
    assert bad_id.status_code == 400


async def test_declined_connect_and_missing_manifest_answer_connect_error(ton: Ton) -> None:
    fan = await ton.client.create_wallet()
    app = SessionCrypto()
    request = {"manifestUrl": ton.client.demo_manifest_url, "items": [{"name": "ton_addr"}]}
    link = f"tc://?v=2&id={app.session_id}&r={urllib.parse.quote(json.dumps(request))}"
    declined = await ton.client.connect(fan, link, reject=True)
    assert declined.session_id is None

    missing = {"manifestUrl": f"{ton.base_url}/no-such-manifest.json", "items": []}
    link = f"tc://?v=2&id={app.session_id}&r={urllib.parse.quote(json.dumps(missing))}"
    assert (await ton.client.connect(fan, link)).session_id is None

    events = await _events(ton, app.session_id, want=2)
    payloads = [
        json.loads(app.decrypt(json.loads(e.data)["message"], json.loads(e.data)["from"]))
        for e in events
        if e.event == "message"
    ]
    assert [p["event"] for p in payloads] == ["connect_error", "connect_error"]
    assert [p["payload"]["code"] for p in payloads] == [300, 2]


def test_universal_links_in_every_form() -> None:
    app = SessionCrypto()
    request = {"manifestUrl": "https://shop.example/m.json", "items": [{"name": "ton_addr"}]}
    quoted = urllib.parse.quote_plus(json.dumps(request, separators=(",", ":"))).replace("+", "")
    plain = f"v=2&id={app.session_id}&r={quoted}"
    telegram = plain
    for old, new in (
        (".", "%2E"),
        ("-", "%2D"),
        ("_", "%5F"),
        ("&", "-"),
        ("=", "__"),
        ("%", "--"),
    ):
        telegram = telegram.replace(old, new)
    for link in (
        f"tc://?{plain}",
        f"https://wallet.example/ton-connect?{plain}&ret=back",
        f"https://t.me/wallet?attach=wallet&startattach=tonconnect-{telegram}",
    ):
        parsed = parse_universal_link(link)
        assert parsed.client_id == app.session_id and parsed.request == request


async def test_wallet_list_and_page_are_served(ton: Ton) -> None:
    listed = (await ton.http.get("/tonconnect/wallets-v2.json")).json()
    config = WalletsListManager()._get_supported_wallet_config(listed[0])
    assert config["bridge_url"] == ton.client.bridge_url
    page = await ton.http.get("/wallet")
    assert page.status_code == 200 and "TON test wallet" in page.text
    manifest = (await ton.http.get("/tonconnect/manifest.json")).json()
    icon = await ton.http.get(urllib.parse.urlsplit(manifest["iconUrl"]).path)
    assert icon.headers["content-type"] == "image/png"
