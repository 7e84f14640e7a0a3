"""TON addresses: raw ``wc:hex`` ⇄ user-friendly base64, with the bounceable and testnet flags.

A user-friendly address is 36 bytes in base64 (48 characters, standard or URL-safe alphabet):
a tag (``0x11`` bounceable, ``0x51`` non-bounceable, ``+0x80`` testnet-only), the workchain as
a signed byte, the 32-byte account hash and a CRC16-XMODEM of those 34 bytes. The flags are
advice to the sender, not part of the account: two spellings of one account compare equal.

Wallets should be shown and paid non-bounceable (``UQ…``/``0Q…``), as the TON Connect spec
asks; contracts bounceable (``EQ…``/``kQ…``).

Usage::

    address = parse_address("0:ab…")           # or "UQ…", "EQ…", "0Q…", "kQ…"
    address.raw                                 # "0:ab…"
    address.friendly(bounceable=False, testnet=network is TonNetwork.TESTNET)
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

from pytoniq_core.crypto.crc import crc16

from core.settings import TonNetwork
from core.ton.errors import InvalidAddressError

_RAW = re.compile(r"^(-?\d{1,3}):([0-9a-fA-F]{64})$")
_FRIENDLY_LENGTH = 48
_BOUNCEABLE = 0x11
_NON_BOUNCEABLE = 0x51
_TESTNET = 0x80


@dataclass(frozen=True, slots=True)
class TonAddress:
    """An account: workchain and 32-byte hash. The flags only say how it was written."""

    workchain: int
    hash: bytes
    bounceable: bool = field(default=True, compare=False)
    testnet: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if not -128 <= self.workchain <= 127 or len(self.hash) != 32:
            raise InvalidAddressError("not a TON address")

    @property
    def raw(self) -> str:
        return f"{self.workchain}:{self.hash.hex()}"

    def friendly(self, *, bounceable: bool, testnet: bool = False, url_safe: bool = True) -> str:
        tag = (_BOUNCEABLE if bounceable else _NON_BOUNCEABLE) | (_TESTNET if testnet else 0)
        body = bytes([tag]) + self.workchain.to_bytes(1, "big", signed=True) + self.hash
        data = body + crc16(body)
        encode = base64.urlsafe_b64encode if url_safe else base64.b64encode
        return encode(data).decode()

    def wallet_form(self, network: TonNetwork) -> str:
        """How a wallet address is shown and paid on ``network``: non-bounceable, URL-safe."""
        return self.friendly(bounceable=False, testnet=network is TonNetwork.TESTNET)


def parse_address(text: str) -> TonAddress:
    """Any spelling of an address, or :class:`InvalidAddressError` (checksum included)."""
    text = text.strip()
    match = _RAW.match(text)
    if match:
        return TonAddress(int(match[1]), bytes.fromhex(match[2]))
    if len(text) != _FRIENDLY_LENGTH:
        raise InvalidAddressError("not a TON address")
    try:
        data = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidAddressError("not a TON address") from None
    tag = data[0]
    if tag & ~_TESTNET not in (_BOUNCEABLE, _NON_BOUNCEABLE) or crc16(data[:34]) != data[34:]:
        raise InvalidAddressError("not a TON address (bad tag or checksum)")
    return TonAddress(
        workchain=int.from_bytes(data[1:2], "big", signed=True),
        hash=data[2:34],
        bounceable=tag & ~_TESTNET == _BOUNCEABLE,
        testnet=bool(tag & _TESTNET),
    )
