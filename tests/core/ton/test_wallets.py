"""Known wallet codes: pinned to their published hashes, recognised, and their keys read by
each version's data layout — also when the code is a library cell."""

from __future__ import annotations

import pytest
from pytoniq_core.boc.builder import Builder
from pytoniq_core.tlb.account import StateInit

from core.settings import TonNetwork
from core.ton.wallets import (
    WalletVersion,
    code_hash,
    default_wallet_id,
    identify_wallet,
    public_key_of,
    state_init_address,
    wallet_code,
    wallet_state_init,
)
from tests.core.ton.helpers import V3_V4_WALLET_ID, V5_WALLET_ID, make_wallet

# docs.ton.org, "Wallet sources": the hash of each standard wallet's code.
PUBLISHED = {
    "v3r2": "84dafa449f98a6987789ba232358072bc0f76dc4524002a5d0918b9a75d2d599",
    "v4r2": "feb5ff6820e2ff0d9483e7e0d62c817d846789fb4ae580c878866d959dabd5c0",
    "v5r1": "20834b7b72b112147e1b2fb457b84e74d1a30f04f737d4f62a668e9552d2b72f",
}


@pytest.mark.parametrize("version", list(WalletVersion))
def test_bundled_code_is_the_published_code(version: WalletVersion) -> None:
    assert wallet_code(version).hash.hex() == PUBLISHED[version.value]


@pytest.mark.parametrize("version", ["v3r2", "v4r2", "v5r1"])
@pytest.mark.parametrize("network", ["mainnet", "testnet"])
def test_reads_the_key_of_each_wallet(version: str, network: str) -> None:
    wallet = make_wallet(version, network)
    state = StateInit.deserialize(wallet.state_init.begin_parse())
    found = identify_wallet(state.code)
    assert found == WalletVersion(version)
    assert public_key_of(found, state.data) == wallet.public_key


@pytest.mark.parametrize("version", ["v3r2", "v4r2", "v5r1"])
@pytest.mark.parametrize("network", ["mainnet", "testnet"])
def test_builds_the_wallet_a_wallet_app_builds(version: str, network: str) -> None:
    wallet = make_wallet(version, network)
    built = wallet_state_init(
        WalletVersion(version), wallet.public_key, network=TonNetwork(network)
    )
    assert built.serialize().hash == wallet.state_init.hash
    assert state_init_address(built.serialize()).raw == wallet.raw_address


def test_default_wallet_ids_are_the_documented_ones() -> None:
    for network in TonNetwork:
        assert default_wallet_id(WalletVersion.V3R2, network) == V3_V4_WALLET_ID
        assert default_wallet_id(WalletVersion.V4R2, network) == V3_V4_WALLET_ID
        assert default_wallet_id(WalletVersion.V5R1, network) == V5_WALLET_ID[network.value]


def test_library_cell_code_is_recognised() -> None:
    """Wallet apps deploy v5R1 with a library cell (type 2) that names the code's hash."""
    library = (
        Builder(type_=2).store_uint(2, 8).store_bytes(wallet_code(WalletVersion.V5R1).hash)
    ).end_cell()
    assert code_hash(library) == bytes.fromhex(PUBLISHED["v5r1"])
    assert identify_wallet(library) is WalletVersion.V5R1


def test_other_contracts_and_short_data() -> None:
    assert identify_wallet(Builder().store_uint(1, 8).end_cell()) is None
    with pytest.raises(ValueError):
        public_key_of(WalletVersion.V4R2, Builder().store_uint(0, 64).end_cell())
