"""What a wallet is asked to send for an invoice, and the platform wallet's signed payouts,
read back with pytoniq-core's own parsers and pynacl — independently of how we built them."""

from __future__ import annotations

import base64
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from nacl.exceptions import BadSignatureError
from nacl.signing import VerifyKey
from pytoniq_core.boc.cell import Cell
from pytoniq_core.crypto.keys import mnemonic_new, mnemonic_to_private_key
from pytoniq_core.tlb.account import StateInit
from pytoniq_core.tlb.custom.wallet import WalletV4Data
from pytoniq_core.tlb.transaction import MessageAny

from core.settings import TonNetwork
from core.ton.address import parse_address
from core.ton.messages import b64_hash_to_hex, comment_payload, decode_comment, parse_boc
from core.ton.paylinks import (
    new_invoice_comment,
    new_payout_comment,
    normalize_comment,
    ton_connect_request,
    transfer_link,
)
from core.ton.platform import SEND_MODE, PlatformWallet
from core.ton.wallets import WalletVersion, wallet_code
from tests.core.ton.helpers import V3_V4_WALLET_ID, make_wallet

MERCHANT = parse_address(make_wallet(seed=b"m" * 32).raw_address)


def _comment_of(body: Cell) -> str:
    cs = body.begin_parse()
    assert cs.load_uint(32) == 0
    return str(cs.load_snake_string())


def test_invoice_comments_are_unique_short_and_normalised() -> None:
    comments = {new_invoice_comment() for _ in range(2000)}
    assert len(comments) == 2000
    for comment in list(comments)[:50]:
        assert comment.startswith("atl-") and len(comment) == 20 and comment == comment.lower()
    assert new_payout_comment().startswith("atl-payout-")
    assert normalize_comment("  ATL-AbC ") == "atl-abc"
    assert normalize_comment("   ") is None and normalize_comment(None) is None


def test_comment_payload_is_op_zero_and_snake_text() -> None:
    payload = comment_payload("atl-abcdefghijklmnop")
    cell = Cell.one_from_boc(base64.b64decode(payload))
    assert _comment_of(cell) == "atl-abcdefghijklmnop"
    assert decode_comment(payload) == "atl-abcdefghijklmnop"
    long_text = "ü" * 200  # more than one cell: the snake continues in references
    assert decode_comment(comment_payload(long_text)) == long_text
    not_a_comment = base64.b64encode(Cell.empty().to_boc()).decode()
    assert decode_comment(not_a_comment) is None
    assert decode_comment("%%%") is None


@pytest.mark.parametrize("network", [TonNetwork.MAINNET, TonNetwork.TESTNET])
def test_ton_connect_request_pays_the_non_bounceable_merchant(network: TonNetwork) -> None:
    valid_until = int(time.time()) + 600
    request = ton_connect_request(MERCHANT, 1_500_000_000, "atl-x", valid_until, network)
    assert request["validUntil"] == valid_until
    assert request["network"] == str(network.global_id)
    [message] = request["messages"]
    assert message["amount"] == "1500000000"
    address = parse_address(message["address"])
    assert address == MERCHANT and not address.bounceable
    assert address.testnet is (network is TonNetwork.TESTNET)
    assert message["address"].startswith("UQ" if network is TonNetwork.MAINNET else "0Q")
    assert decode_comment(message["payload"]) == "atl-x"


def test_transfer_link_carries_amount_and_text() -> None:
    link = transfer_link(MERCHANT, 2_000_000_000, "atl-y z", TonNetwork.MAINNET)
    parts = urlsplit(link)
    assert parts.scheme == "ton" and parts.netloc == "transfer"
    assert parse_address(parts.path.lstrip("/")) == MERCHANT
    assert parse_qs(parts.query) == {"amount": ["2000000000"], "text": ["atl-y z"]}


def test_toncenter_hashes_read_in_both_alphabets() -> None:
    raw = bytes(range(32))
    assert b64_hash_to_hex(base64.b64encode(raw).decode()) == raw.hex()
    assert b64_hash_to_hex(base64.urlsafe_b64encode(raw).decode()) == raw.hex()
    assert b64_hash_to_hex(raw.hex()) == raw.hex()
    with pytest.raises(ValueError):
        b64_hash_to_hex("AAAA")


def test_platform_wallet_is_the_v4r2_wallet_of_its_mnemonic() -> None:
    words = mnemonic_new(24)
    wallet = PlatformWallet.from_mnemonic(words, TonNetwork.MAINNET)
    public_key, _ = mnemonic_to_private_key(words)
    assert wallet.public_key == bytes(public_key)
    data = WalletV4Data(seqno=0, wallet_id=V3_V4_WALLET_ID, public_key=bytes(public_key))
    state_init = StateInit(code=wallet_code(WalletVersion.V4R2), data=data.serialize())
    assert wallet.address.hash == state_init.serialize().hash
    assert "words" not in repr(wallet) and "signing_key" not in repr(wallet)


def test_a_signed_payout_reads_back_field_by_field() -> None:
    wallet = PlatformWallet.from_mnemonic(mnemonic_new(24), TonNetwork.MAINNET)
    creator = parse_address(make_wallet().raw_address)
    valid_until = int(time.time()) + 120
    signed = wallet.transfer(
        seqno=7,
        destination=creator,
        amount=3_000_000_000,
        comment="atl-payout-q",
        valid_until=valid_until,
    )
    cell = parse_boc(signed.boc_b64)
    assert bytes(cell.hash).hex() == signed.hash_hex
    message = MessageAny.deserialize(cell.begin_parse())
    assert message.is_external and message.init is None  # deployed: no stateInit
    assert (message.info.dest.wc, bytes(message.info.dest.hash_part)) == (0, wallet.address.hash)

    body = message.body.begin_parse()
    signature = body.load_bytes(64)
    signed_part = body.copy().to_cell()
    VerifyKey(wallet.public_key).verify(bytes(signed_part.hash), signature)
    with pytest.raises(BadSignatureError):
        VerifyKey(make_wallet().public_key).verify(bytes(signed_part.hash), signature)
    assert body.load_uint(32) == V3_V4_WALLET_ID
    assert body.load_uint(32) == valid_until
    assert body.load_uint(32) == 7
    assert body.load_uint(8) == 0  # simple send
    assert body.load_uint(8) == SEND_MODE
    internal = MessageAny.deserialize(body.load_ref().begin_parse())
    assert internal.is_internal and not internal.info.bounce
    assert bytes(internal.info.dest.hash_part) == creator.hash
    assert internal.info.value.grams == 3_000_000_000
    assert _comment_of(internal.body) == "atl-payout-q"


def test_the_first_transfer_deploys_the_wallet() -> None:
    wallet = PlatformWallet.from_mnemonic(mnemonic_new(24), TonNetwork.TESTNET)
    signed = wallet.transfer(
        seqno=0, destination=MERCHANT, amount=1, comment="c", valid_until=int(time.time()) + 60
    )
    message = MessageAny.deserialize(parse_boc(signed.boc_b64).begin_parse())
    assert message.init is not None
    assert message.init.serialize().hash == wallet.address.hash
    # Same body, same normalised hash; a different seqno is a different message.
    again = wallet.transfer(
        seqno=1, destination=MERCHANT, amount=1, comment="c", valid_until=signed.valid_until
    )
    assert again.hash_hex != signed.hash_hex
    assert again.normalized_hash_hex != signed.normalized_hash_hex
