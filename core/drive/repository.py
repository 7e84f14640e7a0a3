"""All SQL of the drive. Every statement starts from :func:`core.db.tenant_select` (or filters
``tenant_id`` first) and names the user, so one fan's query never sees another's rows.

Pages and searches must run on a session of the reads engine (``core.db.read_scope`` over
``create_engine(for_reads=True)``, the API's ``ReadsDep``), whose connections plan every
statement for its values. asyncpg prepares each statement, and after five runs PostgreSQL may
switch a prepared statement to a generic plan, which estimates "one user's files in one
folder" from averages — a row or two — and then takes whichever index is smallest and sorts:
70-140 ms for a folder of 30,000 files instead of 1 ms walking the index that is already in
order. The values of a fan with a big drive are exactly what that plan gets wrong.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Select,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal_column,
    or_,
    select,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from core.db import fetch_rows, tenant_select
from core.models import DriveUsage, File, FileTag, Folder, Post, PostAccess, PostMedia, ShareLink
from core.models.drive import FileSource

SEARCH_WINDOW = 5000
"""How many of the user's newest files a search filters before it asks an index instead."""
SEARCH_WALK = 20_000
"""How many more rows a search may walk when the first window held some matches but too few
(~1.5 µs a row: a walk this long costs about what the index step costs for a common word)."""


class ListedFile(Protocol):
    """A file as pages and searches list it: a row of ``files``' columns, read without the
    ORM (building 100 ``File`` objects cost more than the statement). A ``File`` fits too."""

    @property
    def id(self) -> int: ...
    @property
    def tenant_id(self) -> int: ...
    @property
    def user_id(self) -> int: ...
    @property
    def folder_id(self) -> int | None: ...
    @property
    def name(self) -> str: ...
    @property
    def storage_key(self) -> str: ...
    @property
    def mime_type(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def width(self) -> int | None: ...
    @property
    def height(self) -> int | None: ...
    @property
    def duration(self) -> float | None: ...
    @property
    def thumbnail_key(self) -> str | None: ...
    @property
    def thumbnail_mime(self) -> str | None: ...
    @property
    def source(self) -> str: ...
    @property
    def job_id(self) -> int | None: ...
    @property
    def provenance(self) -> dict[str, Any] | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def deleted_at(self) -> datetime | None: ...


class ListedFolder(Protocol):
    """A folder as a page lists it (a row of ``folders``' columns; a ``Folder`` fits too)."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def parent_id(self) -> int | None: ...
    @property
    def color(self) -> str | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def deleted_at(self) -> datetime | None: ...


class FileRow(NamedTuple):
    """A :class:`ListedFile` as pages and searches read it: a plain tuple. Reading a field of
    SQLAlchemy's ``Row`` costs about a microsecond, and a page's JSON reads twenty fields of
    a hundred files (2 ms a page); a named tuple's field costs a tenth of that."""

    id: int
    tenant_id: int
    user_id: int
    folder_id: int | None
    name: str
    storage_key: str
    mime_type: str
    size: int
    width: int | None
    height: int | None
    duration: float | None
    thumbnail_key: str | None
    thumbnail_mime: str | None
    source: str
    job_id: int | None
    provenance: dict[str, Any] | None
    created_at: datetime
    deleted_at: datetime | None


class FolderRow(NamedTuple):
    """A :class:`ListedFolder` as a page reads it (a plain tuple, as :class:`FileRow`)."""

    id: int
    name: str
    parent_id: int | None
    color: str | None
    created_at: datetime
    deleted_at: datetime | None


TaggedFiles = tuple[Sequence[ListedFile], dict[int, list[str]]]
"""Files and the tags of each (sorted), read in the same statement."""
_TAG_SEPARATOR = "\n"  # tags never hold one (core.drive.service.clean_tags)

# The statements of pages and searches are built once per shape (``functools.cache``) with
# named parameters and run with the values: building and hashing a statement with a CTE, a
# union or an alias cost 0.4-1.8 ms of CPU per call, more than running it.


def _dialect(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


def _tags_column(dialect: str, row: Any) -> Any:
    """The tags of ``row`` as one correlated column, so a page's tags cost no statement of
    their own: an array on PostgreSQL, a joined string on SQLite."""
    aggregate = (
        func.array_agg(FileTag.tag)
        if dialect == "postgresql"
        else func.group_concat(FileTag.tag, _TAG_SEPARATOR)
    )
    return (
        select(aggregate)
        .where(FileTag.file_id == row.id, FileTag.tenant_id == row.tenant_id)
        .scalar_subquery()
    )


async def _tagged(session: AsyncSession, stmt: Select[Any], values: dict[str, Any]) -> TaggedFiles:
    """Run a statement selecting the :func:`_listed` columns and the tags (:func:`_tags_column`)."""
    files: list[ListedFile] = []
    tags: dict[int, list[str]] = {}
    for *columns, found in await fetch_rows(session, stmt, values):
        file = FileRow(*columns)
        files.append(file)
        if found:
            listed = found.split(_TAG_SEPARATOR) if isinstance(found, str) else found
            tags[file.id] = sorted(listed)
    return files, tags


def _listed(columns: Any) -> list[Any]:
    """The columns of :class:`FileRow`, in its order: the provenance only of generated files,
    the only ones that show it (every other row would pay for decoding its JSON)."""
    generated = case((columns.source == FileSource.GENERATED, columns.provenance))
    return [
        generated.label("provenance") if name == "provenance" else columns[name]
        for name in FileRow._fields
    ]


def _live(model: Any) -> ColumnElement[bool]:
    """``deleted_at IS NULL``, spelled as the partial indexes' predicate so they apply."""
    result: ColumnElement[bool] = model.deleted_at.is_(None)
    return result


# -- folders -----------------------------------------------------------------------------------


async def get_folder(
    session: AsyncSession, tenant_id: int, user_id: int, folder_id: int, *, trashed: bool = False
) -> Folder | None:
    stmt = tenant_select(Folder, tenant_id).where(Folder.user_id == user_id, Folder.id == folder_id)
    if not trashed:
        stmt = stmt.where(_live(Folder))
    folder: Folder | None = await session.scalar(stmt)
    return folder


async def all_folders(session: AsyncSession, tenant_id: int, user_id: int) -> Sequence[Folder]:
    stmt = (
        tenant_select(Folder, tenant_id)
        .where(Folder.user_id == user_id, _live(Folder))
        .order_by(Folder.name, Folder.id)
    )
    return (await session.scalars(stmt)).all()


async def name_taken(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    parent_id: int | None,
    name: str,
    *,
    except_id: int | None = None,
) -> bool:
    """Whether a folder (live or trashed: the UNIQUE constraint counts both) has the name."""
    stmt = tenant_select(Folder, tenant_id).where(
        Folder.user_id == user_id, Folder.parent_key == (parent_id or 0), Folder.name == name
    )
    if except_id is not None:
        stmt = stmt.where(Folder.id != except_id)
    return await session.scalar(stmt.limit(1)) is not None


def _chain(columns: Sequence[Any] = tuple(Folder.__table__.c)) -> Any:
    """The folder (``:folder_id``) and its parents with their depth (0 for the folder), as a
    recursive CTE that carries its rows' ``columns`` (``parent_id`` among them), so it never
    joins back to ``folders`` (which planned as a scan of all the tenant's folders). Depths
    are written into the SQL, not bound: every parameter is a little more to plan."""
    base = select(*columns, literal_column("0").label("depth")).where(
        Folder.tenant_id == bindparam("tenant_id"),
        Folder.user_id == bindparam("user_id"),
        Folder.id == bindparam("folder_id"),
    )
    chain = base.cte("chain", recursive=True)
    return chain.union_all(
        select(*columns, (chain.c.depth + literal_column("1")).label("depth")).where(
            Folder.tenant_id == bindparam("tenant_id"), Folder.id == chain.c.parent_id
        )
    )


@cache
def _ancestors_stmt() -> Select[Any]:
    chain = _chain()
    return select(aliased(Folder, chain)).order_by(chain.c.depth.desc())


async def ancestors(
    session: AsyncSession, tenant_id: int, user_id: int, folder_id: int
) -> list[Folder]:
    """The folder and its parents, root first (one recursive query, both databases)."""
    values = {"tenant_id": tenant_id, "user_id": user_id, "folder_id": folder_id}
    return list((await session.scalars(_ancestors_stmt(), values)).all())


@cache
def _crumbs_and_children_stmt(in_folder: bool, children: bool) -> Select[Any]:
    columns = [Folder.__table__.c[name] for name in FolderRow._fields]
    parts: list[Select[Any]] = []
    if in_folder:
        parts.append(select(*_chain(columns).c))
    if children:
        parts.append(
            select(*columns, literal_column("-1").label("depth")).where(
                Folder.tenant_id == bindparam("tenant_id"),
                Folder.user_id == bindparam("user_id"),
                Folder.parent_key == bindparam("parent_key"),
                _live(Folder),
            )
        )
    both = (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("both")
    return select(both).order_by(both.c.depth.desc(), both.c.name, both.c.id)


@cache
def _crumbs_and_children_function() -> Select[Any]:
    found = func.drive_breadcrumbs_and_subfolders(
        bindparam("tenant_id", type_=BigInteger),
        bindparam("user_id", type_=BigInteger),
        bindparam("folder_id", type_=BigInteger),
        bindparam("children", type_=Boolean),
    ).table_valued(*FolderRow._fields, "depth")
    return select(found)


async def crumbs_and_children(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    folder_id: int | None,
    *,
    children: bool,
) -> tuple[list[ListedFolder], list[ListedFolder]]:
    """In one statement: the folder and its parents, root first (none at the root), and,
    with ``children``, its live subfolders by name (:class:`FolderRow`)."""
    if folder_id is None and not children:
        return [], []
    values = {
        "tenant_id": tenant_id,
        "user_id": user_id,
        "folder_id": folder_id,
        "parent_key": folder_id or 0,
        "children": children,
    }
    if _dialect(session) == "postgresql":
        # The same query in a function whose plan is kept (see the migration 2287971d4313):
        # planning it cost five times running it on the reads engine's connections.
        stmt = _crumbs_and_children_function()
    else:
        stmt = _crumbs_and_children_stmt(folder_id is not None, children)
    crumbs: list[ListedFolder] = []
    below: list[ListedFolder] = []
    for *columns, depth in await fetch_rows(session, stmt, values):
        (crumbs if depth >= 0 else below).append(FolderRow(*columns))
    return crumbs, below


async def subtree_ids(
    session: AsyncSession, tenant_id: int, user_id: int, folder_id: int
) -> list[int]:
    """The folder and every folder below it, trashed or not."""
    tree = (
        select(Folder.id)
        .where(Folder.tenant_id == tenant_id, Folder.user_id == user_id, Folder.id == folder_id)
        .cte("tree", recursive=True)
    )
    tree = tree.union_all(
        select(Folder.id).where(Folder.tenant_id == tenant_id, Folder.parent_id == tree.c.id)
    )
    return list((await session.scalars(select(tree.c.id))).all())


async def mark_subtree(
    session: AsyncSession,
    tenant_id: int,
    folder_ids: Sequence[int],
    *,
    deleted_at: datetime | None,
    only_deleted_at: datetime | None = None,
) -> None:
    """Trash (``deleted_at`` set) or restore (``None``) folders and the files in them.

    Restoring passes ``only_deleted_at`` (the folder's own trash time) so items that were
    trashed on their own before stay in the trash."""
    for model, column in ((Folder, Folder.id), (File, File.folder_id)):
        stmt = update(model).where(model.tenant_id == tenant_id, column.in_(folder_ids))
        if deleted_at is not None:
            stmt = stmt.where(model.deleted_at.is_(None))
        elif only_deleted_at is not None:
            stmt = stmt.where(model.deleted_at == only_deleted_at)
        await session.execute(stmt.values(deleted_at=deleted_at))


# -- files -------------------------------------------------------------------------------------


async def get_file(
    session: AsyncSession, tenant_id: int, user_id: int, file_id: int, *, trashed: bool = False
) -> File | None:
    stmt = tenant_select(File, tenant_id).where(File.user_id == user_id, File.id == file_id)
    if not trashed:
        stmt = stmt.where(_live(File))
    file: File | None = await session.scalar(stmt)
    return file


async def get_files(
    session: AsyncSession, tenant_id: int, user_id: int, file_ids: Sequence[int]
) -> Sequence[File]:
    stmt = tenant_select(File, tenant_id).where(
        File.user_id == user_id, File.id.in_(file_ids), _live(File)
    )
    return (await session.scalars(stmt)).all()


SORT_COLUMNS: dict[str, Any] = {
    "name": File.name,
    "date": File.created_at,
    "size": File.size,
    "type": File.mime_type,
}


def _after(column: Any, row: Any, descending: bool) -> ColumnElement[bool]:
    """The keyset condition: ``(column, id)`` past ``(:after_value, :after_id)``, a row-value
    comparison PostgreSQL answers from the ``(..., column, id)`` index without an OFFSET."""
    bound = tuple_(
        bindparam("after_value", type_=column.type), bindparam("after_id", type_=File.id.type)
    )
    left = tuple_(getattr(row, column.key), row.id)
    return left < bound if descending else left > bound


@cache
def _files_stmt(dialect: str, sort: str, descending: bool, root: bool, keyset: bool) -> Select[Any]:
    column = SORT_COLUMNS[sort]
    where = [
        File.tenant_id == bindparam("tenant_id"),
        File.user_id == bindparam("user_id"),
        File.folder_id.is_(None) if root else File.folder_id == bindparam("folder_id"),
        _live(File),
    ]
    if keyset:
        where.append(_after(column, File, descending))
    order = [File.folder_id, column, File.id]
    return (
        select(*_listed(File.__table__.c), _tags_column(dialect, File))
        .where(*where)
        .order_by(*(c.desc() if descending else c.asc() for c in order))
        .limit(bindparam("limit"))
    )


async def list_files(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    folder_id: int | None,
    *,
    sort: str,
    descending: bool,
    after: tuple[Any, int] | None,
    limit: int,
) -> TaggedFiles:
    """One page of a folder's live files with their tags, keyset-paginated on
    ``(sort column, id)``.

    The order starts with ``folder_id``, constant here: ``folder_id = x`` tells the planner
    so, but ``folder_id IS NULL`` (the root) does not, and without it the planner cannot see
    that ``ix_files_live_folder_<sort>`` already returns the root in order (it sorted all of
    the root instead: 140 ms for a root of 24,000 files)."""
    stmt = _files_stmt(_dialect(session), sort, descending, folder_id is None, after is not None)
    values = {"tenant_id": tenant_id, "user_id": user_id, "folder_id": folder_id, "limit": limit}
    if after is not None:
        values |= {"after_value": after[0], "after_id": after[1]}
    return await _tagged(session, stmt, values)


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """What a search asks for: every criterion given must hold (at least one is given)."""

    query: str | None = None
    tag: str | None = None
    mime_prefix: str | None = None

    @property
    def shape(self) -> tuple[bool, bool, bool]:
        return bool(self.query), bool(self.tag), bool(self.mime_prefix)

    def values(self) -> dict[str, Any]:
        return {
            "name_pattern": f"%{_escape_like(self.query or '')}%",
            "tag": self.tag,
            "mime_pattern": f"{_escape_like(self.mime_prefix or '')}%",
        }


def _conditions(shape: tuple[bool, bool, bool], row: Any) -> list[ColumnElement[bool]]:
    """The criteria of a search of this shape over ``row`` (the files table or an alias)."""
    query, tag, mime = shape
    found: list[ColumnElement[bool]] = []
    if query:
        found.append(row.name.ilike(bindparam("name_pattern"), escape="\\"))
    if mime:
        found.append(row.mime_type.like(bindparam("mime_pattern"), escape="\\"))
    if tag:
        tagged = select(FileTag.file_id).where(
            FileTag.tenant_id == bindparam("tenant_id"),
            FileTag.user_id == bindparam("user_id"),
            FileTag.tag == bindparam("tag"),
        )
        found.append(row.id.in_(tagged))
    return found


def _newest_first(row: Any) -> list[Any]:
    return [row.created_at.desc(), row.id.desc()]


def _owned_live(keyset: bool) -> list[ColumnElement[bool]]:
    where = [
        File.tenant_id == bindparam("tenant_id"),
        File.user_id == bindparam("user_id"),
        _live(File),
    ]
    return [*where, _after(File.created_at, File, True)] if keyset else where


@cache
def _search_recent_stmt(dialect: str, shape: tuple[bool, bool, bool], keyset: bool) -> Select[Any]:
    """The matches among the user's ``:window`` newest files (after the cursor): one ordered
    walk of ``ix_files_live_created_at`` that stops at ``:limit`` matches."""
    recent = (
        select(File)
        .where(*_owned_live(keyset))
        .order_by(*_newest_first(File))
        .limit(bindparam("window"))
        .subquery("recent")
    )
    row = recent.c
    return (
        select(*_listed(row), _tags_column(dialect, row))
        .where(*_conditions(shape, row))
        .order_by(*_newest_first(row))
        .limit(bindparam("limit"))
    )


@cache
def _search_indexed_stmt(dialect: str, shape: tuple[bool, bool, bool], keyset: bool) -> Select[Any]:
    """Every match in the user's drive, found through an index (the trigram GIN for names
    and types, the tag index for tags), then the newest ``:limit`` of them. The matches are
    a materialised CTE so the planner cannot turn this back into the walk that just failed."""
    matches = (
        select(File.id, File.created_at)
        .where(*_owned_live(keyset), *_conditions(shape, File))
        .cte("matches")
        .prefix_with("MATERIALIZED")
    )
    newest = (
        select(matches.c.id)
        .order_by(matches.c.created_at.desc(), matches.c.id.desc())
        .limit(bindparam("limit"))
        .subquery("newest")
    )
    return (
        select(*_listed(File.__table__.c), _tags_column(dialect, File))
        .join(newest, newest.c.id == File.id)
        .where(File.tenant_id == bindparam("tenant_id"))
        .order_by(*_newest_first(File))
    )


async def search_files(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    wanted: SearchFilter,
    *,
    after: tuple[Any, int] | None,
    limit: int,
) -> TaggedFiles:
    """Live files of the user matching ``wanted`` with their tags, newest first, keyset
    after ``after``.

    In steps, so neither a common nor a rare criterion is slow whatever the planner guesses
    about a pattern: first the newest :data:`SEARCH_WINDOW` files are filtered (a common match
    fills the page within a few hundred rows). If some matched there but too few, the walk
    goes on as far as their density says the page needs (at most :data:`SEARCH_WALK` rows).
    Whatever is still missing is rare, and an index finds every such match cheaply."""
    shape, keyset, dialect = wanted.shape, after is not None, _dialect(session)
    values = {
        "tenant_id": tenant_id,
        "user_id": user_id,
        "limit": limit,
        "window": SEARCH_WINDOW,
        **wanted.values(),
    }
    if after is not None:
        values |= {"after_value": after[0], "after_id": after[1]}
    files, tags = await _tagged(session, _search_recent_stmt(dialect, shape, keyset), values)
    if files and len(files) < limit and not wanted.tag:
        # Neither common nor rare: walk on past the last match as far as the matches'
        # density says the rest of the page lies (twice that, for luck), if that is near.
        # Not for a tag, which costs an index probe a row (4 µs: 40 ms for 10,000 rows).
        rows = math.ceil(2 * (limit - len(files)) * SEARCH_WINDOW / len(files))
        if rows <= SEARCH_WALK:
            more = _past(files[-1], limit - len(files)) | {"window": rows}
            found = await _tagged(session, _search_recent_stmt(dialect, shape, True), values | more)
            files, tags = [*files, *found[0]], tags | found[1]
    if len(files) == limit:
        return files, tags
    # The rest is rare (or absent): an index finds every match past the last one found.
    rest = values | _past(files[-1], limit - len(files)) if files else values
    indexed = _search_indexed_stmt(dialect, shape, bool(files) or keyset)
    found = await _tagged(session, indexed, rest)
    return [*files, *found[0]], tags | found[1]


def _past(file: ListedFile, limit: int) -> dict[str, Any]:
    """The values that continue a newest-first search after ``file``, for ``limit`` more."""
    return {"after_value": file.created_at, "after_id": file.id, "limit": limit}


async def trashed(
    session: AsyncSession,
    tenant_id: int,
    user_id: int,
    *,
    after: tuple[datetime, int] | None = None,
    limit: int | None = None,
) -> tuple[Sequence[Folder], Sequence[File]]:
    """What the trash shows, latest first: trashed items whose folder is not itself in the
    trash. Folders come whole with the first page (``after`` None); files ``limit`` at a
    time, keyset on ``(deleted_at, id)`` (``ix_files_trash``)."""
    parent = Folder.__table__.alias("parent")
    folders: Sequence[Folder] = []
    if after is None:
        found = await session.scalars(
            tenant_select(Folder, tenant_id)
            .outerjoin(parent, parent.c.id == Folder.parent_id)
            .where(
                Folder.user_id == user_id,
                Folder.deleted_at.is_not(None),
                or_(parent.c.id.is_(None), parent.c.deleted_at.is_(None)),
            )
            .order_by(Folder.deleted_at.desc(), Folder.id.desc())
        )
        folders = found.all()
    stmt = (
        tenant_select(File, tenant_id)
        .outerjoin(parent, parent.c.id == File.folder_id)
        .where(
            File.user_id == user_id,
            File.deleted_at.is_not(None),
            or_(parent.c.id.is_(None), parent.c.deleted_at.is_(None)),
        )
        .order_by(File.deleted_at.desc(), File.id.desc())
        .limit(limit)
    )
    if after is not None:
        stmt = stmt.where(tuple_(File.deleted_at, File.id) < tuple_(*after))
    return folders, (await session.scalars(stmt)).all()


async def trashed_files(
    session: AsyncSession, tenant_id: int, user_id: int, folder_ids: Sequence[int] = ()
) -> Sequence[File]:
    """Every trashed file of the user (or only those in ``folder_ids``)."""
    stmt = tenant_select(File, tenant_id).where(
        File.user_id == user_id, File.deleted_at.is_not(None)
    )
    if folder_ids:
        stmt = stmt.where(File.folder_id.in_(folder_ids))
    return (await session.scalars(stmt)).all()


async def delete_files(session: AsyncSession, tenant_id: int, file_ids: Sequence[int]) -> None:
    if file_ids:
        await session.execute(
            delete(File).where(File.tenant_id == tenant_id, File.id.in_(file_ids))
        )


async def delete_trashed_folders(
    session: AsyncSession, tenant_id: int, user_id: int, folder_ids: Sequence[int] = ()
) -> None:
    stmt = delete(Folder).where(
        Folder.tenant_id == tenant_id, Folder.user_id == user_id, Folder.deleted_at.is_not(None)
    )
    if folder_ids:
        stmt = stmt.where(Folder.id.in_(folder_ids))
    await session.execute(stmt)


async def expired_trash(
    session: AsyncSession, before: datetime, limit: int
) -> tuple[Sequence[File], Sequence[Folder]]:
    """Files and folders trashed before ``before``, across tenants (the purge cron)."""
    files = await session.scalars(
        select(File).where(File.deleted_at < before).order_by(File.id).limit(limit)
    )
    folders = await session.scalars(
        select(Folder).where(Folder.deleted_at < before).order_by(Folder.id).limit(limit)
    )
    return files.all(), folders.all()


async def delete_files_any(session: AsyncSession, file_ids: Sequence[int]) -> None:
    """Delete files of any tenant by id (the purge cron, which works across tenants)."""
    if file_ids:
        await session.execute(delete(File).where(File.id.in_(file_ids)))


async def delete_folders(session: AsyncSession, folder_ids: Sequence[int]) -> None:
    if folder_ids:
        await session.execute(delete(Folder).where(Folder.id.in_(folder_ids)))


# -- tags --------------------------------------------------------------------------------------


async def tags_of(
    session: AsyncSession, tenant_id: int, file_ids: Sequence[int]
) -> dict[int, list[str]]:
    if not file_ids:
        return {}
    rows = await session.execute(
        select(FileTag.file_id, FileTag.tag)
        .where(FileTag.tenant_id == tenant_id, FileTag.file_id.in_(file_ids))
        .order_by(FileTag.tag)
    )
    tags: dict[int, list[str]] = {}
    for file_id, tag in rows:
        tags.setdefault(file_id, []).append(tag)
    return tags


async def replace_tags(session: AsyncSession, file: File, tags: Sequence[str]) -> None:
    await session.execute(
        delete(FileTag).where(FileTag.tenant_id == file.tenant_id, FileTag.file_id == file.id)
    )
    session.add_all(
        FileTag(tenant_id=file.tenant_id, user_id=file.user_id, file_id=file.id, tag=tag)
        for tag in tags
    )
    await session.flush()


async def user_tags(session: AsyncSession, tenant_id: int, user_id: int) -> list[tuple[str, int]]:
    rows = await session.execute(
        select(FileTag.tag, func.count())
        .where(FileTag.tenant_id == tenant_id, FileTag.user_id == user_id)
        .group_by(FileTag.tag)
        .order_by(FileTag.tag)
    )
    return [(tag, count) for tag, count in rows]


# -- usage -------------------------------------------------------------------------------------


async def usage_of(session: AsyncSession, tenant_id: int, user_id: int) -> tuple[int, int]:
    """Bytes stored by the tenant and by the user (trash included), from the counters."""
    rows = await session.execute(
        select(DriveUsage.user_key, DriveUsage.bytes).where(
            DriveUsage.tenant_id == tenant_id, DriveUsage.user_key.in_((0, user_id))
        )
    )
    found: dict[int, int] = {key: value for key, value in rows}
    return found.get(0, 0), found.get(user_id, 0)


async def tenant_bytes(session: AsyncSession, tenant_id: int) -> int:
    """Bytes stored by the tenant, from its counter row (exact once this transaction has
    written a file: the triggers then hold the row until commit)."""
    value = await session.scalar(
        select(DriveUsage.bytes).where(DriveUsage.tenant_id == tenant_id, DriveUsage.user_key == 0)
    )
    return int(value or 0)


def _upsert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(DriveUsage)


async def lock_usage(session: AsyncSession, tenant_id: int) -> None:
    """Hold the tenant's counter row (made if missing) until commit: every trigger locks it
    first, so no file of the tenant is added or removed meanwhile."""
    await session.execute(
        _upsert(session)
        .values(tenant_id=tenant_id, user_key=0, user_id=None, bytes=0, files=0)
        .on_conflict_do_nothing()
    )
    await session.execute(
        select(DriveUsage.user_key)
        .where(DriveUsage.tenant_id == tenant_id, DriveUsage.user_key == 0)
        .with_for_update()
    )


UsageRows = dict[tuple[int, int | None], tuple[int, int]]
"""``(user_key, user_id)`` → ``(bytes, files)``; ``(0, None)`` is the whole tenant."""


async def usage_rows(session: AsyncSession, tenant_id: int) -> UsageRows:
    rows = await session.execute(
        select(DriveUsage.user_key, DriveUsage.user_id, DriveUsage.bytes, DriveUsage.files).where(
            DriveUsage.tenant_id == tenant_id
        )
    )
    return {(key, user): (stored, files) for key, user, stored, files in rows}


async def usage_from_files(session: AsyncSession, tenant_id: int) -> UsageRows:
    """What the counters should say: sums over the tenant's ``files`` rows."""
    rows = await session.execute(
        select(File.user_id, func.sum(File.size), func.count())
        .where(File.tenant_id == tenant_id)
        .group_by(File.user_id)
    )
    found: UsageRows = {}
    total_bytes = total_files = 0
    for user_id, stored, files in rows:
        found[(user_id, user_id)] = (int(stored), int(files))
        total_bytes, total_files = total_bytes + int(stored), total_files + int(files)
    found[(0, None)] = (total_bytes, total_files)
    return found


async def write_usage(session: AsyncSession, tenant_id: int, rows: UsageRows) -> None:
    """Set these counter rows (made if missing), a thousand rows per statement (a statement
    carries at most 32,767 parameters)."""
    values = [
        {"tenant_id": tenant_id, "user_key": key, "user_id": user, "bytes": b, "files": n}
        for (key, user), (b, n) in sorted(rows.items(), key=lambda item: item[0][0])
    ]
    for start in range(0, len(values), 1000):
        stmt = _upsert(session).values(values[start : start + 1000])
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["tenant_id", "user_key"],
                set_={"bytes": stmt.excluded.bytes, "files": stmt.excluded.files},
            )
        )


async def tenants_with_usage(session: AsyncSession) -> list[int]:
    """Tenants with a counter row or a file (the reconciliation cron's work list)."""
    counted = select(DriveUsage.tenant_id).where(DriveUsage.user_key == 0)
    stored = select(File.tenant_id).distinct()
    return sorted(set((await session.scalars(counted.union(stored))).all()))


# -- share links -------------------------------------------------------------------------------


async def share_by_hash(session: AsyncSession, token_hash: str) -> ShareLink | None:
    link: ShareLink | None = await session.scalar(
        select(ShareLink).where(ShareLink.token_hash == token_hash)
    )
    return link


async def get_share(
    session: AsyncSession, tenant_id: int, user_id: int, share_id: int
) -> ShareLink | None:
    link: ShareLink | None = await session.scalar(
        tenant_select(ShareLink, tenant_id).where(
            ShareLink.user_id == user_id, ShareLink.id == share_id
        )
    )
    return link


async def shares_of_file(
    session: AsyncSession, tenant_id: int, file_id: int
) -> Sequence[ShareLink]:
    stmt = (
        tenant_select(ShareLink, tenant_id)
        .where(ShareLink.file_id == file_id)
        .order_by(ShareLink.id.desc())
    )
    return (await session.scalars(stmt)).all()


async def file_for_share(session: AsyncSession, link: ShareLink) -> File | None:
    file: File | None = await session.scalar(
        tenant_select(File, link.tenant_id).where(File.id == link.file_id, _live(File))
    )
    return file


async def is_premium_file(session: AsyncSession, tenant_id: int, file_id: int) -> bool:
    """Whether the file is media of a live post that is not free (premium content): such a
    file is never shared by public link, whoever asks and whenever the link was made."""
    stmt = (
        select(PostMedia.id)
        .join(Post, and_(Post.id == PostMedia.post_id, Post.tenant_id == tenant_id))
        .where(
            PostMedia.tenant_id == tenant_id,
            PostMedia.file_id == file_id,
            Post.deleted_at.is_(None),
            Post.access != PostAccess.FREE,
        )
        .limit(1)
    )
    return await session.scalar(stmt) is not None
