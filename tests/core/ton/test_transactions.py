"""Reading toncenter v3 transactions, and the rule that decides whether an incoming transfer
left its value with us — the only thing a TON payment is ever credited from."""

from __future__ import annotations

from typing import Any

import pytest

from core.ton.address import parse_address
from core.ton.transactions import (
    Verdict,
    incoming_transfer,
    parse_transaction,
    parse_transactions,
)
from tests.core.ton import v3_samples as v3


def _verdict(**kwargs: Any) -> Verdict:
    transfer = incoming_transfer(parse_transaction(v3.transaction(47_000_000_000_010, **kwargs)))
    assert transfer is not None
    return transfer.verdict


def test_an_incoming_transfer_reads_as_toncenter_sends_it() -> None:
    [tx] = parse_transactions(v3.page(v3.transaction(47_000_000_000_010, amount=1_500_000_000)))
    assert tx.is_final and tx.lt == 47_000_000_000_010
    assert tx.account == parse_address(v3.MERCHANT)
    assert len(tx.hash_hex) == 64 and tx.hash_hex == tx.hash_hex.lower()
    transfer = incoming_transfer(tx)
    assert transfer is not None
    assert transfer.amount == 1_500_000_000
    assert transfer.source == parse_address(v3.FAN)
    assert transfer.comment == "atl-abc"
    assert transfer.verdict is Verdict.OK


def test_the_comment_is_decoded_from_the_body_when_toncenter_did_not() -> None:
    tx = parse_transaction(v3.transaction(47_000_000_000_011, comment="atl-xyz", decoded=False))
    transfer = incoming_transfer(tx)
    assert transfer is not None and transfer.comment == "atl-xyz"
    no_comment = incoming_transfer(
        parse_transaction(v3.transaction(47_000_000_000_012, comment=None))
    )
    assert no_comment is not None and no_comment.comment is None


def test_not_final_until_a_masterchain_block_has_it() -> None:
    assert not parse_transaction(v3.transaction(47_000_000_000_013, final=False)).is_final


@pytest.mark.parametrize(
    ("kwargs", "verdict"),
    [
        ({}, Verdict.OK),
        ({"in_bounced": True}, Verdict.BOUNCED),
        ({"bounce_phase": True}, Verdict.BOUNCED_BACK),
        (
            {
                "out_msgs": [
                    v3.message(
                        source=v3.MERCHANT, destination=v3.FAN, value=999, bounced=True, seed="b"
                    )
                ]
            },
            Verdict.BOUNCED_BACK,
        ),
        ({"aborted": True}, Verdict.FAILED),
        ({"compute": {"skipped": False, "success": False, "exit_code": 33}}, Verdict.FAILED),
        # An account without code keeps a non-bounceable transfer: the value is there.
        ({"aborted": True, "compute": {"skipped": True, "reason": "no_state"}}, Verdict.OK),
        ({"aborted": True, "compute": {"skipped": True, "reason": "no_gas"}}, Verdict.FAILED),
    ],
)
def test_what_the_value_did(kwargs: dict[str, object], verdict: Verdict) -> None:
    assert _verdict(**kwargs) is verdict


def test_an_external_message_is_not_an_incoming_transfer() -> None:
    tx = parse_transaction(v3.transaction(47_000_000_000_014, external=True))
    assert tx.in_msg is not None and tx.in_msg.source is None
    assert incoming_transfer(tx) is None


@pytest.mark.parametrize(
    "broken",
    [
        {"transactions": [{"hash": "x"}]},
        {"transactions": "nope"},
        [],
        {"transactions": [v3.transaction(1) | {"account": "not an address"}]},
    ],
)
def test_malformed_answers_are_refused(broken: object) -> None:
    with pytest.raises((ValueError, KeyError)):
        parse_transactions(broken)
