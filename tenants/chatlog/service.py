"""The chat history's rules: moving the stream into ``chat_messages`` exactly once, a fan's
messages a page at a time, retention.

Draining (:func:`read_batch` → :func:`store_batch` → commit → :func:`ack`) goes through a
consumer group: an entry read but not acknowledged (a worker killed before its commit or its
``XACK``) stays pending and is read again first by the next drain; ``stream_id`` is UNIQUE, so
an entry stored before the kill is not stored twice. Acknowledged entries are deleted from the
stream at once (the stream holds only the backlog).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import ValidationError
from core.models import ChatMessage, Direction
from core.models.chatlog import MAX_TEXT
from tenants.chatlog import record
from tenants.chatlog import repository as repo
from tenants.panel.service import require_fan

GROUP = "drain"
CONSUMER = "drain"
"""One consumer name for every worker: whichever drain runs next re-reads what a dead one left
pending (two drains at once may both store a pending entry; the UNIQUE key keeps one)."""

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class Entry:
    stream_id: str
    telegram_bot_id: int
    telegram_user_id: int
    direction: Direction
    kind: str
    text: str
    message_id: int | None
    at: datetime


def parse(stream_id: bytes | str, fields: dict[bytes, bytes] | None) -> Entry | None:
    """An entry of the stream, or None for one trimmed away or not ours."""
    sid = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
    if not fields:
        return None
    try:
        value = {k.decode(): v.decode() for k, v in fields.items()}
        millis = int(value.get("t") or sid.split("-", 1)[0])  # a held reply carries its time
        return Entry(
            stream_id=sid,
            telegram_bot_id=int(value["b"]),
            telegram_user_id=int(value["u"]),
            direction=Direction(value["d"]),
            kind=value["k"][:16],
            text=value.get("x", "")[:MAX_TEXT],
            message_id=int(value["m"]) if value.get("m") else None,
            at=datetime.fromtimestamp(millis / 1000, UTC),
        )
    except (KeyError, ValueError, UnicodeDecodeError):
        return None


async def ensure_group(redis: Redis) -> None:
    """The consumer group, from the stream's start (made once; entries recorded before it
    existed are drained too)."""
    try:
        await redis.xgroup_create(record.STREAM, GROUP, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


async def read_batch(redis: Redis, count: int, *, pending: bool) -> list[tuple[str, Entry | None]]:
    """Up to ``count`` entries: the ones left pending by an earlier drain, or new ones."""
    answer = await redis.xreadgroup(
        GROUP, CONSUMER, {record.STREAM: "0" if pending else ">"}, count=count
    )
    if not answer:
        return []
    _, entries = answer[0]
    batch = []
    for stream_id, fields in entries:
        sid = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
        batch.append((sid, parse(sid, fields)))
    return batch


async def ack(redis: Redis, stream_ids: Sequence[str]) -> None:
    """After the batch's commit: acknowledged and gone from the stream."""
    if stream_ids:
        pipe = redis.pipeline(transaction=False)
        pipe.xack(record.STREAM, GROUP, *stream_ids)
        pipe.xdel(record.STREAM, *stream_ids)
        await pipe.execute()


async def store_batch(session: AsyncSession, entries: Sequence[Entry | None]) -> int:
    """Insert a batch's messages (flush only); how many rows are new. Entries of tenants that
    turned the history off, of unknown bots and of chats with no fan row are left out."""
    present = [e for e in entries if e is not None]
    tenants = await repo.tenants_of_bots(session, {e.telegram_bot_id for e in present})
    kept: list[tuple[int, Entry]] = []
    for entry in present:
        found = tenants.get(entry.telegram_bot_id)
        if found is not None and record.recording(found[1]):
            kept.append((found[0], entry))
    fans = await repo.fan_ids(session, ((t, e.telegram_user_id) for t, e in kept))
    rows: list[dict[str, Any]] = [
        {
            "tenant_id": tenant_id,
            "user_id": fans[(tenant_id, e.telegram_user_id)],
            "direction": e.direction,
            "kind": e.kind,
            "text": e.text,
            "telegram_message_id": e.message_id,
            "stream_id": e.stream_id,
            "created_at": e.at,
        }
        for tenant_id, e in kept
        if (tenant_id, e.telegram_user_id) in fans
    ]
    return await repo.insert_new(session, rows)


# -- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    messages: list[ChatMessage]
    next_cursor: str | None


def cursor_of(message: ChatMessage) -> str:
    micros = int(message.created_at.timestamp() * 1_000_000)
    return f"{micros}.{message.id}"


def parse_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        micros, ident = (int(part) for part in cursor.split(".", 1))
        return datetime.fromtimestamp(micros / 1_000_000, UTC), ident
    except (ValueError, OverflowError, OSError):
        raise ValidationError("not a cursor from this list", field="before") from None


async def messages(
    session: AsyncSession, tenant_id: int, user_id: int, *, before: str | None, limit: int
) -> Page:
    """The fan's conversation newest first, ``limit`` messages older than ``before`` (a
    ``next_cursor`` of the previous page)."""
    await require_fan(session, tenant_id, user_id)
    after = parse_cursor(before) if before else None
    rows = list(await repo.page(session, tenant_id, user_id, after, limit + 1))
    if len(rows) > limit:
        return Page(rows[:limit], cursor_of(rows[limit - 1]))
    return Page(rows, None)


async def purge(session: AsyncSession, now: datetime, days: int) -> int:
    """Forget messages older than ``days`` days (``ATELIER_CHAT_HISTORY_DAYS``)."""
    return await repo.delete_older_than(session, now - timedelta(days=days))
