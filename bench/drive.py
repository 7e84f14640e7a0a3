"""The drive at scale: folder pages, search and usage through the API, next to raw SQL.

    .venv/bin/python -m bench.drive [--database-url URL] [--files 1000000] [--users 2000]
                                    [--samples 300] [--pages 100] [--explain]

One tenant gets ``--files`` files spread over ``--users`` fans (the three heaviest hold 30 %,
15 % and 5 % of them), in nested folders (the heaviest fan's biggest folder holds tens of
thousands of files), named from a word list, with mixed types and sizes, ~10 % tagged and ~3 %
in the trash. Seeding is set-based SQL on the server (``INSERT ... SELECT generate_series``)
with the secondary indexes dropped and rebuilt afterwards from their own definitions, then
``VACUUM ANALYZE`` and the drive's usage reconciliation (which fills the counters).

Then, as the heaviest fan (a real bearer token), sequential requests through the real FastAPI
app in-process (httpx ``ASGITransport``): the biggest folder's first page of 100 sorted by
name, date, size and type, the root's first page, following pages by cursor, and where a page's
time goes; search by name (substring, prefix, rare, absent), by tag, by type and combined;
storage usage. Each is shown next to its raw SQL (on a bare asyncpg connection, planned for
its values) timed in the same run, with the ratio of the p50s.

Without ``--database-url`` a throwaway database is created and dropped at the end; with it, a
database already holding the bench tenant is reused as it is. Redis (``--redis-url``) is only
opened, never written or flushed. Prints figures; never fails on time. ``--explain`` prints the
plans (``EXPLAIN (ANALYZE, BUFFERS)``) of the raw statements. See bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
from rich.console import Console
from rich.table import Table

from bench.common import SECRET_KEY, database
from core import migrate
from core.db import create_engine, create_session_factory, read_scope, session_scope
from core.drive import service
from core.drive import service as drive
from core.settings import Environment, Settings, get_settings
from miniapp_api.auth.tokens import issue_token
from miniapp_api.drive import endpoints

console = Console()
BOT_ID = 6_100_000_001
PAGE = 100
SEARCH_PAGE = 50

WORDS = (  # noqa: SIM905 - a word list reads best as words
    "sunset beach mountain river forest city night portrait cat dog bird flower garden "
    "ocean storm winter summer autumn spring street market coffee bread music guitar "
    "piano dance studio sketch draft final render texture pattern neon retro vintage "
    "galaxy planet robot dragon castle village bridge tower island desert canyon valley "
    "meadow lake harbor train station airport window mirror shadow light smoke fire "
    "water stone glass paper velvet silk cotton gold silver copper ruby emerald sapphire "
    "amber ivory crimson indigo violet scarlet teal olive maple cedar willow birch lotus "
    "tulip orchid poppy daisy fern moss coral pearl shell wave tide cloud rain snow "
    "frost mist dawn dusk noon midnight echo whisper thunder comet meteor nebula aurora "
    "eclipse horizon summit glacier volcano jungle prairie tundra savanna lagoon reef "
    "delta fjord cliff cave grotto ruins temple"
).split()
TAGS = (  # noqa: SIM905 - a word list reads best as words
    "work personal travel family favourites inspiration client draft final archive "
    "portfolio social reference moodboard wip approved review print web video-ideas "
    "music-ideas sketches colour bw landscape portrait product food pets events 2025 "
    "2026 invoice contract receipts notes ideas shared keep todo misc"
).split()
TYPES = (  # (upper bound of the draw, MIME type, extension, smallest and largest size)
    (0.35, "image/jpeg", ".jpg", 50_000, 8_000_000),
    (0.50, "image/png", ".png", 20_000, 12_000_000),
    (0.55, "image/webp", ".webp", 20_000, 4_000_000),
    (0.70, "video/mp4", ".mp4", 1_000_000, 500_000_000),
    (0.80, "audio/mpeg", ".mp3", 500_000, 20_000_000),
    (0.83, "audio/wav", ".wav", 1_000_000, 80_000_000),
    (0.93, "text/plain", ".txt", 100, 200_000),
    (1.00, "application/pdf", ".pdf", 20_000, 20_000_000),
)


# -- seeding -----------------------------------------------------------------------------------


def plan_users(files: int, users: int) -> list[int]:
    """Files per fan: 30 %, 15 % and 5 % for the three heaviest, the rest shared evenly."""
    users = max(users, 4)
    heavy = [int(files * share) for share in (0.30, 0.15, 0.05)]
    rest = files - sum(heavy)
    each, extra = divmod(rest, users - 3)
    return heavy + [each + (1 if i < extra else 0) for i in range(users - 3)]


def _case(column: int) -> str:
    """A CASE picking column ``column`` of :data:`TYPES` from the draw ``r_type``."""
    arms = " ".join(f"WHEN r_type < {t[0]} THEN {_literal(t[column])}" for t in TYPES[:-1])
    return f"CASE {arms} ELSE {_literal(TYPES[-1][column])} END"


def _literal(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


SEED_FUNCTIONS = """
CREATE FUNCTION pg_temp.rnd(x bigint, salt bigint) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (hashint8extended(x, salt) & 2147483647)::float8 / 2147483648 $$
"""

SEED_PLAN = """
CREATE TEMP TABLE bench_plan AS
SELECT p.ord, u.id AS user_id, p.nfiles, p.nfolders,
       (sum(p.nfolders) OVER (ORDER BY p.ord) - p.nfolders)::bigint AS folder_base,
       (sum(p.nfiles) OVER (ORDER BY p.ord) - p.nfiles)::bigint AS file_base
FROM unnest($1::int[], $2::int[]) WITH ORDINALITY AS p(nfiles, nfolders, ord)
JOIN users u ON u.tenant_id = $3 AND u.telegram_id = 5000000000 + p.ord
"""

SEED_FOLDERS = """
INSERT INTO folders (id, tenant_id, user_id, parent_id, parent_key, name, created_at)
SELECT p.folder_base + j + 1, $1, p.user_id,
       CASE WHEN j < 12 THEN NULL ELSE p.folder_base + (j - 12) / 6 + 1 END,
       CASE WHEN j < 12 THEN 0 ELSE p.folder_base + (j - 12) / 6 + 1 END,
       initcap(($2::text[])[1 + (j * 7 + p.ord) % cardinality($2::text[])]) || ' ' || j,
       now() - interval '800 days' + j * interval '1 hour'
FROM bench_plan p, generate_series(0, p.nfolders - 1) AS j
"""

SEED_FILES = f"""
INSERT INTO files (tenant_id, user_id, folder_id, name, storage_key, mime_type, size, sha256,
                   width, height, thumbnail_key, thumbnail_mime, source, provenance,
                   created_at, deleted_at)
SELECT $1, user_id,
       CASE WHEN r_root < 0.08 THEN NULL
            ELSE folder_base + 1 + least(floor(nfolders * power(r_folder, 3))::int, nfolders - 1)
       END,
       w[1 + floor(r_w1 * cardinality(w))::int] || ' ' || w[1 + floor(r_w2 * cardinality(w))::int]
           || ' ' || lpad((k % 10000)::text, 4, '0') || {_case(2)},
       'bench/' || user_id || '/' || k,
       mime,
       (lo * exp(r_size * ln(hi::float8 / lo)))::bigint,
       md5(g::text) || md5((g + 1)::text),
       CASE WHEN mime LIKE 'image/%' THEN 1024 END,
       CASE WHEN mime LIKE 'image/%' THEN 768 END,
       CASE WHEN mime LIKE 'image/%' OR mime LIKE 'video/%'
            THEN 'bench/' || user_id || '/' || k || '.thumb.webp' END,
       CASE WHEN mime LIKE 'image/%' OR mime LIKE 'video/%' THEN 'image/webp' END,
       'upload', '{{}}'::json,
       created,
       CASE WHEN r_trash < 0.03 THEN created + interval '1 day' END
FROM (
    SELECT p.*, k, p.file_base + k AS g, $2::text[] AS w,
           pg_temp.rnd(p.file_base + k, 1) AS r_root, pg_temp.rnd(p.file_base + k, 2) AS r_folder,
           pg_temp.rnd(p.file_base + k, 3) AS r_w1, pg_temp.rnd(p.file_base + k, 4) AS r_w2,
           pg_temp.rnd(p.file_base + k, 5) AS r_type, pg_temp.rnd(p.file_base + k, 6) AS r_size,
           pg_temp.rnd(p.file_base + k, 7) AS r_trash,
           -- oldest first over two years; every three files share a second (a job's outputs)
           date_trunc('second', now() - interval '730 days' * (1 - ((k / 3) * 3)::float8
                                                                    / p.nfiles)) AS created
    FROM bench_plan p, generate_series(1, p.nfiles) AS k
) AS d, LATERAL (SELECT {_case(1)} AS mime, {_case(3)} AS lo, {_case(4)} AS hi) AS t
"""  # noqa: S608 - only constants of this module are interpolated

SEED_TAGS = """
INSERT INTO file_tags (tenant_id, user_id, file_id, tag)
SELECT tenant_id, user_id, id, ($1::text[])[1 + (floor(pg_temp.rnd(id, 11) * n)::int + s) % n]
FROM files, cardinality($1::text[]) AS n, (VALUES (0), (1)) AS second(s)
WHERE pg_temp.rnd(id, 10) < CASE s WHEN 0 THEN 0.10 ELSE 0.03 END
"""


@dataclass(frozen=True)
class Dataset:
    tenant_id: int
    user_id: int
    telegram_id: int
    big_folder: int
    big_folder_files: int
    user_files: int
    files: int


async def _secondary_indexes(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """Indexes of the seeded tables that back no constraint: dropped while seeding."""
    rows = await conn.fetch(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename IN ('files', 'file_tags', 'folders')
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
        """
    )
    return [(r["indexname"], r["indexdef"]) for r in rows]


async def _step(label: str, work: Awaitable[Any], timings: list[tuple[str, float]]) -> Any:
    started = time.perf_counter()
    result = await work
    timings.append((label, time.perf_counter() - started))
    console.print(f"[dim]  {label}: {timings[-1][1]:.1f} s[/]")
    return result


async def seed(conn: asyncpg.Connection, args: argparse.Namespace) -> list[tuple[str, float]]:
    """Fill a migrated, empty database; returns the time each step took."""
    timings: list[tuple[str, float]] = []
    counts = plan_users(args.files, args.users)
    folders = [max(1, -(-n // 400)) for n in counts]
    tenant_id = await conn.fetchval(
        "INSERT INTO tenants (name, plan, config, role, default_language, is_active, created_at)"
        " VALUES ('Bench Drive', 'enterprise', '{}', 'creator', 'en', true, now()) RETURNING id"
    )
    await conn.execute(
        "INSERT INTO users (tenant_id, telegram_id, first_name, is_blocked, last_seen_at,"
        " created_at) SELECT $1, 5000000000 + g, 'Fan ' || g, false, now(), now()"
        " FROM generate_series(1, $2) AS g",
        tenant_id,
        len(counts),
    )
    indexes = await _secondary_indexes(conn)
    async with conn.transaction():
        # Rows made here are consistent by construction: skip FK checks and the usage
        # trigger for speed (the usage counters are reconciled afterwards).
        await conn.execute("SET LOCAL session_replication_role = replica")
        await conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
        await conn.execute(SEED_FUNCTIONS)
        for name, _ in indexes:
            await conn.execute(f'DROP INDEX "{name}"')
        await conn.execute(SEED_PLAN, counts, folders, tenant_id)
        await _step("folders", conn.execute(SEED_FOLDERS, tenant_id, list(WORDS)), timings)
        await conn.execute("SELECT setval('folders_id_seq', (SELECT max(id) FROM folders))")
        await _step("files", conn.execute(SEED_FILES, tenant_id, list(WORDS)), timings)
        await _step("tags", conn.execute(SEED_TAGS, list(TAGS)), timings)
        for name, definition in indexes:
            await _step(f"index {name}", conn.execute(definition), timings)
    vacuum = "VACUUM (ANALYZE) files, file_tags, folders, users"
    await _step("vacuum analyze", conn.execute(vacuum), timings)
    return timings


async def dataset(conn: asyncpg.Connection) -> Dataset:
    """The heaviest fan of the bench tenant and their biggest folder."""
    tenant_id, user_id, telegram_id = await conn.fetchrow(
        "SELECT t.id, u.id, u.telegram_id FROM tenants t JOIN users u ON u.tenant_id = t.id"
        " WHERE t.name = 'Bench Drive' AND u.telegram_id = 5000000001"
    )
    big_folder, big_files = await conn.fetchrow(
        "SELECT folder_id, count(*) FROM files WHERE tenant_id = $1 AND user_id = $2"
        " AND folder_id IS NOT NULL AND deleted_at IS NULL"
        " GROUP BY folder_id ORDER BY count(*) DESC LIMIT 1",
        tenant_id,
        user_id,
    )
    user_files = await conn.fetchval(
        "SELECT count(*) FROM files WHERE tenant_id = $1 AND user_id = $2", tenant_id, user_id
    )
    files = await conn.fetchval("SELECT count(*) FROM files WHERE tenant_id = $1", tenant_id)
    return Dataset(tenant_id, user_id, telegram_id, big_folder, big_files, user_files, files)


# -- timing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stats:
    samples: list[float]  # seconds

    def pct(self, p: float) -> float:
        """The ``p``-th percentile in milliseconds (nearest rank)."""
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] * 1000

    @property
    def p50(self) -> float:
        return statistics.median(self.samples) * 1000


Call = Callable[[], Awaitable[Any]]


async def timed(*calls: Call, samples: int, warmup: int = 5) -> list[Stats]:
    """Time each call ``samples`` times, taking turns, so a change in the machine's load
    (other people's work on a shared machine) weighs on every figure alike."""
    for _ in range(warmup):
        for call in calls:
            await call()
    times: list[list[float]] = [[] for _ in calls]
    for _ in range(samples):
        for call, spent in zip(calls, times, strict=True):
            started = time.perf_counter()
            await call()
            spent.append(time.perf_counter() - started)
    return [Stats(spent) for spent in times]


def api_call(
    client: httpx.AsyncClient, path: str, params: dict[str, Any], headers: dict[str, str]
) -> Call:
    async def call() -> httpx.Response:
        """The answer's bytes, unparsed: parsing the JSON is the client's work, not the API's."""
        response = await client.get(path, params=params, headers=headers)
        if response.status_code != 200:
            raise RuntimeError(f"{path} {params}: {response.status_code} {response.text}")
        return response

    return call


def sql_calls(conn: asyncpg.Connection, *statements: tuple[str, Sequence[Any]]) -> Call:
    """The statements one after another on a bare connection (each autocommitted)."""

    async def call() -> Any:
        for sql, args in statements:
            await conn.fetch(sql, *args)

    return call


# -- the raw SQL equivalents -------------------------------------------------------------------
# Hand-written statements answering the same question, on a bare asyncpg connection planned
# for its values (plan_cache_mode = force_custom_plan, set once for the connection), as the
# API's reads engine plans them.

COLUMNS = (
    "id, tenant_id, user_id, folder_id, name, storage_key, mime_type, size, sha256, width,"
    " height, duration, thumbnail_key, thumbnail_mime, source, job_id, output_key, provenance,"
    " created_at, deleted_at"
)
SORTS = {"name": "name", "date": "created_at", "size": "size", "type": "mime_type"}
CRUMBS_SQL = """
WITH RECURSIVE chain AS (
    SELECT folders.*, 0 AS depth FROM folders WHERE tenant_id = $1 AND user_id = $2 AND id = $3
    UNION ALL
    SELECT f.*, chain.depth + 1 FROM folders f JOIN chain ON f.id = chain.parent_id
    WHERE f.tenant_id = $1
)
SELECT * FROM chain ORDER BY depth DESC
"""
SUBFOLDERS_SQL = (
    "SELECT * FROM folders WHERE tenant_id = $1 AND user_id = $2 AND parent_key = $3"
    " AND deleted_at IS NULL ORDER BY name, id"
)
WITH_TAGS = (
    ", (SELECT array_agg(tag) FROM file_tags t WHERE t.file_id = files.id"
    " AND t.tenant_id = files.tenant_id) AS tags"
)


def folder_sql(
    sort: str, descending: bool, after: bool, root: bool = False, tags: bool = False
) -> str:
    """The files of one page (``tags``: each with its tags); ``$3`` is the folder (absent at
    the root), then the keyset."""
    column, way, op = SORTS[sort], "DESC" if descending else "ASC", "<" if descending else ">"
    place = "folder_id IS NULL" if root else "folder_id = $3"
    first = 3 if root else 4
    keyset = f" AND ({column}, id) {op} (${first}, ${first + 1})" if after else ""
    return (
        f"SELECT {COLUMNS}{WITH_TAGS if tags else ''} FROM files"  # noqa: S608 - ours
        f" WHERE tenant_id = $1 AND user_id = $2 AND {place} AND deleted_at IS NULL{keyset}"
        f" ORDER BY folder_id {way}, {column} {way}, id {way} LIMIT {PAGE}"
    )


def search_sql(where: str) -> str:
    return (
        f"SELECT {COLUMNS} FROM files WHERE tenant_id = $1 AND user_id = $2"  # noqa: S608 - ours
        f" AND deleted_at IS NULL AND {where} ORDER BY created_at DESC, id DESC"
        f" LIMIT {SEARCH_PAGE}"
    )


TAG_WHERE = (
    "id IN (SELECT file_id FROM file_tags WHERE tenant_id = $1 AND user_id = $2 AND tag = $3)"
)
SEARCHES: list[tuple[str, dict[str, str], str, list[Any]]] = [
    # (label, API query, raw SQL condition, its arguments after tenant and user)
    ("name contains 'mead'", {"q": "mead"}, "name ILIKE $3", ["%mead%"]),
    ("name contains 'sunset beach'", {"q": "sunset beach"}, "name ILIKE $3", ["%sunset beach%"]),
    ("name starts 'sun'", {"q": "sun"}, "name ILIKE $3", ["%sun%"]),
    ("name contains '0042.' (rare)", {"q": "0042."}, "name ILIKE $3", ["%0042.%"]),
    ("name contains 'zebra' (none)", {"q": "zebra"}, "name ILIKE $3", ["%zebra%"]),
    ("tag 'portfolio'", {"tag": "portfolio"}, TAG_WHERE, ["portfolio"]),
    ("type video", {"type": "video"}, "mime_type LIKE $3", ["video/%"]),
    ("type text/plain", {"type": "text/plain"}, "mime_type LIKE $3", ["text/plain%"]),
    ("type video/webm (none)", {"type": "video/webm"}, "mime_type LIKE $3", ["video/webm%"]),
    (
        "'river' + type image",
        {"q": "river", "type": "image"},
        "name ILIKE $3 AND mime_type LIKE $4",
        ["%river%", "image/%"],
    ),
    (
        "tag 'travel' + 'lake'",
        {"tag": "travel", "q": "lake"},
        f"{TAG_WHERE} AND name ILIKE $4",
        ["travel", "%lake%"],
    ),
]


async def s3_page_links(samples: int) -> tuple[Stats, Stats]:
    """A page's links on S3 (the thumbnails of 80 of its 100 files): presigned by
    ``S3Storage`` in one call against presigned one by one by botocore in a worker thread, as
    the backend did before. Presigning is local work, so a client aimed at an address nothing
    listens on is enough."""
    import boto3
    from botocore.config import Config

    from core.storage import S3Storage

    client = boto3.client(
        "s3",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench-secret",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    storage = S3Storage("bench", client=client)
    keys = [(f"drive/1/2/{i:032x}.thumb.webp", "image/webp") for i in range(80)]

    async def ours() -> None:
        await storage.inline_urls(keys, expires_in=3600)

    async def botocore() -> None:
        for key, kind in keys:
            await asyncio.to_thread(
                client.generate_presigned_url,
                "get_object",
                Params={"Bucket": "bench", "Key": key, "ResponseContentType": kind},
                ExpiresIn=3600,
            )

    new, old = await timed(ours, botocore, samples=samples, warmup=2)
    return new, old


# -- the run -----------------------------------------------------------------------------------


def bench_settings(database_url: str, redis_url: str, storage_dir: str) -> Settings:
    os.environ["ATELIER_SECRET_KEY"] = SECRET_KEY
    get_settings.cache_clear()
    return Settings(
        environment=Environment.TEST,
        database_url=database_url,
        redis_url=redis_url,
        secret_key=SECRET_KEY,
        storage_url=f"file://{storage_dir}",
        public_base_url="https://bench.example",
        log_level="WARNING",
    )


async def explain(conn: asyncpg.Connection, sql: str, *args: Any) -> None:
    rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", *args)
    console.print(sql.strip(), "\n".join(r[0] for r in rows), markup=False, highlight=False)


@dataclass(frozen=True)
class Row:
    label: str
    api: Stats
    query: Stats  # the one statement that finds the files
    page: Stats | None = None  # every statement the page needs


class Measure:
    """The heaviest fan's requests through the API, each next to its raw SQL."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        conn: asyncpg.Connection,
        data: Dataset,
        args: argparse.Namespace,
    ) -> None:
        self.client, self.conn, self.data, self.args = client, conn, data, args
        token, _ = issue_token(
            tenant_id=data.tenant_id,
            user_id=data.user_id,
            telegram_id=data.telegram_id,
            bot_id=BOT_ID,
            ttl=3600,
            secret_key=SECRET_KEY,
        )
        self.headers = {"Authorization": f"Bearer {token}"}
        self.owner = (data.tenant_id, data.user_id)

    async def folder_pages(self) -> list[Row]:
        """The biggest folder's first page in each order, the root's, then cursor pages; the
        page's SQL is what a hand-written handler would send: breadcrumbs, subfolders, and
        the files with their tags."""
        rows = []
        folder = self.data.big_folder
        for sort, order in (("name", "asc"), ("date", "desc"), ("size", "desc"), ("type", "asc")):
            params = {"folder_id": folder, "sort": sort, "order": order, "limit": PAGE}
            descending, args = order == "desc", (*self.owner, folder)
            page = sql_calls(
                self.conn,
                (CRUMBS_SQL, args),
                (SUBFOLDERS_SQL, args),
                (folder_sql(sort, descending, after=False, tags=True), args),
            )
            sql = (folder_sql(sort, descending, after=False), args)
            rows.append(await self.page_row(f"folder page, by {sort} {order}", params, sql, page))
        root = folder_sql("name", False, after=False, root=True)
        root_page = sql_calls(
            self.conn,
            (SUBFOLDERS_SQL, (*self.owner, 0)),
            (folder_sql("name", False, after=False, root=True, tags=True), self.owner),
        )
        rows.append(
            await self.page_row(
                "root page, by name asc", {"limit": PAGE}, (root, self.owner), root_page
            )
        )
        rows.append(await self.cursor_walk())
        return rows

    async def page_row(
        self, label: str, params: dict[str, Any], sql: tuple[str, Sequence[Any]], page: Call
    ) -> Row:
        n = self.args.samples
        api, query, whole = await timed(
            self.api("/api/v1/drive/list", params), sql_calls(self.conn, sql), page, samples=n
        )
        row = Row(label, api, query, whole)
        if self.args.explain:
            await explain(self.conn, sql[0], *sql[1])
        return row

    async def cursor_walk(self) -> Row:
        """Pages 2.. of the biggest folder by name, each fetched with the previous cursor."""
        folder = self.data.big_folder
        params: dict[str, Any] = {"folder_id": folder, "sort": "name", "limit": PAGE}
        first = (await self.api("/api/v1/drive/list", params)()).json()
        cursor, last = first["next_cursor"], first["files"][-1]
        api, query, page = [], [], []
        sql = folder_sql("name", False, after=True)
        tagged = folder_sql("name", False, after=True, tags=True)
        for _ in range(self.args.pages):
            if cursor is None:
                break
            started = time.perf_counter()
            answer = await self.api("/api/v1/drive/list", {**params, "cursor": cursor})()
            api.append(time.perf_counter() - started)
            found = answer.json()
            keyset = (*self.owner, folder, last["name"], last["id"])
            started = time.perf_counter()
            await self.conn.fetch(sql, *keyset)
            query.append(time.perf_counter() - started)
            started = time.perf_counter()
            await sql_calls(self.conn, (CRUMBS_SQL, keyset[:3]), (tagged, keyset))()
            page.append(time.perf_counter() - started)
            cursor = found["next_cursor"]
            last = found["files"][-1] if found["files"] else last
        if self.args.explain:
            await explain(self.conn, sql, *self.owner, folder, last["name"], last["id"])
        return Row(f"next pages by cursor ({len(api)})", Stats(api), Stats(query), Stats(page))

    async def searches(self) -> list[Row]:
        rows = []
        for label, query, where, extra in SEARCHES:
            sql = search_sql(where)
            rows.append(
                Row(
                    f"search {label}",
                    *await timed(
                        self.api("/api/v1/drive/search", query),
                        sql_calls(self.conn, (sql, (*self.owner, *extra))),
                        samples=self.args.samples,
                    ),
                )
            )
            if self.args.explain:
                await explain(self.conn, sql, *self.owner, *extra)
        return rows

    async def usage(self) -> list[Row]:
        (api,) = await timed(self.api("/api/v1/drive/usage", {}), samples=self.args.samples)
        old = "SELECT coalesce(sum(size), 0) FROM files WHERE tenant_id = $1"
        (raw,) = await timed(
            sql_calls(self.conn, (old, (self.data.tenant_id,))), samples=10, warmup=1
        )
        return [Row("usage (counters)", api, raw)]

    async def breakdown(self, app: Any) -> list[tuple[str, float]]:
        """Where the biggest folder's first page by name spends its time (p50s, in-process,
        the three measured in turns)."""
        factory, storage = app.state.read_session_factory, app.state.storage
        folder = self.data.big_folder

        async def rules() -> service.Page:
            async with read_scope(factory) as session:  # as the route reads
                return await service.list_folder(session, *self.owner, folder, sort="name")

        page = await rules()

        async def links() -> Any:
            return await endpoints.files_json(storage, page.files, page.tags)

        whole, core, out = (
            s.p50
            for s in await timed(
                self.api("/api/v1/drive/list", {"folder_id": folder, "limit": PAGE}),
                rules,
                links,
                samples=self.args.samples,
            )
        )
        return [
            ("drive service: its SQL through a read-only session, rows", core),
            ("file JSON with its thumbnails' signed links", out),
            ("the rest: in-process HTTP, routing, sign-in token, JSON", whole - core - out),
            ("the whole request", whole),
        ]

    def api(self, path: str, params: dict[str, Any]) -> Call:
        return api_call(self.client, path, params, self.headers)


def print_rows(title: str, rows: Sequence[Row], tail: int, query: str) -> None:
    table = Table(title=title)
    columns = ["request", "API p50", f"API p{tail}", f"{query} p50", "API ÷ it"]
    if any(r.page for r in rows):
        columns += ["page's SQL p50", "API ÷ it"]
    for column in columns:
        table.add_column(column, justify="left" if column == "request" else "right")
    for r in rows:
        cells = [r.label, f"{r.api.p50:.2f}", f"{r.api.pct(tail):.2f}", f"{r.query.p50:.2f}"]
        cells.append(f"{r.api.p50 / r.query.p50:.1f}×")
        if r.page:
            cells += [f"{r.page.p50:.2f}", f"{r.api.p50 / r.page.p50:.1f}×"]
        table.add_row(*cells)
    console.print(table)


def print_parts(parts: Sequence[tuple[str, float]]) -> None:
    table = Table(title="where a folder page's time goes (first page by name), ms")
    table.add_column("part")
    table.add_column("p50", justify="right")
    table.add_column("share", justify="right")
    whole = parts[-1][1]
    for label, value in parts:
        table.add_row(label, f"{value:.2f}", f"{value / whole:.0%}")
    console.print(table)


def verdicts(pages: Sequence[Row], searches: Sequence[Row]) -> None:
    worst50 = max(r.api.p50 for r in pages)
    worst99 = max(r.api.pct(99) for r in pages)
    ratio = max(r.api.p50 / r.query.p50 for r in pages)
    page_ratio = max(r.api.p50 / r.page.p50 for r in pages if r.page)
    search95 = max(r.api.pct(95) for r in searches)

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    console.print(
        f"target folder page p50 ≤ 10 ms: {verdict(worst50 <= 10)} (worst {worst50:.1f} ms)\n"
        f"target folder page p99 ≤ 30 ms: {verdict(worst99 <= 30)} (worst {worst99:.1f} ms)\n"
        f"target folder page ≤ 3× raw SQL: {verdict(page_ratio <= 3)} (worst {page_ratio:.1f}×"
        f" the page's own SQL: breadcrumbs, subfolders, files with tags; {ratio:.1f}× the files"
        f" statement alone)\n"
        f"target search p95 ≤ 50 ms: {verdict(search95 <= 50)} (worst {search95:.1f} ms)"
    )


async def run(database_url: str, args: argparse.Namespace) -> None:
    from miniapp_api.app import create_app, freeze_heap

    dsn = database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    load_before = os.getloadavg()[0]
    await asyncio.to_thread(migrate.upgrade, database_url)
    conn = await asyncpg.connect(dsn, server_settings={"plan_cache_mode": "force_custom_plan"})
    try:
        data = await prepare(conn, database_url, args)
        with tempfile.TemporaryDirectory(prefix="atelier-bench-drive-") as storage_dir:
            app = create_app(bench_settings(database_url, args.redis_url, storage_dir))
            async with app.router.lifespan_context(app):
                freeze_heap()  # as the API's process does (miniapp_api.app.serve_app)
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
                    measure = Measure(c, conn, data, args)
                    pages = await measure.folder_pages()
                    parts = await measure.breakdown(app)
                    searches = await measure.searches()
                    s3_links = await s3_page_links(max(10, args.samples // 10))
                    usage = await measure.usage()
    finally:
        await conn.close()
    print_rows(f"folder page of {PAGE}, ms (biggest folder)", pages, 99, "files query")
    print_parts(parts)
    ours, botocore = s3_links
    console.print(
        f"a page's 80 links on S3: {ours.p50:.2f} ms presigned by S3Storage, {botocore.p50:.2f}"
        f" ms by botocore one by one in worker threads ({botocore.p50 / ours.p50:.0f}×)"
    )
    print_rows(f"search, first page of {SEARCH_PAGE}, ms (whole drive)", searches, 95, "one query")
    print_rows("storage usage, ms", usage, 99, "old SUM")
    verdicts(pages, searches)
    console.print(
        f"[dim]load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after, on "
        f"{os.cpu_count()} CPUs; {args.samples} sequential samples per row[/]"
    )


async def prepare(conn: asyncpg.Connection, database_url: str, args: argparse.Namespace) -> Dataset:
    """Seed (unless this database holds the bench tenant already) and describe the data."""
    seeded = await conn.fetchval("SELECT count(*) FROM tenants WHERE name = 'Bench Drive'")
    if not seeded:
        console.print(f"seeding {args.files:,} files over {args.users:,} fans …")
        started = time.perf_counter()
        await seed(conn, args)
        console.print(f"seeded in {time.perf_counter() - started:.1f} s")
    data = await dataset(conn)
    if not seeded:
        await reconcile(database_url, data.tenant_id)
    console.print(
        f"{data.files:,} files in the tenant; the heaviest fan has {data.user_files:,}, "
        f"{data.big_folder_files:,} of them live in one folder"
    )
    return data


async def reconcile(database_url: str, tenant_id: int) -> None:
    """Counters for rows seeded with triggers off: the drive's own reconciliation, timed."""
    engine = create_engine(url=database_url)
    try:
        started = time.perf_counter()
        async with session_scope(create_session_factory(engine)) as session:
            drift = await drive.reconcile_usage(session, tenant_id)
        console.print(
            f"[dim]  usage reconciled ({len(drift)} counter rows written): "
            f"{time.perf_counter() - started:.1f} s[/]"
        )
    finally:
        await engine.dispose()


async def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.drive", description=__doc__)
    parser.add_argument("--database-url", help="postgresql+asyncpg://... (default: throwaway)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15", help="not flushed")
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--pages", type=int, default=100, help="cursor pages to walk")
    parser.add_argument("--explain", action="store_true", help="print the raw queries' plans")
    args = parser.parse_args(argv)
    async with database(args.database_url, "drive") as url:
        await run(url, args)


if __name__ == "__main__":
    asyncio.run(main())
