"""A small async client of toncenter-compatible HTTP APIs (toncenter itself, the devtools
stand-in), shared by wallet linking (``get_public_key``) and the payment watcher and payouts.

* Base URL ``TON_API_BASE`` (paths are v3: ``/api/v3/...``); the key, when set, goes in the
  ``X-API-Key`` header and nowhere else — never in a URL, never in a log line.
* Over the rate, toncenter answers 429: the client waits ``Retry-After`` seconds when the
  server says, else ``backoff_base * 2**attempt`` (capped at ``backoff_cap``), and tries again
  up to ``max_retries`` times before raising :class:`TonApiRateLimitedError`. 5xx answers and
  connection failures are retried the same way (every call here is safe to repeat; a caller
  that sends something non-idempotent passes ``retry=False``). Other failures raise
  :class:`TonApiError` (502).
* Get-methods: ``POST /api/v3/runGetMethod`` with ``{"address", "method", "stack"}``; the answer
  ``{"exit_code", "stack": [{"type": "num", "value": "0x…"}, …]}`` (the v2 shape
  ``{"ok", "result": {"exit_code", "stack": [["num", "0x…"]]}}`` is read as well).
* Transactions: ``GET /api/v3/transactions?account=&start_lt=&sort=asc&limit=`` (``start_lt``
  inclusive), read by :mod:`core.ton.transactions`; only blocks the indexer has are listed.
* Sending: ``POST /api/v3/message`` with ``{"boc"}`` — never retried by the client (a timeout
  may hide a message that *was* applied); the caller decides, after looking at the chain.

Usage::

    async with ToncenterClient(settings.ton_api_base, api_key) as toncenter:
        result = await toncenter.run_get_method(address, "seqno")
        seqno = result.int_at(0)
        key = await toncenter.get_public_key(address)   # bytes | None
        txs = await toncenter.transactions(merchant, start_lt=cursor + 1, limit=256)
        await toncenter.send_boc(signed.boc_b64)   # no retries: look at the chain instead

:meth:`ToncenterClient.from_settings` builds one from ``TON_API_BASE``/``TON_API_KEY``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from core.errors import UpstreamError
from core.settings import Settings
from core.ton.address import TonAddress
from core.ton.transactions import ChainTransaction, parse_transactions

logger = logging.getLogger(__name__)

RUN_GET_METHOD_PATH = "/api/v3/runGetMethod"
TRANSACTIONS_PATH = "/api/v3/transactions"
SEND_MESSAGE_PATH = "/api/v3/message"
UNINITIALIZED_EXIT_CODES = frozenset({-13, -14})  # no code to run: the seqno of a fresh wallet
_RETRIED_STATUSES = {429, 500, 502, 503, 504}


class TonApiError(UpstreamError):
    code = "ton_api_error"


class TonApiRateLimitedError(TonApiError):
    code = "ton_api_rate_limited"


@dataclass(frozen=True, slots=True)
class GetMethodResult:
    """A get-method's exit code and its stack as ``(type, value)`` pairs, top of stack last."""

    exit_code: int
    stack: tuple[tuple[str, Any], ...]

    @property
    def ok(self) -> bool:
        return self.exit_code in (0, 1)  # TVM's two success codes

    def int_at(self, index: int) -> int:
        kind, value = self.stack[index]
        if kind not in ("num", "int"):
            raise TonApiError(f"stack entry {index} is a {kind}, not a number")
        return int(value, 0) if isinstance(value, str) else int(value)


def _stack_entry(entry: Any) -> tuple[str, Any]:
    if isinstance(entry, Mapping):
        return str(entry.get("type")), entry.get("value")
    if isinstance(entry, list | tuple) and len(entry) == 2:
        return str(entry[0]), entry[1]
    raise TonApiError("the get-method stack has an entry of an unknown shape")


def parse_get_method(body: Any) -> GetMethodResult:
    """Read a runGetMethod answer in the v3 shape, or the v2 one (``{"ok", "result"}``)."""
    if isinstance(body, Mapping) and "result" in body and isinstance(body["result"], Mapping):
        body = body["result"]
    if not isinstance(body, Mapping) or "exit_code" not in body:
        raise TonApiError("the get-method answer has no exit_code")
    stack = tuple(_stack_entry(entry) for entry in body.get("stack") or ())
    return GetMethodResult(int(body["exit_code"]), stack)


class ToncenterClient:
    """One HTTP connection pool to a toncenter-compatible API; close it (or ``async with``)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        max_retries: int = 4,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        headers = {"Accept": "application/json"}
        if api_key:
            headers["X-API-Key"] = api_key
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._sleep = sleep

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> Self:
        key = settings.ton_api_key.get_secret_value() if settings.ton_api_key else None
        return cls(settings.ton_api_base, key, **kwargs)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    def _delay(self, attempt: int, response: httpx.Response | None) -> float:
        retry_after = response.headers.get("retry-after") if response is not None else None
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), self.backoff_cap)
            except ValueError:
                pass
        return float(min(self.backoff_base * 2**attempt, self.backoff_cap))

    async def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response | None:
        """One attempt: the response, or ``None`` when the connection failed."""
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            logger.warning("TON API %s %s failed: %s", method, path, type(exc).__name__)
            return None

    async def request(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> Any:
        """The JSON body of a 2xx answer, retrying 429/5xx/connection failures with back-off."""
        attempts = self.max_retries + 1 if retry else 1
        response: httpx.Response | None = None
        for attempt in range(attempts):
            response = await self._send(method, path, **kwargs)
            if response is not None and response.status_code not in _RETRIED_STATUSES:
                break
            if attempt + 1 < attempts:
                await self._sleep(self._delay(attempt, response))
        if response is None:
            raise TonApiError("the TON API cannot be reached")
        if response.status_code == 429:
            raise TonApiRateLimitedError("the TON API keeps refusing: over its rate limit")
        if response.status_code >= 400:
            raise TonApiError(f"the TON API answered {response.status_code}")
        try:
            return response.json()
        except ValueError:
            raise TonApiError("the TON API answered something that is not JSON") from None

    async def get(self, path: str, *, params: Mapping[str, Any] | None = None) -> Any:
        return await self.request("GET", path, params=params)

    async def run_get_method(
        self, address: TonAddress | str, method: str, stack: list[Any] | None = None
    ) -> GetMethodResult:
        raw = address.raw if isinstance(address, TonAddress) else address
        payload = {"address": raw, "method": method, "stack": stack or []}
        body = await self.request("POST", RUN_GET_METHOD_PATH, json=payload)
        return parse_get_method(body)

    async def get_public_key(self, address: TonAddress) -> bytes | None:
        """The wallet's ``get_public_key`` as 32 bytes; ``None`` if it has no such method (or is
        not deployed). Makes this client a :class:`core.ton.proof.PublicKeySource`."""
        result = await self.run_get_method(address, "get_public_key")
        if not result.ok or not result.stack:
            return None
        value = result.int_at(0)
        if not 0 <= value < 2**256:
            raise TonApiError("get_public_key returned a number that is not a key")
        return value.to_bytes(32, "big")

    async def seqno(self, address: TonAddress) -> int:
        """The wallet's ``seqno``; 0 for an account without code yet (it deploys with 0)."""
        result = await self.run_get_method(address, "seqno")
        if result.exit_code in UNINITIALIZED_EXIT_CODES:
            return 0
        if not result.ok or not result.stack:
            raise TonApiError(f"seqno failed with exit code {result.exit_code}")
        return result.int_at(0)

    async def transactions(
        self,
        account: TonAddress,
        *,
        start_lt: int | None = None,
        end_lt: int | None = None,
        start_utime: int | None = None,
        limit: int = 100,
        offset: int = 0,
        sort: str = "asc",
    ) -> list[ChainTransaction]:
        """One page of ``account``'s transactions with ``start_lt <= lt <= end_lt``."""
        params: dict[str, Any] = {"account": account.raw, "limit": limit, "sort": sort}
        optional = {
            "start_lt": start_lt,
            "end_lt": end_lt,
            "start_utime": start_utime,
            "offset": offset or None,
        }
        params.update({key: value for key, value in optional.items() if value is not None})
        body = await self.get(TRANSACTIONS_PATH, params=params)
        try:
            return parse_transactions(body)
        except (ValueError, KeyError, TypeError) as exc:
            raise TonApiError(f"the TON API sent transactions we cannot read: {exc}") from None

    async def send_boc(self, boc_b64: str) -> Any:
        """Hand a signed external message to the network, once (no retries here)."""
        return await self.request("POST", SEND_MESSAGE_PATH, retry=False, json={"boc": boc_b64})


class ToncenterPublicKeys:
    """A :class:`core.ton.proof.PublicKeySource` that opens a client only when asked: most
    proofs come from known wallet codes and never need the chain."""

    def __init__(self, settings: Settings, **client_options: Any) -> None:
        self._settings = settings
        self._options = client_options

    async def get_public_key(self, address: TonAddress) -> bytes | None:
        async with ToncenterClient.from_settings(self._settings, **self._options) as client:
            return await client.get_public_key(address)
