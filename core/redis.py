"""Redis clients from settings: a real server, or an in-process stand-in for ``atelier dev``.

``ATELIER_REDIS_URL`` picks the backend:

* ``redis://host:port/db`` (or ``rediss://``, ``unix://``) — a real Redis server;
* ``memory://`` (optionally ``memory://<name>``) — an in-process fakeredis server. Every client
  made for the same URL in one process shares one :class:`fakeredis.FakeServer`, so the API, the
  bot and the arq worker running side by side in ``atelier dev`` see the same queue.

Either way the client is an :class:`arq.connections.ArqRedis` (a ``redis.asyncio.Redis``
subclass that can also enqueue jobs), so cache, rate limits and the job queue all go through the
very same redis-py and arq code; only the connection class differs.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlparse

import fakeredis
import hiredis
import redis.asyncio as redis_asyncio
from arq.connections import ArqRedis, RedisSettings
from fakeredis.aioredis import FakeAsyncRedisConnection, FakeBaseAsyncConnection
from redis._parsers import _AsyncHiredisParser
from redis._parsers.hiredis import NOT_ENOUGH_DATA
from redis._parsers.socket import SERVER_CLOSED_CONNECTION_ERROR
from redis.exceptions import ConnectionError as RedisConnectionError

from core.settings import Settings, get_settings

MEMORY_SCHEME = "memory"
CONNECT_TIMEOUT_S = 2.0

#: Argument types hiredis packs exactly as redis-py's encoder does (``bool`` and ``None`` are not
#: here: redis-py refuses them, and the fallback keeps that).
_PLAIN_ARGS = frozenset({str, bytes, int, float})

_servers: dict[str, fakeredis.FakeServer] = {}
_servers_lock = threading.Lock()


def is_memory_url(url: str) -> bool:
    """True when ``url`` asks for the in-process stand-in (``memory://``)."""
    return urlparse(url).scheme == MEMORY_SCHEME


def memory_server(url: str = "memory://") -> fakeredis.FakeServer:
    """The process-wide fake server behind ``url``; created on first use, then shared."""
    key = url.rstrip("/")
    with _servers_lock:
        server = _servers.get(key)
        if server is None:
            server = _servers[key] = fakeredis.FakeServer()
        return server


def reset_memory_servers() -> None:
    """Forget every in-process server (tests use it to start from an empty stand-in)."""
    with _servers_lock:
        _servers.clear()


def create_memory_redis(server: fakeredis.FakeServer | None = None) -> ArqRedis:
    """An ``ArqRedis`` whose connections talk to ``server`` in memory instead of a socket.

    ``FakeAsyncRedisConnection`` is fakeredis 2.40's name for the deprecated ``FakeConnection``
    alias (same class, without a DeprecationWarning on every new connection).
    """
    pool = redis_asyncio.ConnectionPool(
        connection_class=FakeAsyncRedisConnection,
        server=server or memory_server(),
    )
    return ArqRedis(connection_pool=pool)


def create_redis(settings: Settings | None = None, *, url: str | None = None) -> ArqRedis:
    """A Redis client for ``url`` (default: ``settings.redis_url``); no I/O happens here.

    Real connections carry a connect timeout, so a caller waiting on a dead server (the
    readiness probe, a request) fails in seconds instead of hanging. There is deliberately no
    read timeout: pub/sub listeners wait on idle sockets; bound single calls with
    ``asyncio.timeout`` where a deadline matters.
    """
    url = url or (settings or get_settings()).redis_url
    if is_memory_url(url):
        return create_memory_redis(memory_server(url))
    pool = redis_asyncio.ConnectionPool.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT_S,
        health_check_interval=30,
    )
    if pool.connection_class is redis_asyncio.Connection:  # not TLS, not a unix socket
        pool.connection_class = PackedConnection
    return ArqRedis(connection_pool=pool)


class PackedConnection(redis_asyncio.Connection):
    """redis-py's asyncio connection packing commands with hiredis' C packer.

    redis-py's synchronous client already packs with hiredis when it is installed; its asyncio
    client still packs every argument in Python (an ``encode`` call and three ``bytes.join``
    per argument): ~4.8 µs for the update's 10-argument ``EVALSHA``, ~1.3 µs with hiredis.
    The bytes on the wire are the same. Anything unusual — a command name with a space
    (``SCRIPT LOAD``), a ``memoryview``, a ``bool``, a non-UTF-8 client — takes redis-py's
    own path, so its checks and errors are unchanged.
    """

    def pack_command(self, *args: Any) -> list[bytes]:
        encoder = self.encoder
        first = args[0] if args else None
        if (
            type(first) is str
            and " " not in first
            and encoder.encoding == "utf-8"
            and encoder.encoding_errors == "strict"
            and _PLAIN_ARGS.issuperset(map(type, args))
        ):
            return [hiredis.pack_command(args)]
        return super().pack_command(*args)

    async def can_read_destructive(self) -> bool:
        """Has the idle connection unread data, or did the server close it?

        The pool asks before every command. redis-py's hiredis parser answers by reading with
        a zero timeout: a timer, a future, a cancellation turned into ``TimeoutError`` and a
        turn of the event loop, per command (~9 µs of CPU, more than packing the command and
        parsing its reply together). This answers from what the connection already holds: a
        reply hiredis has parsed, bytes the stream has buffered, or the end of the stream —
        what the event loop delivered while the connection sat in the pool. Bytes still in the
        kernel's socket buffer, which redis-py's extra loop turn would pull in, go unseen;
        either check misses bytes arriving a moment later, so it is a guard against a
        connection returned to the pool with a reply unread, which both see.
        """
        parser = self._parser
        stream = getattr(parser, "_stream", None)
        if type(parser) is not _AsyncHiredisParser or stream is None:
            return bool(await super().can_read_destructive())  # type: ignore[no-untyped-call]
        reader = parser._reader
        if not parser._connected or reader is None:
            raise RedisConnectionError(SERVER_CLOSED_CONNECTION_ERROR)
        if reader.gets() is not NOT_ENOUGH_DATA:
            return True
        if getattr(stream, "_buffer", None):
            return True
        if stream.exception() is not None:
            raise RedisConnectionError(SERVER_CLOSED_CONNECTION_ERROR)
        if stream.at_eof():
            raise RedisConnectionError(SERVER_CLOSED_CONNECTION_ERROR)
        return False


def uses_memory_backend(client: redis_asyncio.Redis) -> bool:
    """True when ``client`` is backed by the in-process stand-in rather than a server."""
    return issubclass(client.connection_pool.connection_class, FakeBaseAsyncConnection)


def arq_redis_settings(url: str) -> RedisSettings:
    """arq's connection settings for a real Redis URL (arq retries the first connection)."""
    if is_memory_url(url):
        raise ValueError("memory:// has no arq RedisSettings; pass create_redis(...) as the pool")
    return RedisSettings.from_dsn(url)


async def close_redis(client: redis_asyncio.Redis) -> None:
    """Close ``client`` and its connection pool (the fake server, and its data, live on)."""
    await client.aclose(close_connection_pool=True)
