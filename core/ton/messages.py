"""TON messages as cells: text comments, the internal messages a wallet sends, the external
message that carries a signed wallet body, and the hashes the chain (and toncenter) report.

Everything is real TL-B built with pytoniq-core, so a hash computed here is the hash a node and
toncenter compute for the same bytes — which is how a payout is found on the chain again.

* :func:`comment_cell` / :func:`comment_payload` — op ``0`` then the UTF-8 text as a snake
  string: what wallets send as a comment, and the ``payload`` of a TON Connect message.
* :func:`decode_comment` — the text of a body cell (or base64 BoC), ``None`` for anything else.
* :func:`internal_message_relaxed` — a ``MessageRelaxed`` as a wallet puts it in its actions.
* :func:`external_message` — ``ext_in_msg_info`` + optional stateInit + the signed body.
* :func:`normalized_hash` — TEP-467's normalised hash of an external message (no source, no
  import fee, no init, body as a reference), which newer toncenter versions report too.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pytoniq_core.boc.address import Address
from pytoniq_core.boc.builder import Builder
from pytoniq_core.boc.cell import Cell
from pytoniq_core.tlb.account import StateInit
from pytoniq_core.tlb.block import CurrencyCollection
from pytoniq_core.tlb.transaction import ExternalMsgInfo, InternalMsgInfo, MessageAny

from core.ton.address import TonAddress
from core.ton.wallets import begin_parse

COMMENT_OP = 0
MAX_COMMENT_BYTES = 1024  # ours are ~20 bytes; longer texts are not worth decoding


def _builder() -> Builder:
    return Builder()


def to_boc(cell: Cell) -> bytes:
    """``cell.to_boc()``, typed."""
    return bytes(cell.to_boc())


def boc_b64(cell: Cell) -> str:
    return base64.b64encode(to_boc(cell)).decode()


def parse_boc(data: str | bytes) -> Cell:
    """One root cell from base64 (standard or URL-safe) or raw bytes; ``ValueError`` else."""
    raw = data
    if isinstance(data, str):
        text = data.strip().replace("-", "+").replace("_", "/")
        try:
            raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not base64") from None
    try:
        roots = Cell.from_boc(raw)
    except Exception as exc:  # pytoniq raises assorted errors on garbage
        raise ValueError("not a bag of cells") from exc
    if len(roots) != 1:
        raise ValueError("expected exactly one root cell")
    cell: Cell = roots[0]
    return cell


def comment_cell(text: str) -> Cell:
    """A text comment: op 0 (32 bits) then the text as a snake string."""
    builder = _builder().store_uint(COMMENT_OP, 32)
    cell: Cell = builder.store_snake_string(text).end_cell()
    return cell


def comment_payload(text: str) -> str:
    """The comment cell as a base64 BoC: the ``payload`` of a TON Connect message."""
    return boc_b64(comment_cell(text))


def decode_comment(body: Cell | str | None) -> str | None:
    """The text of a comment body; ``None`` for an empty body, another op or bad UTF-8."""
    if body is None:
        return None
    try:
        cell = parse_boc(body) if isinstance(body, str) else body
        if len(cell.bits) < 32:
            return None
        cs = begin_parse(cell)
        if cs.load_uint(32) != COMMENT_OP:
            return None
        data: bytes = cs.load_snake_bytes()
        if len(data) > MAX_COMMENT_BYTES:
            return None
        return data.decode("utf-8")
    except (ValueError, UnicodeDecodeError, IndexError, TypeError):
        return None
    except Exception:  # pytoniq's slices raise bare errors on underflow
        return None


def pytoniq_address(address: TonAddress) -> Address:
    return Address((address.workchain, address.hash))


def internal_message_relaxed(
    destination: TonAddress, amount: int, *, bounce: bool, body: Cell | None = None
) -> Cell:
    """``MessageRelaxed``: what a wallet puts in its out-actions (source and lts left empty)."""
    info = InternalMsgInfo(
        ihr_disabled=True,
        bounce=bounce,
        bounced=False,
        src=None,
        dest=pytoniq_address(destination),
        value=CurrencyCollection(grams=amount),
        ihr_fee=0,
        fwd_fee=0,
        created_lt=0,
        created_at=0,
    )
    return _message(info, None, body)


def external_message(
    destination: TonAddress, body: Cell, *, state_init: StateInit | None = None
) -> Cell:
    """An inbound external message to ``destination`` (a wallet) carrying ``body``."""
    info = ExternalMsgInfo(
        src=None,
        dest=pytoniq_address(destination),
        import_fee=0,
    )
    return _message(info, state_init, body)


def _message(info: Any, init: StateInit | None, body: Cell | None) -> Cell:
    """``Message X`` with init and body inline when they fit, as wallets and nodes lay it out."""
    empty: Cell = _builder().end_cell()
    message = MessageAny(info=info, init=init, body=body if body is not None else empty)
    cell: Cell = message.serialize()
    return cell


def normalized_hash(message: Cell) -> bytes:
    """TEP-467: the hash of ``ext_in_msg_info`` (no source, import fee 0) with no init and the
    body as a reference — the same for every re-wrapping of one signed body."""
    parsed = MessageAny.deserialize(begin_parse(message))
    info = ExternalMsgInfo(
        src=None,
        dest=parsed.info.dest,
        import_fee=0,
    )
    builder = _builder().store_cell(info.serialize()).store_bit(0).store_bit(1)
    cell: Cell = builder.store_ref(parsed.body).end_cell()
    return bytes(cell.hash)


def b64_hash_to_hex(value: str) -> str:
    """toncenter's base64 (standard or URL-safe) hash → 64 lower-case hex digits."""
    text = value.strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text).hex()
        except ValueError:
            pass
    text = text.replace("-", "+").replace("_", "/")
    try:
        raw = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not a base64 hash") from None
    if len(raw) != 32:
        raise ValueError("a hash is 32 bytes")
    return raw.hex()
