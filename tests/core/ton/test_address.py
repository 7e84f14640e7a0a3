"""Addresses: the TEP-2 example both ways, the flags, and what is refused."""

from __future__ import annotations

import pytest

from core.settings import TonNetwork
from core.ton.address import TonAddress, parse_address
from core.ton.amounts import format_ton, to_nano
from core.ton.errors import InvalidAddressError

# TEP-2's example: the root DNS contract in the masterchain.
ROOT_DNS_RAW = "-1:e56754f83426f69b09267bd876ac97c44821345b7e266bd956a7bfbfb98df35c"
ROOT_DNS_URL_SAFE = "Ef_lZ1T4NCb2mwkme9h2rJfESCE0W34ma9lWp7-_uY3zXDvq"
ROOT_DNS_STANDARD = "Ef/lZ1T4NCb2mwkme9h2rJfESCE0W34ma9lWp7+/uY3zXDvq"


def test_tep2_example_both_ways() -> None:
    address = parse_address(ROOT_DNS_RAW)
    assert address.workchain == -1
    assert address.friendly(bounceable=True) == ROOT_DNS_URL_SAFE
    assert address.friendly(bounceable=True, url_safe=False) == ROOT_DNS_STANDARD
    for text in (ROOT_DNS_URL_SAFE, ROOT_DNS_STANDARD):
        parsed = parse_address(text)
        assert parsed.raw == ROOT_DNS_RAW
        assert parsed.bounceable and not parsed.testnet


def test_flags_are_spelling_not_identity() -> None:
    address = TonAddress(0, bytes(range(32)))
    spellings = {
        address.friendly(bounceable=True): (True, False),
        address.friendly(bounceable=False): (False, False),
        address.friendly(bounceable=True, testnet=True): (True, True),
        address.friendly(bounceable=False, testnet=True): (False, True),
    }
    assert [s[:2] for s in spellings] == ["EQ", "UQ", "kQ", "0Q"]
    for text, (bounceable, testnet) in spellings.items():
        parsed = parse_address(text)
        assert parsed == address
        assert (parsed.bounceable, parsed.testnet) == (bounceable, testnet)
    assert address.wallet_form(TonNetwork.MAINNET).startswith("UQ")
    assert address.wallet_form(TonNetwork.TESTNET).startswith("0Q")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "0:abc",
        "0:" + "g" * 64,
        "1000:" + "a" * 64,
        ROOT_DNS_URL_SAFE[:-1] + ("q" if ROOT_DNS_URL_SAFE[-1] != "q" else "r"),  # checksum
        ROOT_DNS_URL_SAFE[:-2],
        "!" * 48,
        "AA" + ROOT_DNS_URL_SAFE[2:],  # unknown tag
    ],
)
def test_refuses_what_is_not_an_address(text: str) -> None:
    with pytest.raises(InvalidAddressError):
        parse_address(text)


def test_nanotons() -> None:
    assert to_nano("1.5") == 1_500_000_000
    assert to_nano(2) == 2_000_000_000
    assert to_nano("0.000000001") == 1
    assert format_ton(1_500_000_000) == "1.5"
    assert format_ton(2_000_000_000) == "2"
    assert format_ton(1) == "0.000000001"
    for bad in ("0.0000000001", "-1", "abc", "NaN"):
        with pytest.raises(ValueError):
            to_nano(bad)
