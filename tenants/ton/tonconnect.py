"""pytonconnect 0.4, made safe for a server that talks to many fans at once.

pytonconnect is written for one app on one machine. Three of its habits would hurt a bot:

* its wallet-list fetch is a *synchronous* HTTP GET on the event loop — we never call it:
  :func:`load_wallet_apps` reads ``TON_CONNECT_WALLETS_URL`` with an async client and a short
  timeout, caches the list in Redis, and falls back to :data:`WELL_KNOWN_WALLETS`;
* when the bridge is unreachable its SSE listener re-registers itself ~35 times a second, each
  with a traceback, until ``close_connection()`` — :class:`GuardedBridgeGateway` waits between
  attempts (exponential back-off) and gives up after ``max_failures`` failures in a row;
* its session (with the session's *secret key*) lives in an ``IStorage`` — ours is
  :class:`RedisConnectStorage`: one Redis hash per session, every value encrypted with
  :mod:`core.crypto`, with a TTL, so any process can pick a session up.

:class:`ChatTonConnect` adds what a chat flow needs on top of ``TonConnect``:
``prepare()`` makes the universal link *without* opening the bridge (the webhook handler
never waits on the network), ``resume_pending()`` picks a link made elsewhere back up from
Redis (pytonconnect's ``restore_connection`` only restores finished connections), and
:attr:`ChatTonConnect.event` resolves with the wallet's raw answer — pytonconnect's own error
mapping reads the wrong field and maps "user declined" to ``ManifestNotFoundError`` (and
raises it inside its listener), so we read the answer ourselves.

Private pytonconnect names this module relies on (pinned to 0.4 in ``pyproject.toml``):
``BridgeProvider._open_gateways``/``_session``/``_wallet``/``_storage``/``_api_tokens``/
``_gateway_listener``, ``BridgeGateway._is_closed``, ``TonConnect._create_provider``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from pytonconnect import TonConnect
from pytonconnect.provider import BridgeProvider
from pytonconnect.provider._bridge_gateway import BridgeGateway
from pytonconnect.provider._bridge_session import BridgeSession
from pytonconnect.storage import IStorage
from redis.asyncio import Redis

from core.crypto import DecryptionError, decrypt, encrypt
from core.settings import Settings
from core.ton.proof import TonProofClaim

logger = logging.getLogger(__name__)

WALLETS_CACHE_KEY = "ton:connect:wallets"
WALLETS_CACHE_TTL_S = 3600
WALLETS_FAILURE_TTL_S = 60  # a failed fetch is not retried on every /wallet for a minute
WALLETS_FETCH_TIMEOUT_S = 3.0
MAX_WALLET_APPS = 6  # buttons in the chat


@dataclass(frozen=True, slots=True)
class WalletApp:
    """A wallet reachable over the HTTP bridge: what ``TonConnect.connect(wallet)`` takes."""

    app_name: str
    name: str
    universal_url: str
    bridge_url: str

    def pytonconnect(self) -> dict[str, str]:
        return {
            "name": self.name,
            "app_name": self.app_name,
            "universal_url": self.universal_url,
            "bridge_url": self.bridge_url,
        }


WELL_KNOWN_WALLETS: tuple[WalletApp, ...] = (
    WalletApp(
        "telegram-wallet",
        "Wallet",
        "https://t.me/wallet?attach=wallet",
        "https://walletbot.me/tonconnect-bridge/bridge",
    ),
    WalletApp(
        "tonkeeper",
        "Tonkeeper",
        "https://app.tonkeeper.com/ton-connect",
        "https://bridge.tonapi.io/bridge",
    ),
    WalletApp(
        "mytonwallet",
        "MyTonWallet",
        "https://connect.mytonwallet.org",
        "https://tonconnectbridge.mytonwallet.org/bridge/",
    ),
    WalletApp(
        "tonhub",
        "Tonhub",
        "https://tonhub.com/ton-connect",
        "https://connect.tonhubapi.com/tonconnect",
    ),
)
"""Used when ``TON_CONNECT_WALLETS_URL`` is unset or unreachable (as of 2026-11)."""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def parse_wallets_list(data: Any) -> list[WalletApp]:
    """Entries of a ``wallets-v2.json`` that a server can reach: an SSE bridge and a universal
    link (JS-bridge-only wallets live in browsers); at most :data:`MAX_WALLET_APPS`."""
    apps: list[WalletApp] = []
    for item in _list(data):
        entry = _dict(item)
        bridges = [_dict(b) for b in _list(entry.get("bridge"))]
        sse = next((b.get("url") for b in bridges if b.get("type") == "sse"), None)
        universal, name = entry.get("universal_url"), entry.get("name")
        app_name = entry.get("app_name") or name
        if not all(isinstance(v, str) and v for v in (sse, universal, name, app_name)):
            continue
        if len(str(app_name).encode()) > 40:  # it travels in callback data (64 bytes)
            continue
        apps.append(WalletApp(str(app_name), str(name), str(universal), str(sse)))
        if len(apps) == MAX_WALLET_APPS:
            break
    return apps


async def load_wallet_apps(redis: Redis, settings: Settings) -> list[WalletApp]:
    """The wallets to offer: the configured list (cached in Redis), else the well-known ones.

    Never blocks the loop: an async fetch with a short timeout, once an hour per deployment.
    """
    url = settings.ton_connect_wallets_url
    if not url:
        return list(WELL_KNOWN_WALLETS)
    cached = await redis.get(WALLETS_CACHE_KEY)
    if cached is not None:
        apps = parse_wallets_list(json.loads(cached))
        return apps or list(WELL_KNOWN_WALLETS)
    try:
        async with httpx.AsyncClient(timeout=WALLETS_FETCH_TIMEOUT_S) as client:
            response = await client.get(url)
            response.raise_for_status()
            data = response.json()
        ttl = WALLETS_CACHE_TTL_S if parse_wallets_list(data) else WALLETS_FAILURE_TTL_S
    except (httpx.HTTPError, ValueError) as exc:
        logger.warning("TON Connect wallets list unavailable (%s); using the built-in list", exc)
        data, ttl = [], WALLETS_FAILURE_TTL_S
    await redis.set(WALLETS_CACHE_KEY, json.dumps(data), ex=ttl)
    return parse_wallets_list(data) or list(WELL_KNOWN_WALLETS)


async def load_wallets_list(redis: Redis, settings: Settings) -> list[dict[str, Any]]:
    """The raw ``wallets-v2.json`` entries of ``TON_CONNECT_WALLETS_URL`` (cached like
    :func:`load_wallet_apps`), for the Mini App's TON Connect UI; empty when none is set."""
    if not settings.ton_connect_wallets_url:
        return []
    await load_wallet_apps(redis, settings)  # fills the cache (or caches the failure)
    cached = await redis.get(WALLETS_CACHE_KEY)
    return [_dict(item) for item in _list(json.loads(cached))] if cached is not None else []


def find_wallet_app(apps: list[WalletApp], app_name: str) -> WalletApp | None:
    return next((app for app in apps if app.app_name == app_name), None)


# -- storage --------------------------------------------------------------------------------------


class RedisConnectStorage(IStorage):  # type: ignore[misc]  # pytonconnect is untyped
    """pytonconnect's ``IStorage`` as one Redis hash (``key``), values encrypted, with a TTL
    refreshed on every write. The connection item holds the session's secret key."""

    def __init__(self, redis: Redis, key: str, *, secret_key: str, ttl: int) -> None:
        self.redis = redis
        self.key = key
        self.secret_key = secret_key
        self.ttl = ttl

    async def set_item(self, key: str, value: str) -> None:
        sealed = encrypt(str(value), secret_key=self.secret_key)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self.key, key, sealed)
            pipe.expire(self.key, self.ttl)
            await pipe.execute()

    async def get_item(self, key: str, default_value: str | None = None) -> str | None:
        sealed = await self.redis.hget(self.key, key)  # type: ignore[misc]
        if sealed is None:
            return default_value
        try:
            return decrypt(
                sealed.decode() if isinstance(sealed, bytes) else sealed,
                secret_key=self.secret_key,
            )
        except DecryptionError:
            logger.warning("a TON Connect session cannot be decrypted; dropping it")
            await self.redis.delete(self.key)
            return default_value

    async def remove_item(self, key: str) -> None:
        await self.redis.hdel(self.key, key)  # type: ignore[misc]

    async def keep_for(self, ttl: int) -> None:
        """Give the whole session a new lifetime (a linked wallet's session lives longer)."""
        self.ttl = ttl
        await self.redis.expire(self.key, ttl)

    async def clear(self) -> None:
        await self.redis.delete(self.key)

    async def connection(self) -> dict[str, Any]:
        raw = await self.get_item(IStorage.KEY_CONNECTION)
        try:
            value = json.loads(raw) if raw else {}
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}


# -- the bridge -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """How a bridge subscription retries: ``base_delay`` doubling up to ``max_delay`` between
    attempts, giving up after ``max_failures`` failures in a row. A connection that lived less
    than ``healthy_after`` seconds counts as a failure (a bridge that accepts and drops at once
    must not loop either)."""

    base_delay: float = 0.5
    max_delay: float = 10.0
    max_failures: int = 6
    healthy_after: float = 10.0

    def delay(self, failures: int) -> float:
        return float(min(self.base_delay * 2 ** max(failures - 1, 0), self.max_delay))


class GuardedBridgeGateway(BridgeGateway):  # type: ignore[misc]  # pytonconnect is untyped
    """pytonconnect's SSE gateway with back-off and a bound on reconnect attempts."""

    def __init__(
        self,
        *args: Any,
        policy: ReconnectPolicy,
        on_give_up: Callable[[], None],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.policy = policy
        self.on_give_up = on_give_up
        self.attempts = 0
        self.failures = 0
        self._connected_at: float | None = None

    async def register_session(
        self,
        timeout: float = BridgeGateway.DEFAULT_TIMEOUT,  # noqa: ASYNC109 - pytonconnect's
        bridge_url: str | None = None,
    ) -> bool:
        if self._is_closed:
            return False
        if self.attempts:
            self._count_previous()
            if self.failures >= self.policy.max_failures:
                logger.warning("TON Connect bridge unreachable after %d attempts", self.attempts)
                self.close()
                self.on_give_up()
                return False
            await asyncio.sleep(self.policy.delay(self.failures))
            if self._is_closed:
                return False
        self.attempts += 1
        self._connected_at = None
        connected = bool(await super().register_session(timeout, bridge_url))
        if connected:
            self._connected_at = time.monotonic()
        return connected

    def _count_previous(self) -> None:
        """A new attempt means the previous one ended: a failure unless it lived long enough."""
        lived = None if self._connected_at is None else time.monotonic() - self._connected_at
        if lived is not None and lived >= self.policy.healthy_after:
            self.failures = 0
        else:
            self.failures += 1


class ChatBridgeProvider(BridgeProvider):  # type: ignore[misc]  # pytonconnect is untyped
    """A ``BridgeProvider`` whose gateway is guarded, and that can stay off the network."""

    def __init__(
        self,
        storage: IStorage,
        wallet: dict[str, Any] | None,
        *,
        policy: ReconnectPolicy,
        on_give_up: Callable[[], None],
        listen: bool = True,
    ) -> None:
        super().__init__(storage, wallet)
        self.policy = policy
        self.on_give_up = on_give_up
        self.listen_on_open = listen

    async def _open_gateways(self, auto_listen: bool = True) -> None:
        if not isinstance(self._wallet, dict):
            return
        self._gateway = GuardedBridgeGateway(
            self._storage,
            self._session.bridge_url,
            self._session.session_crypto.session_id,
            self._gateway_listener,
            self._gateway_errors_listener,
            api_tokens=self._api_tokens,
            policy=self.policy,
            on_give_up=self.on_give_up,
        )
        if auto_listen and self.listen_on_open:
            await self._gateway.register_session()

    @property
    def gateway(self) -> GuardedBridgeGateway | None:
        gateway = self._gateway
        return gateway if isinstance(gateway, GuardedBridgeGateway) else None


class BridgeUnreachableError(Exception):
    """The wallet's bridge could not be reached within the reconnect policy."""


class ChatTonConnect(TonConnect):  # type: ignore[misc]  # pytonconnect is untyped
    """``TonConnect`` for chat flows; see the module docstring. Always :meth:`close` it."""

    def __init__(
        self,
        manifest_url: str,
        storage: RedisConnectStorage,
        *,
        policy: ReconnectPolicy | None = None,
    ) -> None:
        super().__init__(manifest_url, storage=storage)
        self.storage = storage
        self.policy = policy or ReconnectPolicy()
        self._listen = True
        loop = asyncio.get_running_loop()
        self.event: asyncio.Future[dict[str, Any]] = loop.create_future()
        self.unreachable: asyncio.Future[None] = loop.create_future()  # the gateway gave up

    def get_wallets(self) -> list[dict[str, Any]]:
        raise RuntimeError("use tenants.ton.tonconnect.load_wallet_apps (never blocks the loop)")

    def _create_provider(self, wallet: dict[str, Any] | None) -> ChatBridgeProvider:
        provider = ChatBridgeProvider(
            self._storage,
            wallet,
            policy=self.policy,
            on_give_up=self._gave_up,
            listen=self._listen,
        )
        provider.listen(self._raw_event)  # first: pytonconnect's own listener may raise
        provider.listen(self._wallet_events_listener)
        return provider

    def _raw_event(self, message: dict[str, Any]) -> None:
        answers = ("connect", "connect_error", "disconnect")
        if message.get("event") in answers and not self.event.done():
            self.event.set_result(message)

    def _gave_up(self) -> None:
        if not self.unreachable.done():
            self.unreachable.set_result(None)
        if not self.event.done():
            self.event.set_exception(BridgeUnreachableError("the wallet's bridge is unreachable"))
            self.event.exception()  # retrieved: nobody may be waiting any more

    @property
    def provider(self) -> ChatBridgeProvider | None:
        provider = self._provider
        return provider if isinstance(provider, ChatBridgeProvider) else None

    async def prepare(self, wallet: WalletApp, proof_payload: str) -> str:
        """The universal link asking ``wallet`` to connect with a ``ton_proof`` of our
        payload; the session is stored, the bridge is not contacted."""
        self._listen = False
        try:
            link: str = await self.connect(wallet.pytonconnect(), {"ton_proof": proof_payload})
        finally:
            self._listen = True
            self.close()
        return link

    async def resume_pending(self) -> bool:
        """Subscribe to the bridge for a link :meth:`prepare` made (here or in another
        process); ``False`` when there is no pending session."""
        connection = await self.storage.connection()
        source, session = connection.get("connection_source"), connection.get("session")
        if not isinstance(source, dict) or not isinstance(session, dict):
            return False
        provider = self._create_provider(source)
        provider._session = BridgeSession(session)
        self._provider = provider
        await provider._open_gateways()
        return True

    async def restore_connection(self, auto_listen: bool = True) -> bool:
        """pytonconnect's restore, with our guarded provider."""
        self._provider = self._create_provider(None)
        restored: bool = await self._provider.restore_connection(auto_listen)
        return restored

    @property
    def attempts(self) -> int:
        """Bridge subscriptions made so far (tests check the bound)."""
        provider = self.provider
        gateway = provider.gateway if provider else None
        return gateway.attempts if gateway else 0

    def close(self) -> None:
        """Stop listening for good: no retry survives this (``close_connection``)."""
        if self._provider is not None:
            self._provider.close_connection()


# -- the wallet's answer --------------------------------------------------------------------------


def connect_items(event: dict[str, Any]) -> dict[str, dict[str, Any]]:
    items = [_dict(item) for item in _list(_dict(event.get("payload")).get("items"))]
    return {str(item.get("name")): item for item in items if item}


def connect_error_code(event: dict[str, Any]) -> int | None:
    """The code of a ``connect_error`` as the spec sends it (``payload.code``), or as
    pytonconnect expects it (``payload.error.code``)."""
    payload = _dict(event.get("payload"))
    code = payload.get("code")
    if code is None:
        code = _dict(payload.get("error")).get("code")
    return code if isinstance(code, int) else None


def proof_claim(event: dict[str, Any]) -> TonProofClaim | None:
    """The ``ton_proof`` of a ``connect`` event in the shape :mod:`core.ton.proof` checks;
    ``None`` when the wallet sent no proof (then nothing is linked)."""
    items = connect_items(event)
    account, proof_item = items.get("ton_addr"), items.get("ton_proof")
    proof = _dict(_dict(proof_item).get("proof"))
    if account is None or not proof:
        return None
    domain = _dict(proof.get("domain"))
    try:
        return TonProofClaim(
            address=str(account.get("address", "")),
            network=str(account.get("network", "")),
            public_key=str(account.get("publicKey", "")),
            timestamp=int(proof.get("timestamp", 0)),
            domain=str(domain.get("value", "")),
            domain_length=int(domain.get("lengthBytes", -1)),
            signature=str(proof.get("signature", "")),
            payload=str(proof.get("payload", "")),
            state_init=account.get("walletStateInit") or proof.get("state_init"),
        )
    except (TypeError, ValueError):
        return None


def transaction_request(ton_connect: dict[str, Any]) -> dict[str, Any]:
    """A ``sendTransaction`` request as ``@tonconnect/ui`` takes it (``validUntil``) in the
    shape pytonconnect sends on the wire (``valid_until``)."""
    return {
        "valid_until": ton_connect["validUntil"],
        "network": ton_connect.get("network"),
        "messages": list(ton_connect["messages"]),
    }
