"""A TON Connect wallet that joins the stand-in's bridge: connect links, proofs, transactions.

Given a universal link (``tc://?v=2&id=<app key>&r=<request>``, the https form, or the
``startattach=tonconnect-...`` Telegram form) it opens a session with its own NaCl key pair,
reads the app's manifest for the domain, and answers ``connect`` with ``ton_addr`` and, when
asked, a ``ton_proof`` signed for real. ``sendTransaction`` requests are approved, rejected or
held for a person (``policy`` per wallet: ``manual`` by default); an approved one is signed and
submitted to the chain through the same path as sendBoc, and the external message BoC goes back
to the app, as a wallet app does.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from nacl.public import Box, PrivateKey, PublicKey
from pytoniq_core.boc.address import Address

from devtools.ton import cells
from devtools.ton.bridge import BridgeMessage
from devtools.ton.chain import ChainError
from devtools.ton.proof import address_item, connect_item
from devtools.ton.wallets import MAX_MESSAGES, TestWallet, Transfer, network_global_id

if TYPE_CHECKING:
    from devtools.ton.devnet import TonDevnet

log = logging.getLogger(__name__)
POLICIES = ("manual", "approve", "reject")
BAD_REQUEST, MANIFEST_NOT_FOUND, MANIFEST_CONTENT, USER_DECLINED, NOT_SUPPORTED = 1, 2, 3, 300, 400
APP_NAME = "AtelierTestWallet"


class ConnectError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class ConnectLink:
    client_id: str
    request: dict[str, Any]
    return_strategy: str | None


def parse_universal_link(link: str) -> ConnectLink:
    """The app's session key and connect request from any form of universal link."""
    parts = urllib.parse.urlsplit(link.strip())
    query = urllib.parse.parse_qs(parts.query)
    if "startattach" in query and query["startattach"][0].startswith("tonconnect-"):
        query = urllib.parse.parse_qs(_untelegram(query["startattach"][0]))
    try:
        if query.get("v", ["2"])[0] != "2":
            raise ValueError("only protocol version 2 is supported")
        client_id = query["id"][0].lower()
        request = json.loads(query["r"][0])
    except (KeyError, IndexError, ValueError) as exc:
        raise ConnectError(400, f"not a TON Connect link: {exc}") from exc
    if not isinstance(request, dict) or "manifestUrl" not in request:
        raise ConnectError(400, "the connect request has no manifestUrl")
    return ConnectLink(client_id, request, query.get("ret", [None])[0])


def _untelegram(start: str) -> str:
    """Undo the Telegram start-parameter escaping (``-`` for ``&``, ``__`` for ``=``...)."""
    params = start.removeprefix("tonconnect-")
    return params.replace("--", "%").replace("__", "=").replace("-", "&")


@dataclass
class Session:
    """One app connection: the wallet's session key pair and the app's public key."""

    id: str
    key: PrivateKey
    app_id: str
    wallet: TestWallet
    domain: str
    manifest_url: str
    app_name: str | None
    connected_at: float = field(default_factory=time.time)

    def seal(self, payload: dict[str, Any]) -> str:
        box = Box(self.key, PublicKey(bytes.fromhex(self.app_id)))
        nonce = secrets.token_bytes(Box.NONCE_SIZE)
        encrypted = box.encrypt(json.dumps(payload).encode(), nonce)
        return base64.b64encode(nonce + encrypted.ciphertext).decode()

    def open(self, message: str) -> dict[str, Any]:
        raw = base64.b64decode(message)
        box = Box(self.key, PublicKey(bytes.fromhex(self.app_id)))
        data = json.loads(box.decrypt(raw[Box.NONCE_SIZE :], raw[: Box.NONCE_SIZE]))
        if not isinstance(data, dict):
            raise ValueError("a request is a JSON object")
        return data


@dataclass
class PendingRequest:
    """A ``sendTransaction`` waiting for someone to approve or reject it."""

    id: str
    session: Session
    rpc_id: Any
    params: dict[str, Any]
    transfers: list[Transfer]
    valid_until: int | None
    received_at: float = field(default_factory=time.time)


class WalletConnector:
    """The test wallets' TON Connect side; one per ``TonDevnet``."""

    def __init__(self, devnet: TonDevnet) -> None:
        self.devnet = devnet
        self.sessions: dict[str, Session] = {}
        self.pending: dict[str, PendingRequest] = {}
        self.policies: dict[str, str] = {}
        self._event_id = int(time.time())
        self._changed = asyncio.Condition()

    # ------------------------------------------------------------------ connecting

    async def connect(
        self,
        wallet: TestWallet,
        link: str,
        *,
        domain: str | None = None,
        timestamp: int | None = None,
        reject: bool = False,
    ) -> tuple[Session | None, dict[str, Any]]:
        """Answer the link's connect request as ``wallet``; returns the session and the event."""
        parsed = parse_universal_link(link)
        manifest_url = str(parsed.request["manifestUrl"])
        key = PrivateKey.generate()
        session = Session(
            bytes(key.public_key).hex(), key, parsed.client_id, wallet, "", manifest_url, None
        )
        if reject:
            return None, self._send_event(session, _connect_error(USER_DECLINED, "User declined"))
        try:
            session.domain, session.app_name = await self._app_identity(manifest_url, domain)
        except ConnectError as exc:
            return None, self._send_event(session, _connect_error(exc.status, exc.message))
        items = [address_item(wallet, self.devnet.settings.network)]
        for item in parsed.request.get("items", []):
            if isinstance(item, dict) and item.get("name") == "ton_proof":
                payload = str(item.get("payload", ""))
                items.append(connect_item(wallet, session.domain, payload, timestamp))
        event = {"event": "connect", "payload": {"items": items, "device": _device(wallet)}}
        self.sessions[session.id] = session
        self.devnet.bridge.attach(session.id, lambda item: self._receive(session, item))
        return session, self._send_event(session, event)

    async def _app_identity(self, manifest_url: str, domain: str | None) -> tuple[str, str | None]:
        """The app's domain (the host of its manifest's ``url``) and name."""
        if domain is not None:
            return domain, None
        try:
            async with httpx.AsyncClient(timeout=self.devnet.settings.manifest_timeout) as http:
                response = await http.get(manifest_url)
            response.raise_for_status()
            manifest = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ConnectError(MANIFEST_NOT_FOUND, f"App manifest not found: {exc}") from exc
        url = manifest.get("url") if isinstance(manifest, dict) else None
        host = urllib.parse.urlsplit(url).netloc if isinstance(url, str) else ""
        if not host:
            raise ConnectError(MANIFEST_CONTENT, "App manifest content error: no url")
        return host, manifest.get("name")

    def _send_event(self, session: Session, event: dict[str, Any]) -> dict[str, Any]:
        self._event_id += 1
        event = {**event, "id": self._event_id}
        self.devnet.bridge.publish(session.id, session.app_id, session.seal(event), ttl=300)
        return event

    def _reply(self, session: Session, payload: dict[str, Any]) -> None:
        self.devnet.bridge.publish(session.id, session.app_id, session.seal(payload), ttl=300)

    # ------------------------------------------------------------------ requests from apps

    async def _receive(self, session: Session, item: BridgeMessage) -> None:
        if item.sender != session.app_id:
            return  # not our app: a real wallet ignores it too
        try:
            request = session.open(item.message)
        except Exception:
            log.warning("ton wallet: undecryptable bridge message for session %s", session.id)
            return
        method, rpc_id = request.get("method"), request.get("id")
        if method == "disconnect":
            self._reply(session, {"id": rpc_id, "result": {}})
            self._drop(session)
        elif method == "sendTransaction":
            await self._transaction_request(session, rpc_id, request.get("params"))
        else:
            self._reply(session, _rpc_error(rpc_id, NOT_SUPPORTED, f"{method} is not supported"))

    async def _transaction_request(self, session: Session, rpc_id: Any, params: Any) -> None:
        try:
            request = _transaction_params(session, params, self.devnet.settings.network)
        except ConnectError as exc:
            self._reply(session, _rpc_error(rpc_id, exc.status, exc.message))
            return
        transfers, valid_until = request
        pending = PendingRequest(
            secrets.token_hex(8), session, rpc_id, json.loads(params[0]), transfers, valid_until
        )
        policy = self.policies.get(session.wallet.raw_address, "manual")
        if policy == "approve":
            with contextlib.suppress(ConnectError):  # the app was already told why
                self.approve_pending(pending)
        elif policy == "reject":
            self._reply(session, _rpc_error(rpc_id, USER_DECLINED, "User declined the transaction"))
        else:
            self.pending[pending.id] = pending
            async with self._changed:
                self._changed.notify_all()

    def approve(self, request_id: str) -> dict[str, Any]:
        return self.approve_pending(self._take(request_id))

    def approve_pending(self, pending: PendingRequest) -> dict[str, Any]:
        """Sign, submit, and send the app the external message BoC (or the chain's refusal)."""
        session = pending.session
        try:
            message, accepted = self.devnet.transfer(
                session.wallet, pending.transfers, pending.valid_until
            )
        except ChainError as exc:
            self._reply(session, _rpc_error(pending.rpc_id, 0, exc.message))
            raise ConnectError(409, exc.message) from exc
        boc = cells.boc_b64(message)
        self._reply(session, {"id": pending.rpc_id, "result": boc})
        return {
            "boc": boc,
            "message_hash": cells.b64(accepted.message_hash),
            "transaction_hash": cells.b64(accepted.transaction.hash),
            "lt": str(accepted.transaction.lt),
        }

    def reject(
        self, request_id: str, code: int = USER_DECLINED, message: str = "User declined"
    ) -> None:
        pending = self._take(request_id)
        self._reply(pending.session, _rpc_error(pending.rpc_id, code, message))

    def _take(self, request_id: str) -> PendingRequest:
        pending = self.pending.pop(request_id, None)
        if pending is None:
            raise ConnectError(404, f"no pending request {request_id}")
        return pending

    def requests(self, wallet: TestWallet | None = None) -> list[PendingRequest]:
        return [p for p in self.pending.values() if wallet is None or p.session.wallet == wallet]

    async def wait_for_requests(self, wallet: TestWallet, within: float) -> list[PendingRequest]:
        """Pending requests for ``wallet``, waiting up to ``within`` seconds for the first."""
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._changed.wait_for(lambda: bool(self.requests(wallet))), within
                )
        return self.requests(wallet)

    # ------------------------------------------------------------------ sessions

    def set_policy(self, wallet: TestWallet, policy: str) -> None:
        if policy not in POLICIES:
            raise ConnectError(400, f"policy must be one of {', '.join(POLICIES)}")
        self.policies[wallet.raw_address] = policy

    def disconnect(self, session_id: str) -> None:
        """The wallet ends the session and tells the app (a ``disconnect`` event)."""
        session = self.sessions.get(session_id)
        if session is None:
            raise ConnectError(404, f"no session {session_id}")
        self._send_event(session, {"event": "disconnect", "payload": {}})
        self._drop(session)

    def _drop(self, session: Session) -> None:
        self.sessions.pop(session.id, None)
        self.devnet.bridge.detach(session.id)
        for request_id in [k for k, p in self.pending.items() if p.session is session]:
            self.pending.pop(request_id)

    async def close(self) -> None:
        for session in list(self.sessions.values()):
            self._drop(session)


def _device(wallet: TestWallet) -> dict[str, Any]:
    return {
        "platform": "linux",
        "appName": APP_NAME,
        "appVersion": "1.0.0",
        "maxProtocolVersion": 2,
        "features": [
            "SendTransaction",
            {"name": "SendTransaction", "maxMessages": MAX_MESSAGES[wallet.version]},
        ],
    }


def _connect_error(code: int, message: str) -> dict[str, Any]:
    return {"event": "connect_error", "payload": {"code": code, "message": message}}


def _rpc_error(rpc_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"id": rpc_id, "error": {"code": code, "message": message}}


def _transaction_params(
    session: Session, params: Any, network: str
) -> tuple[list[Transfer], int | None]:
    """Validate a sendTransaction request as a wallet app does; raises ``ConnectError(1)``."""
    try:
        request = json.loads(params[0])
        messages = request["messages"]
    except (TypeError, IndexError, KeyError, ValueError) as exc:
        raise ConnectError(BAD_REQUEST, f"malformed sendTransaction params: {exc}") from exc
    valid_until = request.get("valid_until")
    if valid_until is not None and int(valid_until) <= int(time.time()):
        raise ConnectError(BAD_REQUEST, "the request expired (valid_until is in the past)")
    if request.get("network") not in (None, str(network_global_id(network))):
        raise ConnectError(BAD_REQUEST, f"wrong network {request.get('network')}")
    sender = request.get("from")
    if sender and cells.to_raw(_address(sender)) != cells.to_raw(session.wallet.address):
        raise ConnectError(BAD_REQUEST, "from is not the connected wallet")
    if (
        not isinstance(messages, list)
        or not 0 < len(messages) <= MAX_MESSAGES[session.wallet.version]
    ):
        raise ConnectError(BAD_REQUEST, "messages must be a non-empty list the wallet can send")
    transfers = [_transfer(message) for message in messages]
    return transfers, int(valid_until) if valid_until is not None else None


def _transfer(message: Any) -> Transfer:
    try:
        destination = str(message["address"])
        amount = int(message["amount"])
        payload = message.get("payload")
        state_init = message.get("stateInit") or message.get("state_init")
        body = cells.parse_boc(payload) if payload else None
        init = cells.parse_boc(state_init) if state_init else None
        bounceable = cells.is_bounceable_form(destination)
    except (TypeError, KeyError, ValueError) as exc:
        raise ConnectError(BAD_REQUEST, f"bad message in sendTransaction: {exc}") from exc
    if amount < 0:
        raise ConnectError(BAD_REQUEST, "amount must not be negative")
    return Transfer(
        _address(destination),
        amount,
        bounce=True if bounceable is None else bounceable,
        body=body,
        state_init=init,
    )


def _address(text: str) -> Address:
    try:
        return cells.parse_address(text)
    except ValueError as exc:
        raise ConnectError(BAD_REQUEST, str(exc)) from exc
