"""Transfers over the toncenter API: real signatures, seqno, comments, bounces, send modes."""

from __future__ import annotations

import base64
import time

import pytest
from pytoniq_core.boc.address import Address
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.transaction import MessageAny

from devtools.ton import cells
from devtools.ton.wallets import TestWallet, Transfer, WalletVersion
from tests.devtools.ton.conftest import TON, Ton, local_wallet


def _boc(message: Cell) -> str:
    return base64.b64encode(cells.to_boc(message)).decode()


async def _signed(
    ton: Ton,
    wallet: TestWallet,
    to: str,
    amount: int,
    *,
    comment: str | None = None,
    valid_until: int | None = None,
) -> str:
    """What a product signer does: read the seqno, sign, serialise."""
    seqno = await ton.seqno(wallet.raw_address)
    body = cells.comment_body(comment) if comment is not None else None
    transfer = Transfer(cells.parse_address(to), amount, bounce=False, body=body)
    valid_until = valid_until if valid_until is not None else int(time.time()) + 60
    return _boc(wallet.external_message(seqno, [transfer], valid_until=valid_until))


@pytest.mark.parametrize("version", ["v4r2", "v3r2", "v5r1"])
async def test_signed_transfer_is_applied_once(ton: Ton, version: str) -> None:
    sender = await ton.client.create_wallet(version, balance=5 * TON)
    receiver = await ton.client.create_wallet()
    boc = await _signed(ton, local_wallet(sender), receiver.non_bounceable, TON, comment="hi")

    response = await ton.send_boc(boc)
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True and response.json()["result"]["@type"] == "ok"
    assert (await ton.client.account(receiver)).balance > 0.999 * TON
    assert await ton.seqno(sender.address) == 1
    spent = 5 * TON - (await ton.client.account(sender)).balance
    assert TON < spent < TON + 10_000_000  # the value plus gas, import and forwarding fees

    again = await ton.send_boc(boc)  # a replay: seqno no longer matches
    assert again.status_code == 500
    seqno_code = {"v3r2": 33, "v4r2": 33, "v5r1": 133}[version]  # the contracts' throw codes
    assert again.json()["ok"] is False and f"exitcode={seqno_code}," in again.json()["error"]
    assert await ton.seqno(sender.address) == 1


async def test_forged_signature_and_wrong_seqno_are_rejected(ton: Ton) -> None:
    owner = await ton.client.create_wallet(balance=5 * TON)
    receiver = await ton.client.create_wallet()
    thief = TestWallet.from_seed(None, WalletVersion.V4R2, wallet_id=owner.wallet_id)
    forged = thief.external_message(
        0, [Transfer(cells.parse_address(receiver.address), TON)], valid_until=int(time.time()) + 60
    )
    # Addressed to the owner's wallet, signed with the thief's key.
    parsed = MessageAny.deserialize(forged.begin_parse())
    forged = cells.external_message(cells.parse_address(owner.address), parsed.body)

    refused = await ton.send_boc(_boc(forged))
    assert refused.status_code == 500
    assert "exitcode=35" in refused.json()["error"]

    wrong_seqno = local_wallet(owner).external_message(
        7, [Transfer(cells.parse_address(receiver.address), TON)]
    )
    refused = await ton.send_boc(_boc(wrong_seqno))
    assert "exitcode=33" in refused.json()["error"]

    expired = await _signed(
        ton, local_wallet(owner), receiver.address, TON, valid_until=int(time.time()) - 1
    )
    refused = await ton.send_boc(expired)
    assert "exitcode=36" in refused.json()["error"]

    assert (await ton.client.account(owner)).balance == 5 * TON
    assert (await ton.transactions(owner.address))["transactions"] == []
    garbage = await ton.send_boc("dGhpcyBpcyBub3QgYSBib2M=")
    assert garbage.status_code == 400 and garbage.json()["ok"] is False


async def test_comment_round_trips_through_the_transactions_api(ton: Ton) -> None:
    fan = await ton.client.create_wallet(balance=3 * TON)
    merchant = await ton.client.create_wallet()
    comment = "inv-42 ✓ Atelier"
    sent = await ton.client.transfer(fan, merchant.non_bounceable, 2 * TON, comment=comment)

    page = await ton.transactions(merchant.address, sort="asc")
    [tx] = page["transactions"]
    message = tx["in_msg"]
    assert tx["account"] == cells.to_raw(cells.parse_address(merchant.address))
    assert message["source"] == cells.to_raw(cells.parse_address(fan.address))
    assert message["value"] == str(2 * TON) and message["bounce"] is False
    assert message["bounced"] is False and message["opcode"] == "0x00000000"
    assert message["message_content"]["decoded"] == {"type": "text_comment", "comment": comment}
    body = cells.parse_boc(message["message_content"]["body"])
    assert cells.decode_comment(body) == comment
    assert tx["description"]["aborted"] is False
    assert tx["description"]["compute_ph"]["success"] is True
    assert isinstance(tx["mc_block_seqno"], int)
    assert page["address_book"][tx["account"]]["user_friendly"] == merchant.non_bounceable

    [out] = (await ton.transactions(fan.address))["transactions"][0]["out_msgs"]
    assert out["hash"] == message["hash"]  # the same message on both sides
    assert (await ton.transactions(fan.address))["transactions"][0]["in_msg"]["hash"] == (
        sent.message_hash
    )


async def test_bounceable_message_to_nowhere_comes_back(ton: Ton) -> None:
    fan = await ton.client.create_wallet(balance=3 * TON)
    nowhere = Address((0, bytes(range(32))))
    await ton.client.transfer(fan, nowhere.to_str(is_bounceable=True), TON, comment="lost?")

    [landing] = (await ton.transactions(nowhere.to_str()))["transactions"]
    assert landing["description"]["aborted"] is True
    assert landing["description"]["compute_ph"] == {"skipped": True, "reason": "no_state"}
    assert landing["description"]["bounce"]["type"] == "ok"
    assert landing["in_msg"]["bounce"] is True
    assert landing["end_status"] == "nonexist"
    [back] = landing["out_msgs"]
    assert back["bounced"] is True and back["bounce"] is False
    assert back["opcode"] == "0xffffffff"

    fan_txs = (await ton.transactions(fan.address, sort="asc"))["transactions"]
    assert [t["in_msg"]["bounced"] for t in fan_txs] == [None, True]
    returned = int(fan_txs[1]["in_msg"]["value"])
    assert 0.99 * TON < returned < TON
    assert (await ton.client.account(nowhere.to_str())).balance == 0


async def test_non_bounceable_message_to_nowhere_stays(ton: Ton) -> None:
    fan = await ton.client.create_wallet(balance=3 * TON)
    fresh = await ton.client.create_wallet("v5r1", deployed=False)
    assert fresh.status == "nonexist"
    await ton.client.transfer(fan, fresh.non_bounceable, TON)

    [landing] = (await ton.transactions(fresh.address))["transactions"]
    assert landing["description"]["aborted"] is True and "bounce" not in landing["description"]
    assert (landing["orig_status"], landing["end_status"]) == ("nonexist", "uninit")
    account = await ton.client.account(fresh)
    assert (account.status, account.balance) == ("uninit", TON)

    # Its first transfer carries the state_init and deploys it.
    await ton.client.transfer(fresh, fan.non_bounceable, TON // 2)
    account = await ton.client.account(fresh)
    assert account.status == "active" and account.seqno == 1
    deploy = (await ton.transactions(fresh.address))["transactions"][0]
    assert deploy["description"]["compute_ph"]["account_activated"] is True
    assert deploy["in_msg"]["init_state"] is not None


async def test_send_mode_without_ignore_errors_aborts_and_keeps_the_seqno(ton: Ton) -> None:
    fan = await ton.client.create_wallet(balance=TON)
    merchant = await ton.client.create_wallet()
    result = await ton.client.transfer(fan, merchant.address, 5 * TON, send_mode=1)
    assert result.aborted is True
    [tx] = (await ton.transactions(fan.address))["transactions"]
    assert tx["description"]["action"]["no_funds"] is True
    assert tx["description"]["action"]["result_code"] == 37
    assert tx["out_msgs"] == []
    assert await ton.seqno(fan.address) == 0  # rolled back: the same message could be replayed
    assert (await ton.client.account(fan)).balance < TON  # but the gas was paid

    skipped = await ton.client.transfer(fan, merchant.address, 5 * TON, send_mode=3)
    assert skipped.aborted is False and await ton.seqno(fan.address) == 1
    assert (await ton.client.account(merchant)).transactions == 0


async def test_mode_128_sends_everything(ton: Ton) -> None:
    fan = await ton.client.create_wallet(balance=2 * TON)
    merchant = await ton.client.create_wallet()
    await ton.client.transfer(fan, merchant.address, 0, send_mode=128)
    assert (await ton.client.account(fan)).balance == 0
    assert 1.99 * TON < (await ton.client.account(merchant)).balance < 2 * TON
