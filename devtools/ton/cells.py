"""Cells and messages: comments, internal and external messages, fees, BoC helpers.

Everything here is real TL-B built with pytoniq-core, so hashes and BoCs match what a node and
toncenter would produce for the same message.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.builder import Builder
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.block import CurrencyCollection
from pytoniq_core.tlb.transaction import ExternalMsgInfo, InternalMsgInfo, MessageAny

COMMENT_OP = 0
BOUNCED_OP = 0xFFFFFFFF
# Basechain message prices (config param 25): lump + per-bit + per-cell, 1/3 to the validators.
LUMP_PRICE = 400_000
BIT_PRICE = 26_214_400
CELL_PRICE = 2_621_440_000
FIRST_FRAC = 21_845


class BocError(ValueError):
    """Bytes that are not a bag of cells with exactly one root."""


def to_boc(cell: Cell) -> bytes:
    """``cell.to_boc()`` (pytoniq leaves it unannotated)."""
    return bytes(cell.to_boc())


def comment_body(text: str) -> Cell:
    """A text comment: op 0 then the UTF-8 text as a snake string (what wallets send)."""
    return Builder().store_uint(COMMENT_OP, 32).store_snake_string(text).end_cell()


def comment_boc_b64(text: str) -> str:
    """The comment cell as base64 BoC: the ``payload`` a TON Connect transaction carries."""
    return base64.b64encode(to_boc(comment_body(text))).decode()


def decode_comment(body: Cell | None) -> str | None:
    """The text of a comment body, or None when the body is not a (valid UTF-8) comment."""
    if body is None or len(body.bits) < 32:
        return None
    cs = body.begin_parse()
    if cs.load_uint(32) != COMMENT_OP:
        return None
    try:
        return str(cs.load_snake_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError, IndexError):
        return None


def opcode(body: Cell | None) -> int | None:
    if body is None or len(body.bits) < 32:
        return None
    return int(body.begin_parse().preload_uint(32))


def parse_boc(data: str | bytes) -> Cell:
    """One root cell from base64 (standard or url-safe) or raw BoC bytes."""
    raw = data
    if isinstance(data, str):
        text = data.strip()
        try:
            raw = base64.b64decode(
                text.replace("-", "+").replace("_", "/") + "=" * (-len(text) % 4)
            )
        except (binascii.Error, ValueError) as exc:
            raise BocError("not base64") from exc
    try:
        cells = Cell.from_boc(raw)
    except Exception as exc:  # pytoniq raises assorted errors on garbage
        raise BocError(f"cannot deserialize bag of cells: {exc}") from exc
    if len(cells) != 1:
        raise BocError("expected exactly one root cell")
    return cells[0]


def parse_b64_hash(value: str) -> bytes:
    """A 32-byte hash from standard or url-safe base64; raises ``ValueError``."""
    text = value.strip().replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("not base64") from exc
    if len(raw) != 32:
        raise ValueError("a hash is 32 bytes")
    return raw


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def boc_b64(cell: Cell) -> str:
    return b64(to_boc(cell))


def internal_message_relaxed(
    destination: Address,
    amount: int,
    *,
    bounce: bool,
    body: Cell | None = None,
    state_init: Cell | None = None,
) -> Cell:
    """``MessageRelaxed``: what a wallet puts in its out-actions (source and lts left empty)."""
    return internal_message(
        None, destination, amount, bounce=bounce, body=body, state_init=state_init
    )


def internal_message(
    source: Address | None,
    destination: Address,
    amount: int,
    *,
    bounce: bool,
    bounced: bool = False,
    body: Cell | None = None,
    state_init: Cell | None = None,
    fwd_fee: int = 0,
    created_lt: int = 0,
    created_at: int = 0,
) -> Cell:
    info = InternalMsgInfo(
        ihr_disabled=True,
        bounce=bounce,
        bounced=bounced,
        src=source,
        dest=destination,
        value=CurrencyCollection(grams=amount),
        ihr_fee=0,
        fwd_fee=fwd_fee,
        created_lt=created_lt,
        created_at=created_at,
    )
    return _message(info.serialize(), state_init, body)


def external_message(destination: Address, body: Cell, *, state_init: Cell | None = None) -> Cell:
    info = ExternalMsgInfo(src=None, dest=destination, import_fee=0)
    return _message(info.serialize(), state_init, body)


def _message(info: Cell, state_init: Cell | None, body: Cell | None) -> Cell:
    """``Message X``: init and body inline when they fit, in a reference otherwise."""
    builder = Builder().store_cell(info)
    if state_init is None:
        builder.store_bit(0)
    elif _fits(builder.available_bits - 2, builder.available_refs, state_init):
        builder.store_bit(1).store_bit(0).store_cell(state_init)
    else:
        builder.store_bit(1).store_bit(1).store_ref(state_init)
    body = body if body is not None else Cell.empty()
    if _fits(builder.available_bits - 1, builder.available_refs, body):
        builder.store_bit(0).store_cell(body)
    else:
        builder.store_bit(1).store_ref(body)
    return builder.end_cell()


def _fits(bits: int, refs: int, cell: Cell) -> bool:
    return len(cell.bits) <= bits and len(cell.refs) <= refs


def normalized_external_hash(message: Cell) -> bytes:
    """TEP-467 normalised hash: no source, no import fee, no init, body as a reference."""
    parsed = MessageAny.deserialize(message.begin_parse())
    info = ExternalMsgInfo(src=None, dest=parsed.info.dest, import_fee=0)
    normal = Builder().store_cell(info.serialize()).store_bit(0).store_bit(1)
    return bytes(normal.store_ref(parsed.body).end_cell().hash)


@dataclass(frozen=True)
class Fees:
    """A forwarded message's price: ``total`` = ``action`` (kept by validators) + ``forward``."""

    total: int
    action: int

    @property
    def forward(self) -> int:
        return self.total - self.action


def message_fees(message: Cell) -> Fees:
    """Config-25 forwarding price of ``message`` (its root cell is free, as on the chain)."""
    bits, cells = _tree_size(message, seen=set())
    total = LUMP_PRICE + -(-(BIT_PRICE * bits + CELL_PRICE * cells) // 65536)
    return Fees(total=total, action=message_fees_action(total))


def message_fees_action(total: int) -> int:
    """The validators' share of a forwarding price."""
    return total * FIRST_FRAC // 65536


def _tree_size(root: Cell, seen: set[bytes]) -> tuple[int, int]:
    bits = cells = 0
    stack = list(root.refs)
    while stack:
        cell = stack.pop()
        if cell.hash in seen:
            continue
        seen.add(cell.hash)
        bits += len(cell.bits)
        cells += 1
        stack.extend(cell.refs)
    return bits, cells


def bounce_body(original: Cell | None) -> Cell:
    """A bounced message's body: 0xffffffff then the first 256 bits of the original body."""
    head = original.bits[:256] if original is not None else ""
    return Builder().store_uint(BOUNCED_OP, 32).store_bits(head).end_cell()


def to_raw(address: Address) -> str:
    """toncenter v3's account form: ``0:ABCDEF...`` (upper-case hex)."""
    return f"{address.wc}:{address.hash_part.hex().upper()}"


def parse_address(text: str) -> Address:
    """Raw (``0:hex``) or user-friendly (base64 or base64url); raises ``ValueError``."""
    value = text.strip()
    try:
        if ":" in value:
            workchain, _, hex_part = value.partition(":")
            hash_part = bytes.fromhex(hex_part)
            if len(hash_part) != 32:
                raise ValueError("the hash part is not 32 bytes")
            return Address((int(workchain), hash_part))
        if len(value) != 48:
            raise ValueError("a user-friendly address is 48 characters")
        return Address(value.replace("+", "-").replace("/", "_"))
    except Exception as exc:
        raise ValueError(f"invalid address {text!r}") from exc


def is_bounceable_form(text: str) -> bool | None:
    """The bounce flag a user-friendly address carries (None for the raw form)."""
    value = text.strip()
    if ":" in value:
        return None
    return bool(parse_address(value).is_bounceable)
