"""toncenter's HTTP API over the in-memory chain: ``/api/v2`` (JSON-RPC-ish) and ``/api/v3``.

Shapes follow toncenter: v2 answers ``{"ok": true, "result": ...}`` or ``{"ok": false, "error",
"code"}``; v3 answers the object itself or ``{"error": "..."}``. v3 addresses are raw upper-case
(``0:ABC...``) with an ``address_book`` of user-friendly forms; hashes are standard base64;
64-bit numbers are strings. ``X-API-Key`` (or ``?api_key=``) is checked when the server has a key;
over the configured rate every route answers 429.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pytoniq_core.crypto.crc import crc16

from devtools.ton import cells
from devtools.ton.chain import Chain, ChainError
from devtools.ton.devnet import TonDevnet
from devtools.ton.ledger import Account, Description, Message, StateSnapshot, Transaction
from devtools.ton.wallets import WALLET_TYPE_NAMES, WalletVersion, wallet_code

router = APIRouter(include_in_schema=False)
ZERO_HASH_B64 = cells.b64(bytes(32))
SHARD = "8000000000000000"
SHARD_SEQNO_OFFSET = 7_000_000
MAX_LIMIT = 1000


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(path: str, status: int, message: str) -> JSONResponse:
    if path.startswith("/api/v2") or "/api/v2/" in path:
        return JSONResponse({"ok": False, "error": message, "code": status}, status_code=status)
    return JSONResponse({"error": message}, status_code=status)


def _devnet(request: Request) -> TonDevnet:
    devnet: TonDevnet = request.app.state.ton
    return devnet


def guard(request: Request) -> TonDevnet:
    """API key and rate limit, as toncenter applies them to every API route."""
    devnet = _devnet(request)
    settings = devnet.settings
    key = request.headers.get("x-api-key") or request.query_params.get("api_key")
    if settings.api_key is not None and key != settings.api_key:
        raise ApiError(401, "API key does not exist")
    caller = key or (request.client.host if request.client else "unknown")
    if not devnet.limiter.allow(caller, settings.rate_limit_rps, settings.rate_limit_burst):
        raise ApiError(429, "Ratelimit exceed")
    devnet.chain.advance()
    return devnet


def _ok(result: Any) -> dict[str, Any]:
    return {"ok": True, "result": result}


def _account(chain: Chain, address: str | None) -> Account:
    if not address:
        raise ApiError(422, "address is required")
    try:
        return chain.account(cells.parse_address(address))
    except ValueError as exc:
        raise ApiError(416, f"Incorrect address: {exc}") from exc


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise ApiError(422, "the body must be JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(422, "the body must be a JSON object")
    return body


# ---------------------------------------------------------------------- sending


async def _submit(request: Request, devnet: TonDevnet) -> Any:
    """sendBoc with the injected faults: lose it, refuse it, or apply it and fail the answer."""
    body = await _json_body(request)
    boc = body.get("boc")
    if not isinstance(boc, str) or not boc:
        raise ApiError(422, "boc is required")
    fault = devnet.take_fault()
    if fault == "reject":
        raise ApiError(500, "LITE_SERVER_NETWORK: injected failure, the message was not sent")
    if fault == "lose":
        message = _parse_or_400(boc)
        return message.hash, cells.normalized_external_hash(message)
    try:
        accepted = devnet.chain.submit_external(boc)
    except ChainError as exc:
        raise ApiError(exc.status, exc.message) from exc
    if fault == "apply_then_fail":
        raise ApiError(504, "LITE_SERVER_NETWORK: timeout (injected, the message WAS applied)")
    return accepted.message_hash, accepted.message_hash_norm


def _parse_or_400(boc: str) -> Any:
    try:
        return cells.parse_boc(boc)
    except cells.BocError as exc:
        raise ApiError(400, str(exc)) from exc


@router.post("/api/v2/sendBoc")
async def send_boc(request: Request) -> dict[str, Any]:
    devnet = guard(request)
    await _submit(request, devnet)
    return _ok({"@type": "ok", "@extra": _extra()})


@router.post("/api/v2/sendBocReturnHash")
async def send_boc_return_hash(request: Request) -> dict[str, Any]:
    devnet = guard(request)
    message_hash, norm = await _submit(request, devnet)
    return _ok(
        {
            "@type": "raw.extMessageInfo",
            "hash": cells.b64(message_hash),
            "hash_norm": cells.b64(norm),
        }
    )


@router.post("/api/v3/message")
async def v3_message(request: Request) -> dict[str, Any]:
    devnet = guard(request)
    message_hash, norm = await _submit(request, devnet)
    return {"message_hash": cells.b64(message_hash), "message_hash_norm": cells.b64(norm)}


# ---------------------------------------------------------------------- accounts


def _last_tx(account: Account) -> tuple[str, str]:
    last = account.last_transaction
    return (str(last.lt), cells.b64(last.hash)) if last else ("0", ZERO_HASH_B64)


def _v2_state(account: Account) -> str:
    return {"active": "active", "frozen": "frozen"}.get(account.status, "uninitialized")


def _v3_status(account: Account) -> str:
    return "uninit" if account.status == "nonexist" else account.status


@router.get("/api/v2/getWalletInformation")
async def v2_wallet_information(request: Request, address: str | None = None) -> dict[str, Any]:
    account = _account(guard(request).chain, address)
    lt, tx_hash = _last_tx(account)
    result: dict[str, Any] = {
        "wallet": account.is_wallet,
        "balance": str(account.balance),
        "account_state": _v2_state(account),
        "last_transaction_id": {"@type": "internal.transactionId", "lt": lt, "hash": tx_hash},
    }
    if account.is_wallet and account.version is not None:
        result |= {
            "wallet_type": WALLET_TYPE_NAMES[account.version],
            "seqno": account.seqno,
            "wallet_id": account.wallet_id,
        }
    return _ok(result)


@router.get("/api/v2/getAddressInformation")
async def v2_address_information(request: Request, address: str | None = None) -> dict[str, Any]:
    devnet = guard(request)
    account = _account(devnet.chain, address)
    lt, tx_hash = _last_tx(account)
    return _ok(
        {
            "@type": "raw.fullAccountState",
            "balance": str(account.balance),
            "code": _code_b64(account) or "",
            "data": _data_b64(account) or "",
            "last_transaction_id": {"@type": "internal.transactionId", "lt": lt, "hash": tx_hash},
            "block_id": _block_id(devnet.chain.final_mc_seqno),
            "frozen_hash": "",
            "sync_utime": int(devnet.chain.clock()),
            "state": _v2_state(account),
        }
    )


@router.get("/api/v2/getAddressBalance")
async def v2_address_balance(request: Request, address: str | None = None) -> dict[str, Any]:
    return _ok(str(_account(guard(request).chain, address).balance))


@router.get("/api/v2/getAddressState")
async def v2_address_state(request: Request, address: str | None = None) -> dict[str, Any]:
    return _ok(_v2_state(_account(guard(request).chain, address)))


@router.get("/api/v3/walletInformation")
@router.get("/api/v3/wallet")
async def v3_wallet_information(request: Request, address: str | None = None) -> Response:
    account = _account(guard(request).chain, address)
    lt, tx_hash = _last_tx(account)
    if account.status == "active" and not account.is_wallet:
        return JSONResponse({"error": "not a wallet"}, status_code=409)
    result: dict[str, Any] = {"balance": str(account.balance)}
    if account.is_wallet and account.version is not None:
        result |= {
            "wallet_type": WALLET_TYPE_NAMES[account.version],
            "seqno": account.seqno,
            "wallet_id": account.wallet_id,
        }
    result |= {"last_transaction_lt": lt, "last_transaction_hash": tx_hash}
    return JSONResponse(result | {"status": _v3_status(account)})


@router.get("/api/v3/addressInformation")
@router.get("/api/v3/account")
async def v3_address_information(request: Request, address: str | None = None) -> dict[str, Any]:
    account = _account(guard(request).chain, address)
    lt, tx_hash = _last_tx(account)
    return {
        "balance": str(account.balance),
        "code": _code_b64(account),
        "data": _data_b64(account),
        "last_transaction_lt": lt,
        "last_transaction_hash": tx_hash,
        "frozen_hash": None,
        "status": _v3_status(account),
    }


def _code_b64(account: Account) -> str | None:
    if not account.is_wallet or account.version is None:
        return None
    return cells.boc_b64(wallet_code(account.version))


def _data_b64(account: Account) -> str | None:
    data = account.data_cell
    return cells.boc_b64(data) if data is not None else None


# ---------------------------------------------------------------------- get methods


def _method_id(name: str) -> int:
    return (int.from_bytes(crc16(name.encode()), "big") & 0xFFFF) | 0x10000


GET_METHODS = {name: _method_id(name) for name in ("seqno", "get_public_key", "get_subwallet_id")}


def run_get_method(account: Account, method: Any) -> tuple[int, list[int]]:
    """(exit_code, integer stack) of a wallet get method, as the TVM would answer it."""
    if not account.is_wallet:
        return -13, []
    name = method
    if isinstance(method, int) or (isinstance(method, str) and method.isdigit()):
        by_id = {v: k for k, v in GET_METHODS.items()}
        name = by_id.get(int(method), "")
    if name == "seqno":
        return 0, [account.seqno]
    if name == "get_public_key":
        return 0, [int.from_bytes(account.public_key, "big")]
    if name == "get_subwallet_id" and account.version is not WalletVersion.V3R2:
        return 0, [account.wallet_id]
    return 11, []


@router.post("/api/v2/runGetMethod")
async def v2_run_get_method(request: Request) -> dict[str, Any]:
    devnet = guard(request)
    body = await _json_body(request)
    account = _account(devnet.chain, body.get("address"))
    exit_code, stack = run_get_method(account, body.get("method"))
    return _ok(
        {
            "@type": "smc.runResult",
            "gas_used": 0 if exit_code else 600,
            "stack": [["num", hex(value)] for value in stack],
            "exit_code": exit_code,
            "@extra": _extra(),
        }
    )


@router.post("/api/v3/runGetMethod")
async def v3_run_get_method(request: Request) -> dict[str, Any]:
    devnet = guard(request)
    body = await _json_body(request)
    if not body.get("method"):
        raise ApiError(401, "method is required")
    account = _account(devnet.chain, body.get("address"))
    exit_code, stack = run_get_method(account, body.get("method"))
    return {
        "gas_used": 0 if exit_code else 600,
        "exit_code": exit_code,
        "stack": [{"type": "num", "value": hex(value)} for value in stack],
    }


# ---------------------------------------------------------------------- transactions


def _int_param(request: Request, name: str, default: int | None = None) -> int | None:
    value = request.query_params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ApiError(422, f"{name} must be an integer") from exc


def _paging(request: Request) -> tuple[int, int, bool]:
    """``(limit, offset, ascending)`` as toncenter validates them."""
    limit = _int_param(request, "limit", 10) or 10
    offset = _int_param(request, "offset", 0) or 0
    if not 1 <= limit <= MAX_LIMIT or offset < 0:
        raise ApiError(422, f"limit must be 1..{MAX_LIMIT} and offset >= 0")
    sort = request.query_params.get("sort", "desc")
    if sort not in ("asc", "desc"):
        raise ApiError(422, "sort must be asc or desc")
    return limit, offset, sort == "asc"


def _page(request: Request, txs: list[Transaction]) -> list[Transaction]:
    return _window(request, txs, 0, len(txs))


def _window(request: Request, txs: list[Transaction], lo: int, hi: int) -> list[Transaction]:
    """One page of ``txs[lo:hi]`` (in lt order) without copying the rest."""
    limit, offset, ascending = _paging(request)
    if ascending:
        return txs[lo + offset : min(hi, lo + offset + limit)]
    end = hi - offset
    return txs[max(lo, end - limit) : end][::-1] if end > lo else []


def _filters(request: Request, txs: list[Transaction]) -> list[Transaction]:
    start_utime, end_utime = _int_param(request, "start_utime"), _int_param(request, "end_utime")
    lt = _int_param(request, "lt")
    tx_hash = request.query_params.get("hash")
    wanted = _hash_param(tx_hash) if tx_hash else None
    return [
        tx
        for tx in txs
        if (start_utime is None or tx.now >= start_utime)
        and (end_utime is None or tx.now <= end_utime)
        and (lt is None or tx.lt == lt)
        and (wanted is None or tx.hash == wanted)
    ]


def _hash_param(value: str) -> bytes:
    try:
        return bytes.fromhex(value) if len(value) == 64 else cells.parse_b64_hash(value)
    except ValueError as exc:
        raise ApiError(422, f"invalid hash {value!r}") from exc


@router.get("/api/v3/transactions")
async def v3_transactions(request: Request) -> JSONResponse:
    chain = guard(request).chain
    start_lt, end_lt = _int_param(request, "start_lt"), _int_param(request, "end_lt")
    accounts = [_account(chain, address) for address in request.query_params.getlist("account")]
    filtered = any(request.query_params.get(k) for k in ("start_utime", "end_utime", "lt", "hash"))
    if len(accounts) <= 1 and not filtered:  # the common case: a page by lt, no scan
        txs, lo, hi = chain.lt_range(accounts[0] if accounts else None, start_lt, end_lt)
        return JSONResponse(render_transactions(chain, _window(request, txs, lo, hi)))
    merged: list[Transaction] = []
    scopes: list[Account | None] = list(accounts) or [None]
    for scope in scopes:
        txs, lo, hi = chain.lt_range(scope, start_lt, end_lt)
        merged.extend(txs[lo:hi])
    merged.sort(key=lambda tx: tx.lt)
    return JSONResponse(render_transactions(chain, _page(request, _filters(request, merged))))


@router.get("/api/v3/transactionsByMessage")
async def v3_transactions_by_message(request: Request) -> JSONResponse:
    chain = guard(request).chain
    msg_hash = request.query_params.get("msg_hash")
    if not msg_hash:
        raise ApiError(422, "msg_hash is required")
    direction = request.query_params.get("direction")
    found = [
        tx
        for tx, way in chain.by_message.get(_hash_param(msg_hash), [])
        if (direction is None or way == direction) and chain.visible(tx)
    ]
    return JSONResponse(
        render_transactions(chain, _page(request, sorted(found, key=lambda t: t.lt)))
    )


@router.get("/api/v3/pendingTransactions")
async def v3_pending_transactions(request: Request) -> JSONResponse:
    chain = guard(request).chain
    addresses = request.query_params.getlist("account")
    if not addresses:
        raise ApiError(422, "at least 1 account address required")
    accounts = [_account(chain, address) for address in addresses]
    return JSONResponse(render_transactions(chain, chain.pending_transactions(accounts)))


@router.get("/api/v3/masterchainInfo")
async def v3_masterchain_info(request: Request) -> dict[str, Any]:
    chain = guard(request).chain
    last = chain.final_mc_seqno
    return {"first": _block(chain, 1), "last": _block(chain, last)}


def _block(chain: Chain, seqno: int) -> dict[str, Any]:
    return {
        "workchain": -1,
        "shard": "8000000000000000",
        "seqno": seqno,
        "root_hash": cells.b64(seqno.to_bytes(32, "big")),
        "file_hash": cells.b64(seqno.to_bytes(32, "little")),
        "gen_utime": str(int(chain.clock())),
    }


def _block_id(seqno: int) -> dict[str, Any]:
    return {
        "@type": "ton.blockIdExt",
        "workchain": -1,
        "shard": "-9223372036854775808",
        "seqno": seqno,
        "root_hash": ZERO_HASH_B64,
        "file_hash": ZERO_HASH_B64,
    }


def _extra() -> str:
    """toncenter's request tag: time, a counter and a random fraction."""
    return f"{time.time():.6f}:0:{random.random()}"


# ---------------------------------------------------------------------- rendering


def render_transactions(chain: Chain, txs: Iterable[Transaction]) -> dict[str, Any]:
    """The v3 page; routes wrap it in ``JSONResponse`` (FastAPI's encoder is 10x slower)."""
    rendered, seen = [], set()
    for tx in txs:
        rendered.append(render_transaction(chain, tx))
        seen.add(tx.account.raw)
        for message in ([tx.in_msg] if tx.in_msg else []) + tx.out_msgs:
            seen.update(a for a in (message.source, message.destination) if a)
    return {"transactions": rendered, "address_book": address_book(chain, seen)}


def address_book(chain: Chain, raws: Iterable[str]) -> dict[str, Any]:
    """toncenter's rule: wallets and code-less accounts non-bounceable, contracts bounceable."""
    testnet = chain.settings.network == "testnet"
    book = {}
    for raw in raws:
        account = chain.account(cells.parse_address(raw))
        bounceable = account.code_hash is not None and not account.is_wallet
        friendly = account.address.to_str(is_bounceable=bounceable, is_test_only=testnet)
        book[raw] = {"user_friendly": friendly, "domain": None}
    return book


def render_transaction(chain: Chain, tx: Transaction) -> dict[str, Any]:
    final = chain.is_final(tx)
    return {
        "account": tx.account.raw,
        "hash": cells.b64(tx.hash),
        "lt": str(tx.lt),
        "now": tx.now,
        "mc_block_seqno": tx.mc_seqno if final else None,
        "prev_trans_hash": cells.b64(tx.prev_hash),
        "prev_trans_lt": str(tx.prev_lt),
        "orig_status": tx.orig_status,
        "end_status": tx.end_status,
        "total_fees": str(tx.total_fees),
        "total_fees_extra_currencies": {},
        "description": render_description(tx.description, tx.in_msg),
        "block_ref": (
            {"workchain": 0, "shard": SHARD, "seqno": tx.mc_seqno + SHARD_SEQNO_OFFSET}
            if tx.mc_seqno is not None
            else None
        ),
        "in_msg": render_message(tx.in_msg) if tx.in_msg else None,
        "out_msgs": [render_message(message) for message in tx.out_msgs],
        "account_state_before": render_state(tx.before),
        "account_state_after": render_state(tx.after),
        "emulated": False,
    }


def render_message(message: Message) -> dict[str, Any]:
    external = message.is_external
    decoded = (
        {"type": "text_comment", "comment": message.comment}
        if message.comment is not None
        else None
    )
    init = None
    if message.init_boc is not None and message.init_hash is not None:
        init = {"hash": cells.b64(message.init_hash), "body": cells.b64(message.init_boc)}
    return {
        "hash": cells.b64(message.hash),
        "source": message.source,
        "destination": message.destination,
        "value": None if external else str(message.value),
        "value_extra_currencies": None if external else {},
        "fwd_fee": None if external else str(message.fwd_fee),
        "ihr_fee": None if external else "0",
        "created_lt": None if external else str(message.created_lt),
        "created_at": None if external else str(message.created_at),
        "opcode": f"0x{message.opcode:08x}" if message.opcode is not None else None,
        "ihr_disabled": None if external else True,
        "bounce": message.bounce,
        "bounced": message.bounced,
        "import_fee": str(message.import_fee) if external else None,
        "message_content": {
            "hash": cells.b64(message.body_hash),
            "body": cells.b64(message.body_boc),
            "decoded": decoded,
        },
        "init_state": init,
    }


def render_state(state: StateSnapshot) -> dict[str, Any]:
    return {
        "hash": cells.b64(state.hash),
        "balance": str(state.balance),
        "extra_currencies": {},
        "account_status": state.status,
        "frozen_hash": None,
        "data_hash": cells.b64(state.data_hash) if state.data_hash else None,
        "code_hash": cells.b64(state.code_hash) if state.code_hash else None,
    }


def render_description(descr: Description, in_msg: Message | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "type": "ord",
        "aborted": descr.aborted,
        "destroyed": False,
        "credit_first": descr.credit_first,
        "storage_ph": {"storage_fees_collected": "0", "status_change": "unchanged"},
    }
    if descr.credit is not None:
        result["credit_ph"] = {"credit": str(descr.credit)}
    result["compute_ph"] = _compute(descr)
    if descr.action is not None:
        result["action"] = _action(descr)
    if descr.bounce is not None:
        bounce = descr.bounce
        result["bounce"] = {
            "type": bounce.kind,
            "msg_size": {"cells": str(bounce.cells), "bits": str(bounce.bits)},
            "msg_fees": str(bounce.msg_fees),
            "fwd_fees": str(bounce.fwd_fees),
        }
    return result


def _compute(descr: Description) -> dict[str, Any]:
    compute = descr.compute
    if compute.skipped_reason is not None:
        return {"skipped": True, "reason": compute.skipped_reason}
    result = {
        "skipped": False,
        "success": compute.success,
        "msg_state_used": compute.msg_state_used,
        "account_activated": compute.account_activated,
        "gas_fees": str(compute.gas_fees),
        "gas_used": str(compute.gas_used),
        "gas_limit": "0" if compute.external else str(compute.gas_used * 10),
        "gas_credit": "10000" if compute.external else None,
        "mode": 0,
        "exit_code": compute.exit_code,
        "vm_steps": compute.gas_used // 30 or 1,
        "vm_init_state_hash": ZERO_HASH_B64,
        "vm_final_state_hash": ZERO_HASH_B64,
    }
    return {key: value for key, value in result.items() if value is not None}


def _action(descr: Description) -> dict[str, Any]:
    action = descr.action
    assert action is not None
    return {
        "success": action.success,
        "valid": True,
        "no_funds": action.no_funds,
        "status_change": "unchanged",
        "total_fwd_fees": str(action.total_fwd_fees),
        "total_action_fees": str(action.total_action_fees),
        "result_code": action.result_code,
        "tot_actions": action.tot_actions,
        "spec_actions": 0,
        "skipped_actions": action.skipped_actions,
        "msgs_created": action.msgs_created,
        "action_list_hash": cells.b64(action.action_list_hash),
        "tot_msg_size": {"cells": str(action.msgs_created), "bits": str(action.msgs_created * 700)},
    }
