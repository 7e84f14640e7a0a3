"""Wallet contracts, cells and addresses agree with the real network's and with pytoniq-core."""

from __future__ import annotations

import base64
import os
import time

import pytest
from pytoniq_core.boc.address import Address
from pytoniq_core.boc.builder import Builder
from pytoniq_core.tlb.transaction import MessageAny

from devtools.ton import cells
from devtools.ton import fastcells as fc
from devtools.ton.wallets import (
    TestWallet,
    Transfer,
    WalletError,
    WalletVersion,
    parse_external_body,
    parse_wallet_data,
    verify_signed_body,
    wallet_code,
    wallet_data,
)

# Code hashes toncenter's indexer recognises as wallets (index/models.go, WalletsHashMap).
KNOWN_CODE_HASHES = {
    WalletVersion.V3R2: "hNr6RJ+Ypph3ibojI1gHK8D3bcRSQAKl0JGLmnXS1Zk=",
    WalletVersion.V4R2: "/rX/aCDi/w2Ug+fg1iyBfYRniftK5YDIeIZtlZ2r1cA=",
    WalletVersion.V5R1: "IINLe3KxEhR+Gy+0V7hOdNGjDwT3N9T2KmaOlVLSty8=",
}
# A public test key used by several TON SDKs' wallet tests, with the addresses they expect.
VECTOR_SEED = bytes.fromhex("34aebb9ea454967f16c407c0f8877763e86212116468169d93a3dcbcafe530c9")
VECTOR_ADDRESSES = {
    WalletVersion.V3R2: "EQA0D_5WdusaCB-SpnoE6l5TzdBmgOkzTcXrdh0px6g3zJSk",
    WalletVersion.V4R2: "EQDnBF4JTFKHTYjulEJyNd4dstLGH1m51UrLdu01_tw4z2Au",
}


@pytest.mark.parametrize("version", list(WalletVersion))
def test_wallet_code_is_the_on_chain_contract(version: WalletVersion) -> None:
    assert base64.b64encode(wallet_code(version).hash).decode() == KNOWN_CODE_HASHES[version]


@pytest.mark.parametrize("version", list(VECTOR_ADDRESSES))
def test_addresses_match_other_sdks(version: WalletVersion) -> None:
    wallet = TestWallet.from_seed(VECTOR_SEED, version)
    assert wallet.public_key.hex().startswith("5754865e86d0ade1")
    assert wallet.friendly(bounceable=True) == VECTOR_ADDRESSES[version]
    assert wallet.address.hash_part == wallet.state_init.hash


def test_v5_wallet_id_is_the_default_wallet_apps_use() -> None:
    assert TestWallet.from_seed(VECTOR_SEED, WalletVersion.V5R1).wallet_id == 2147483409
    testnet = TestWallet.from_seed(VECTOR_SEED, WalletVersion.V5R1, network="testnet")
    assert testnet.wallet_id == 2147483645


def test_mnemonic_wallets_round_trip() -> None:
    wallet = TestWallet.generate(WalletVersion.V4R2)
    assert wallet.mnemonic is not None and len(wallet.mnemonic) == 24
    again = TestWallet.from_mnemonic(" ".join(wallet.mnemonic))
    assert again.address == wallet.address and again.public_key == wallet.public_key
    with pytest.raises(ValueError, match="mnemonic"):
        TestWallet.from_mnemonic(["abandon"] * 24)


@pytest.mark.parametrize("version", list(WalletVersion))
def test_signed_transfers_parse_back_and_verify(version: WalletVersion) -> None:
    wallet = TestWallet.from_seed(None, version)
    to = Address((0, os.urandom(32)))
    transfers = [Transfer(to, 123, body=cells.comment_body("one")), Transfer(to, 7, bounce=False)]
    message = MessageAny.deserialize(wallet.external_message(5, transfers).begin_parse())
    assert message.init is None  # only the first (seqno 0) message carries the state_init
    signed = parse_external_body(version, message.body)
    data = parse_wallet_data(version, wallet_data(version, wallet.public_key, wallet.wallet_id, 5))
    verify_signed_body(version, signed, data, int(time.time()))
    sent = [MessageAny.deserialize(cell.begin_parse()) for _, cell in signed.actions]
    assert [(m.info.value_coins, m.info.bounce) for m in sent] == [(123, True), (7, False)]
    assert cells.decode_comment(sent[0].body) == "one"

    other = TestWallet.from_seed(None, version, wallet_id=wallet.wallet_id)
    forged = MessageAny.deserialize(other.external_message(5, transfers).begin_parse())
    with pytest.raises(WalletError, match="signature"):
        verify_signed_body(version, parse_external_body(version, forged.body), data, 0)


@pytest.mark.parametrize("text", ["", "hi", "x" * 123, "ünïcödé ✓ " * 40])
def test_comments_round_trip(text: str) -> None:
    assert cells.decode_comment(cells.comment_body(text)) == text
    assert cells.decode_comment(cells.parse_boc(cells.comment_boc_b64(text))) == text


def test_non_comments_decode_to_none() -> None:
    assert cells.decode_comment(None) is None
    assert cells.decode_comment(Builder().store_uint(0x12345678, 32).end_cell()) is None
    invalid_utf8 = Builder().store_uint(0, 32).store_bytes(b"\xff\xfe").end_cell()
    assert cells.decode_comment(invalid_utf8) is None


def test_fast_cells_hash_like_pytoniq() -> None:
    for text in ["", "inv-1", "y" * 123]:
        bits = fc.comment_bits(text)
        assert bits is not None
        assert fc.cell(bits).hash == cells.comment_body(text).hash
        assert fc.single_cell_boc(bits) == cells.to_boc(cells.comment_body(text))
    assert fc.comment_bits("z" * 124) is None
    source, destination = Address((0, os.urandom(32))), Address((-1, os.urandom(32)))
    for value in (0, 1, 10**9, 2**100):
        slow = cells.internal_message(
            source, destination, value, bounce=True, body=cells.comment_body("x"),
            fwd_fee=266669, created_lt=47_000_000_000_123, created_at=1_700_000_000,
        )  # fmt: skip
        fast = fc.internal_message(
            (source.wc, source.hash_part), (destination.wc, destination.hash_part), value,
            bounce=True, body=fc.comment_bits("x"), fwd_fee=266669,
            created_lt=47_000_000_000_123, created_at=1_700_000_000,
        )  # fmt: skip
        assert fast is not None and fast.hash == slow.hash
    child = Builder().store_uint(5, 7).end_cell()
    parent = Builder().store_ref(child).store_uint(1, 1).end_cell()
    ref = fc.cell(fc.Bits().uint(1, 1), [fc.Ref(child.hash, child.get_depth())])
    assert (ref.hash, ref.depth) == (parent.hash, parent.get_depth())


def test_addresses_parse_in_every_form() -> None:
    wallet = TestWallet.from_seed(VECTOR_SEED, WalletVersion.V4R2)
    forms = [
        wallet.raw_address,
        wallet.raw_address.upper(),
        wallet.friendly(bounceable=True),
        wallet.friendly(bounceable=False, testnet=True),
        wallet.friendly().replace("-", "+").replace("_", "/"),
    ]
    for form in forms:
        assert cells.parse_address(form) == wallet.address
    assert cells.is_bounceable_form(wallet.friendly(bounceable=True)) is True
    assert cells.is_bounceable_form(wallet.friendly()) is False
    assert cells.is_bounceable_form(wallet.raw_address) is None
    for bad in ["", "0:abc", "EQ" + "A" * 46, "not an address"]:
        with pytest.raises(ValueError):
            cells.parse_address(bad)


def test_boc_parsing_refuses_garbage() -> None:
    with pytest.raises(cells.BocError):
        cells.parse_boc("bm90IGEgYm9j")
    with pytest.raises(cells.BocError):
        cells.parse_boc("%%%")
