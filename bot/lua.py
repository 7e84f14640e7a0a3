"""Lua scripts on Redis, run by their SHA: one command for work that would otherwise be a
pipeline of several (redis-py's CPU per update is mostly per command, not per round trip)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import NoScriptError


class LuaScript:
    """``EVALSHA`` of ``source``; a server that does not know it yet (restarted, flushed
    scripts) gets it with ``SCRIPT LOAD`` and the call is made again, once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()

    async def __call__(
        self, redis: Redis, keys: Sequence[str], args: Sequence[str | int] = ()
    ) -> Any:
        words = [*keys, *map(str, args)]
        try:
            return await redis.evalsha(self.sha, len(keys), *words)  # type: ignore[misc]
        except NoScriptError:
            await redis.script_load(self.source)
            return await redis.evalsha(self.sha, len(keys), *words)  # type: ignore[misc]
