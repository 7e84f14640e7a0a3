"""Transactions in toncenter's v3 JSON shape (``GET /api/v3/transactions``), built field by
field as toncenter documents and sends them: raw upper-case addresses, base64 hashes, 64-bit
numbers as strings, ``mc_block_seqno`` null until final. Used by unit tests of the parser and
the verdict rule."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any

from core.ton.messages import comment_payload

MERCHANT = "0:" + "AB" * 32
FAN = "0:" + "CD" * 32


def b64_hash(seed: str) -> str:
    return base64.b64encode(hashlib.sha256(seed.encode()).digest()).decode()


def message(
    *,
    source: str | None,
    destination: str | None,
    value: int | None,
    comment: str | None = None,
    bounce: bool = False,
    bounced: bool = False,
    decoded: bool = True,
    seed: str = "m",
) -> dict[str, Any]:
    body = comment_payload(comment) if comment is not None else "te6cckEBAQEAAgAAAEysuc0="
    content: dict[str, Any] = {"hash": b64_hash(seed + "body"), "body": body, "decoded": None}
    if comment is not None and decoded:
        content["decoded"] = {"type": "text_comment", "comment": comment}
    return {
        "hash": b64_hash(seed),
        "source": source,
        "destination": destination,
        "value": str(value) if value is not None else None,
        "fwd_fee": "266669" if source else None,
        "ihr_fee": "0" if source else None,
        "created_lt": "47000000000001" if source else None,
        "created_at": "1764000000" if source else None,
        "opcode": "0x00000000" if comment is not None else None,
        "ihr_disabled": True if source else None,
        "bounce": bounce,
        "bounced": bounced,
        "import_fee": None if source else "0",
        "message_content": content,
        "init_state": None,
    }


def transaction(
    lt: int,
    *,
    amount: int = 1_000_000_000,
    comment: str | None = "atl-abc",
    final: bool = True,
    aborted: bool = False,
    compute: dict[str, Any] | None = None,
    bounce_phase: bool = False,
    in_bounced: bool = False,
    out_msgs: list[dict[str, Any]] | None = None,
    decoded: bool = True,
    external: bool = False,
    now: int | None = None,
) -> dict[str, Any]:
    seed = f"tx{lt}"
    in_msg = (
        message(source=None, destination=MERCHANT, value=None, seed=seed + "in")
        if external
        else message(
            source=FAN,
            destination=MERCHANT,
            value=amount,
            comment=comment,
            bounced=in_bounced,
            decoded=decoded,
            seed=seed + "in",
        )
    )
    description: dict[str, Any] = {
        "type": "ord",
        "aborted": aborted,
        "destroyed": False,
        "credit_first": True,
        "storage_ph": {"storage_fees_collected": "0", "status_change": "unchanged"},
        "credit_ph": {"credit": str(amount)},
        "compute_ph": compute
        or {"skipped": False, "success": True, "exit_code": 0, "gas_used": "309"},
        "action": {"success": True, "valid": True, "no_funds": False, "result_code": 0},
    }
    if bounce_phase:
        description["bounce"] = {"type": "ok", "msg_fees": "0", "fwd_fees": "0"}
    return {
        "account": MERCHANT,
        "hash": b64_hash(seed),
        "lt": str(lt),
        "now": int(time.time()) if now is None else now,
        "mc_block_seqno": 40_000_100 if final else None,
        "orig_status": "active",
        "end_status": "active",
        "total_fees": "123",
        "description": description,
        "in_msg": in_msg,
        "out_msgs": out_msgs or [],
        "emulated": False,
    }


def page(*txs: dict[str, Any]) -> dict[str, Any]:
    return {"transactions": list(txs), "address_book": {}}
