"""Exact cell hashes without pytoniq's per-cell overhead, for the few fixed layouts bulk work needs.

pytoniq-core hashes every cell as it is built (~25 µs each); seeding 100,000 transactions would
take half a minute. These helpers build the same bits as an integer and hash the standard cell
representation (descriptors, padded data, ref depths, ref hashes) with hashlib, so they give the
very hashes and BoCs pytoniq gives (``tests/devtools/ton/test_cells.py`` checks that).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

MAX_BITS = 1023


@dataclass(slots=True)
class Bits:
    """An append-only bit string kept as one integer."""

    value: int = 0
    length: int = 0

    def uint(self, value: int, width: int) -> Bits:
        self.value = (self.value << width) | value
        self.length += width
        return self

    def int_(self, value: int, width: int) -> Bits:
        return self.uint(value & ((1 << width) - 1), width)

    def bit(self, flag: bool) -> Bits:
        return self.uint(1 if flag else 0, 1)

    def bytes_(self, data: bytes) -> Bits:
        return self.uint(int.from_bytes(data, "big"), 8 * len(data))

    def coins(self, amount: int) -> Bits:
        size = (amount.bit_length() + 7) // 8
        self.uint(size, 4)
        return self.uint(amount, 8 * size) if size else self

    def address(self, workchain: int, hash_part: bytes) -> Bits:
        return self.uint(0b100, 3).int_(workchain, 8).bytes_(hash_part)

    def extend(self, other: Bits) -> Bits:
        return self.uint(other.value, other.length)

    def padded(self) -> bytes:
        """The data bytes with the completion tag (a 1 then zeros) when not byte-aligned."""
        value, length = self.value, self.length
        if length % 8:
            pad = 8 - length % 8
            value, length = (value << pad) | (1 << (pad - 1)), length + pad
        return value.to_bytes(length // 8, "big")


@dataclass(frozen=True, slots=True)
class Ref:
    """What a parent needs of a child cell: its representation hash and depth."""

    hash: bytes
    depth: int


def cell(bits: Bits, refs: Sequence[Ref] = ()) -> Ref:
    """Hash and depth of an ordinary cell with ``bits`` and ``refs``."""
    length = bits.length
    if length > MAX_BITS or len(refs) > 4:
        raise ValueError("cell overflow")
    value = bits.value
    if length % 8:
        pad = 8 - length % 8
        value, padded_length = (value << pad) | (1 << (pad - 1)), length + pad
    else:
        padded_length = length
    digest = hashlib.sha256(bytes((len(refs), length // 8 + (length + 7) // 8)))
    digest.update(value.to_bytes(padded_length // 8, "big"))
    depth = 0
    for ref in refs:
        digest.update(ref.depth.to_bytes(2, "big"))
        depth = max(depth, ref.depth + 1)
    for ref in refs:
        digest.update(ref.hash)
    return Ref(digest.digest(), depth)


def single_cell_boc(bits: Bits) -> bytes:
    """The BoC of one cell without references, laid out as pytoniq's ``to_boc()`` lays it."""
    d2 = bits.length // 8 + (bits.length + 7) // 8
    payload = bytes((0, d2)) + bits.padded()
    size = len(payload)
    offset_bytes = max(1, (size.bit_length() + 7) // 8)
    header = b"\xb5\xee\x9c\x72" + bytes((1, offset_bytes, 1, 1, 0))
    return header + size.to_bytes(offset_bytes, "big") + b"\x00" + payload


def comment_bits(text: str) -> Bits | None:
    """A comment body that fits one cell (op 0 + UTF-8), or None when it needs a snake tail."""
    data = text.encode()
    if 32 + 8 * len(data) > MAX_BITS:
        return None
    return Bits().uint(0, 32).bytes_(data)


def internal_message(
    source: tuple[int, bytes],
    destination: tuple[int, bytes],
    value: int,
    *,
    bounce: bool,
    body: Bits | None,
    fwd_fee: int,
    created_lt: int,
    created_at: int,
) -> Ref | None:
    """Hash of an internal message with a one-cell body (None: the body would not fit inline)."""
    bits = Bits().uint(0, 1).bit(True).bit(bounce).bit(False)
    bits.address(*source).address(*destination).coins(value).bit(False)
    bits.coins(0).coins(fwd_fee).uint(created_lt, 64).uint(created_at, 32)
    bits.bit(False)  # no init
    body = body if body is not None else Bits()
    if bits.length + 1 + body.length > MAX_BITS:
        return None
    return cell(bits.bit(False).extend(body))
