"""The toncenter API surface: finality, paging by lt, rate limit, API key, get methods, faults."""

from __future__ import annotations

import asyncio
import base64

from devtools.ton import cells
from tests.devtools.ton.conftest import TON, Ton


async def test_finality_delay_is_visible_in_the_transactions_api(ton: Ton) -> None:
    fan = await ton.client.create_wallet(balance=3 * TON)
    merchant = await ton.client.create_wallet()
    await ton.client.configure(finality_delay=3600)
    await ton.client.transfer(fan, merchant.address, TON, comment="inv-1")

    assert (await ton.transactions(merchant.address))["transactions"] == []
    pending = await ton.http.get(
        "/api/v3/pendingTransactions", params={"account": merchant.address}
    )
    [waiting] = pending.json()["transactions"]
    assert waiting["mc_block_seqno"] is None

    await ton.client.configure(list_unfinalized=True)  # a harsher view, for watcher tests
    [listed] = (await ton.transactions(merchant.address))["transactions"]
    assert listed["mc_block_seqno"] is None and listed["hash"] == waiting["hash"]

    await ton.client.configure(list_unfinalized=False)
    mc_seqno, final_seqno = await ton.client.produce_blocks(finalize=True)
    [final] = (await ton.transactions(merchant.address))["transactions"]
    assert final["hash"] == waiting["hash"]
    assert final["mc_block_seqno"] is not None and final["mc_block_seqno"] <= final_seqno
    info = (await ton.http.get("/api/v3/masterchainInfo")).json()
    assert info["last"]["seqno"] == final_seqno == mc_seqno


async def test_blocks_become_final_after_the_delay(ton: Ton) -> None:
    fan = await ton.client.create_wallet(balance=3 * TON)
    merchant = await ton.client.create_wallet()
    await ton.client.configure(block_interval=0.5, finality_delay=2.0)
    await ton.client.transfer(fan, merchant.address, TON)
    assert (await ton.transactions(merchant.address))["transactions"] == []
    for _ in range(300):  # final 2-2.5 s after the transfer; the bound only guards a hang
        if (await ton.transactions(merchant.address))["transactions"]:
            break
        await asyncio.sleep(0.05)
    [tx] = (await ton.transactions(merchant.address))["transactions"]
    assert isinstance(tx["mc_block_seqno"], int)


async def test_paging_by_lt_sees_every_transaction_once(ton: Ton) -> None:
    merchant = await ton.client.create_wallet()
    seeded = await ton.client.seed_transactions(merchant, count=25, comment_template="inv-{i}")
    assert seeded.count == 25 and seeded.first_lt is not None

    seen: list[str] = []
    cursor = 0
    while True:
        page = await ton.transactions(merchant.address, start_lt=cursor, sort="asc", limit=10)
        txs = page["transactions"]
        if not txs:
            break
        seen += [tx["in_msg"]["message_content"]["decoded"]["comment"] for tx in txs]
        cursor = int(txs[-1]["lt"]) + 1
    assert seen == [f"inv-{i}" for i in range(25)]

    newest = await ton.transactions(merchant.address, limit=3)  # desc is the default
    assert [int(t["lt"]) for t in newest["transactions"]] == sorted(
        (int(t["lt"]) for t in newest["transactions"]), reverse=True
    )
    assert newest["transactions"][0]["in_msg"]["message_content"]["decoded"]["comment"] == "inv-24"
    skipped = await ton.transactions(merchant.address, sort="asc", limit=5, offset=20)
    assert [
        t["in_msg"]["message_content"]["decoded"]["comment"] for t in skipped["transactions"]
    ] == [f"inv-{i}" for i in range(20, 25)]
    window = await ton.transactions(
        merchant.address, start_lt=seeded.first_lt, end_lt=seeded.first_lt, sort="asc"
    )
    assert len(window["transactions"]) == 1
    too_many = await ton.http.get(
        "/api/v3/transactions", params={"account": merchant.address, "limit": 1001}
    )
    assert too_many.status_code == 422 and "error" in too_many.json()


async def test_rate_limit_answers_429_in_toncenter_shape(ton: Ton) -> None:
    await ton.client.configure(rate_limit_rps=2, rate_limit_burst=2)
    wallet = await ton.client.create_wallet()  # the control API is never limited
    statuses = []
    for _ in range(4):
        response = await ton.http.get(
            "/api/v3/walletInformation", params={"address": wallet.address}
        )
        statuses.append(response.status_code)
    assert statuses[:2] == [200, 200] and 429 in statuses[2:]
    limited = await ton.http.post(
        "/api/v2/runGetMethod", json={"address": wallet.address, "method": "seqno"}
    )
    assert limited.status_code == 429
    assert limited.json() == {"ok": False, "error": "Ratelimit exceed", "code": 429}
    v3 = await ton.http.get("/api/v3/transactions", params={"account": wallet.address})
    assert v3.status_code == 429 and v3.json() == {"error": "Ratelimit exceed"}
    for _ in range(40):  # the bucket refills at 2 per second
        await asyncio.sleep(0.1)
        again = await ton.http.get("/api/v3/transactions", params={"account": wallet.address})
        if again.status_code == 200:
            break
    assert again.status_code == 200


async def test_api_key_is_checked_when_configured(ton: Ton) -> None:
    await ton.client.configure(api_key="k-123", rate_limit_rps=0)
    wallet = await ton.client.create_wallet()
    params = {"address": wallet.address}
    missing = await ton.http.get("/api/v2/getWalletInformation", params=params)
    assert missing.status_code == 401 and missing.json()["ok"] is False
    wrong = await ton.http.get(
        "/api/v3/walletInformation", params=params, headers={"X-API-Key": "no"}
    )
    assert wrong.status_code == 401 and "error" in wrong.json()
    header = await ton.http.get(
        "/api/v3/walletInformation", params=params, headers={"X-API-Key": "k-123"}
    )
    assert header.status_code == 200
    query = await ton.http.get("/api/v3/walletInformation", params={**params, "api_key": "k-123"})
    assert query.status_code == 200


async def test_get_methods_and_wallet_information(ton: Ton) -> None:
    wallet = await ton.client.create_wallet(balance=2 * TON)
    await ton.client.transfer(wallet, wallet.address, 1)
    result = await ton.run_get_method(wallet.address, "seqno")
    assert result["@type"] == "smc.runResult" and result["exit_code"] == 0
    assert result["stack"] == [["num", "0x1"]]
    key = await ton.run_get_method(wallet.bounceable, "get_public_key")
    assert int(key["stack"][0][1], 16) == int(wallet.public_key, 16)
    by_id = await ton.run_get_method(wallet.address, "85143")  # seqno's method id
    assert by_id["stack"] == [["num", "0x1"]]
    unknown = await ton.run_get_method(wallet.address, "get_nothing")
    assert unknown["exit_code"] == 11
    nobody = await ton.run_get_method("0:" + "ab" * 32, "seqno")
    assert nobody["exit_code"] == -13 and nobody["stack"] == []

    v3 = await ton.http.post(
        "/api/v3/runGetMethod", json={"address": wallet.address, "method": "get_public_key"}
    )
    assert v3.json()["stack"] == [{"type": "num", "value": hex(int(wallet.public_key, 16))}]

    v2 = (
        await ton.http.get("/api/v2/getWalletInformation", params={"address": wallet.address})
    ).json()
    assert v2["ok"] and v2["result"]["wallet"] is True
    assert v2["result"]["wallet_type"] == "wallet v4 r2" and v2["result"]["seqno"] == 1
    assert v2["result"]["account_state"] == "active"
    v3_info = (
        await ton.http.get("/api/v3/walletInformation", params={"address": wallet.address})
    ).json()
    assert v3_info["status"] == "active" and v3_info["seqno"] == 1
    assert int(v3_info["balance"]) < 2 * TON
    empty = (
        await ton.http.get("/api/v3/walletInformation", params={"address": "0:" + "cd" * 32})
    ).json()
    assert empty == {
        "balance": "0",
        "last_transaction_lt": "0",
        "last_transaction_hash": base64.b64encode(bytes(32)).decode(),
        "status": "uninit",
    }
    bad = await ton.http.get("/api/v2/getWalletInformation", params={"address": "nope"})
    assert bad.status_code == 416 and bad.json()["ok"] is False


async def test_injected_faults_simulate_a_crash_between_send_and_confirm(ton: Ton) -> None:
    fan = await ton.client.create_wallet(balance=5 * TON)
    merchant = await ton.client.create_wallet()
    boc = await ton.client.sign_transfer(fan, merchant.address, TON, comment="payout-1")

    await ton.client.inject_fault("apply_then_fail")
    failed = await ton.http.post("/api/v3/message", json={"boc": boc})
    assert failed.status_code == 504
    assert await ton.seqno(fan.address) == 1  # it WAS applied: re-sending would be a mistake
    message_hash = cells.b64(cells.parse_boc(boc).hash)
    found = await ton.http.get(
        "/api/v3/transactionsByMessage", params={"msg_hash": message_hash, "direction": "in"}
    )
    [tx] = found.json()["transactions"]
    assert tx["out_msgs"][0]["message_content"]["decoded"]["comment"] == "payout-1"

    lost = await ton.client.sign_transfer(fan, merchant.address, TON, comment="payout-2")
    await ton.client.inject_fault("lose")
    accepted = await ton.http.post("/api/v3/message", json={"boc": lost})
    assert accepted.status_code == 200 and accepted.json()["message_hash"]
    assert await ton.seqno(fan.address) == 1  # answered OK, never applied

    await ton.client.inject_fault("reject")
    refused = await ton.send_boc(lost)
    assert refused.status_code == 500 and await ton.seqno(fan.address) == 1
    sent = await ton.send_boc(lost)  # no fault left: it lands
    assert sent.status_code == 200 and await ton.seqno(fan.address) == 2


async def test_v3_message_returns_the_hashes_toncenter_returns(ton: Ton) -> None:
    fan = await ton.client.create_wallet(balance=5 * TON)
    boc = await ton.client.sign_transfer(fan, fan.address, 1)
    response = await ton.http.post("/api/v3/message", json={"boc": boc})
    message = cells.parse_boc(boc)
    assert response.json() == {
        "message_hash": cells.b64(message.hash),
        "message_hash_norm": cells.b64(cells.normalized_external_hash(message)),
    }
    v2 = await ton.client.sign_transfer(fan, fan.address, 1)
    returned = await ton.http.post("/api/v2/sendBocReturnHash", json={"boc": v2})
    assert returned.json()["result"]["hash"] == cells.b64(cells.parse_boc(v2).hash)


async def test_browser_dapps_may_call_the_bridge_from_their_own_origin(ton: Ton) -> None:
    """A Mini App's TON Connect UI posts to the bridge, reads its events and the wallets list
    cross-origin: like the public bridges, the stand-in answers with CORS headers."""
    origin = {"Origin": "http://127.0.0.1:9"}
    listed = await ton.http.get("/tonconnect/wallets-v2.json", headers=origin)
    assert listed.headers["access-control-allow-origin"] == "*"
    sent = await ton.http.post(
        "/bridge/message",
        params={"client_id": "ab" * 32, "to": "cd" * 32, "ttl": "60", "topic": "connect"},
        content="aGVsbG8=",
        headers={**origin, "Content-Type": "text/plain;charset=UTF-8"},
    )
    assert sent.status_code == 200, sent.text
    assert sent.headers["access-control-allow-origin"] == "*"
    preflight = await ton.http.options(
        "/bridge/message",
        headers={**origin, "Access-Control-Request-Method": "POST"},
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
