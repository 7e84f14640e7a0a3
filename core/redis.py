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
from urllib.parse import urlparse

import fakeredis
import redis.asyncio as redis_asyncio
from arq.connections import ArqRedis, RedisSettings
from fakeredis.aioredis import FakeAsyncRedisConnection, FakeBaseAsyncConnection

from core.settings import Settings, get_settings

MEMORY_SCHEME = "memory"
CONNECT_TIMEOUT_S = 2.0

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
    return ArqRedis(connection_pool=pool)


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
