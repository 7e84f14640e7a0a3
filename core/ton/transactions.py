"""Transactions as toncenter v3 reports them, and the one rule that decides whether an incoming
transfer really left its value with us.

``GET /api/v3/transactions`` answers ``{"transactions": [...], "address_book": {...}}``; each
transaction carries ``hash`` (base64), ``lt`` (a string), ``now``, ``mc_block_seqno`` (set once
the block is referenced by a masterchain block: *final*; ``null`` before), ``description``
(``aborted``, ``compute_ph``, ``action``, ``bounce``), ``in_msg`` and ``out_msgs`` (``source``,
``destination``, ``value``, ``bounce``, ``bounced``, ``message_content.body`` as a base64 BoC
and ``message_content.decoded``). :func:`parse_transaction` reads that into
:class:`ChainTransaction`; anything malformed raises :class:`ValueError`.

:func:`incoming_transfer` then says what an incoming internal message did (:class:`Verdict`):

* ``ok`` — the value stayed: not a bounce coming back, no bounce phase and no bounced message
  going out, and either the wallet ran and succeeded (not aborted, compute and action phases
  successful) or the account had no code yet and simply kept a non-bounceable transfer
  (compute skipped with ``no_state``, as for a merchant wallet that never sent anything);
* ``bounced`` — the incoming message is itself a bounce (our own transfer coming back);
* ``bounced_back`` — the value went back to the sender;
* ``failed`` — anything else (aborted, a failed phase): no value to credit.

A transaction without an incoming internal message (an external message: the wallet's own
outgoing transfer) is not an incoming transfer at all (``None``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Any

from core.ton.address import TonAddress, parse_address
from core.ton.errors import InvalidAddressError
from core.ton.messages import b64_hash_to_hex, decode_comment

KEPT_WITHOUT_CODE = frozenset({"no_state"})


class Verdict(StrEnum):
    OK = "ok"
    BOUNCED = "bounced"
    BOUNCED_BACK = "bounced_back"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class ChainMessage:
    hash_hex: str
    source: TonAddress | None  # None: an external message
    destination: TonAddress | None
    value: int | None  # nanotons; None for external messages
    bounce: bool
    bounced: bool
    body: str | None  # base64 BoC
    decoded_comment: str | None  # toncenter's own decoding, when it gave one

    @property
    def comment(self) -> str | None:
        """The text comment: toncenter's decoding when present, else our own of the body."""
        if self.decoded_comment is not None:
            return self.decoded_comment
        return decode_comment(self.body) if self.body else None


@dataclass(frozen=True, slots=True)
class ChainTransaction:
    account: TonAddress
    hash_hex: str
    lt: int
    utime: int
    mc_block_seqno: int | None
    aborted: bool
    compute_skipped_reason: str | None  # None: the compute phase ran
    compute_success: bool
    action_success: bool | None  # None: no action phase
    bounce_phase: bool
    in_msg: ChainMessage | None
    out_msgs: tuple[ChainMessage, ...]

    @property
    def is_final(self) -> bool:
        """In a block the masterchain has referenced: it can no longer be rolled back."""
        return self.mc_block_seqno is not None


@dataclass(frozen=True, slots=True)
class IncomingTransfer:
    """An incoming internal message and what it left with us."""

    tx_hash: str
    lt: int
    utime: int
    source: TonAddress
    amount: int
    comment: str | None
    verdict: Verdict


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> TonAddress:
    """A page names the same few accounts again and again (the merchant, repeat payers)."""
    return parse_address(text)


def _address(value: Any) -> TonAddress | None:
    if not value:
        return None
    try:
        return _parse_cached(str(value))
    except InvalidAddressError:
        raise ValueError(f"not an address: {value!r}") from None


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("a number was expected")
    return int(value)


def parse_message(data: Mapping[str, Any]) -> ChainMessage:
    content = data.get("message_content") or {}
    decoded = content.get("decoded") or {}
    comment = decoded.get("comment") if decoded.get("type") == "text_comment" else None
    value = data.get("value")
    return ChainMessage(
        hash_hex=b64_hash_to_hex(str(data["hash"])),
        source=_address(data.get("source")),
        destination=_address(data.get("destination")),
        value=_int(value) if value is not None else None,
        bounce=bool(data.get("bounce")),
        bounced=bool(data.get("bounced")),
        body=content.get("body"),
        decoded_comment=str(comment) if comment is not None else None,
    )


def parse_transaction(data: Mapping[str, Any]) -> ChainTransaction:
    """One transaction of a v3 answer; :class:`ValueError` (or ``KeyError``) when malformed."""
    description = data.get("description") or {}
    compute = description.get("compute_ph") or {}
    action = description.get("action")
    account = _address(data.get("account"))
    if account is None:
        raise ValueError("a transaction without an account")
    seqno = data.get("mc_block_seqno")
    in_msg = data.get("in_msg")
    return ChainTransaction(
        account=account,
        hash_hex=b64_hash_to_hex(str(data["hash"])),
        lt=_int(data["lt"]),
        utime=_int(data.get("now") or 0),
        mc_block_seqno=_int(seqno) if seqno is not None else None,
        aborted=bool(description.get("aborted")),
        compute_skipped_reason=(
            str(compute.get("reason") or "unknown") if compute.get("skipped") else None
        ),
        compute_success=bool(compute.get("success")) and not compute.get("skipped"),
        action_success=bool(action.get("success")) if isinstance(action, Mapping) else None,
        bounce_phase=bool(description.get("bounce")),
        in_msg=parse_message(in_msg) if in_msg else None,
        out_msgs=tuple(parse_message(m) for m in data.get("out_msgs") or ()),
    )


def parse_transactions(body: Any) -> list[ChainTransaction]:
    """The ``transactions`` of a v3 answer, in the order given."""
    items = body.get("transactions") if isinstance(body, Mapping) else None
    if not isinstance(items, list) or not all(isinstance(item, Mapping) for item in items):
        raise ValueError("not a v3 transactions answer")
    return [parse_transaction(item) for item in items]


def verdict_of(tx: ChainTransaction) -> Verdict:
    """What happened to the value of ``tx``'s incoming internal message (see module doc)."""
    message = tx.in_msg
    if message is not None and message.bounced:
        return Verdict.BOUNCED
    if tx.bounce_phase or any(out.bounced for out in tx.out_msgs):
        return Verdict.BOUNCED_BACK
    if tx.compute_skipped_reason is not None:
        kept = tx.compute_skipped_reason in KEPT_WITHOUT_CODE and not tx.out_msgs
        return Verdict.OK if kept else Verdict.FAILED
    if tx.aborted or not tx.compute_success or tx.action_success is False:
        return Verdict.FAILED
    return Verdict.OK


def incoming_transfer(tx: ChainTransaction) -> IncomingTransfer | None:
    """The incoming internal transfer of ``tx``, or ``None`` when it has none."""
    message = tx.in_msg
    if message is None or message.source is None or message.value is None:
        return None
    return IncomingTransfer(
        tx_hash=tx.hash_hex,
        lt=tx.lt,
        utime=tx.utime,
        source=message.source,
        amount=message.value,
        comment=message.comment,
        verdict=verdict_of(tx),
    )
