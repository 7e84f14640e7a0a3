"""drive at scale: usage counters kept by triggers, live-row indexes per sort, scoped search

Revision ID: dfeb8266683f
Revises: 7c1e4b9a2d30
Create Date: 2026-11-22 00:10:00.000000

``drive_usage`` holds bytes and files per tenant (``user_key`` 0) and per user; triggers on
``files`` keep it in step in the same transaction as every insert, delete and size change (a
statement-level trigger with transition tables on PostgreSQL, so a purge of 10,000 files
updates each counter row once; row triggers on SQLite). The rows are backfilled from ``files``.

Indexes: one b-tree per folder sort over live rows, one for "newest first" across the user's
drive, a GIN over (tenant_id, user_id, name, mime_type) for search (``btree_gin`` +
``pg_trgm``; a plain index on SQLite), ``files.folder_id`` and ``folders.parent_id`` for their
foreign keys (rows in a folder only), and a small one over the trash. The old unscoped trigram index and the indexes
the new ones cover go. Creating indexes on a big ``files`` table blocks writes to it for the
seconds each takes (about one second per million rows here).
"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "dfeb8266683f"
down_revision: Union[str, Sequence[str], None] = "7c1e4b9a2d30"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

LIVE = sa.text("deleted_at IS NULL")
TRASHED = sa.text("deleted_at IS NOT NULL")
IN_FOLDER = sa.text("folder_id IS NOT NULL")

# -- PostgreSQL: one statement-level trigger function for inserts, deletes and updates --------
# Counter rows are locked in (tenant_id, user_key) order, the tenant's row (user_key 0) first,
# so writers never wait on each other in opposite orders. Deletes only UPDATE existing rows: a
# cascade (a deleted user or tenant) may have removed them already, and inserting would then
# break the foreign key. Updates touch the counters only when a size or an owner changed.
_PG_APPLY = """
    INSERT INTO drive_usage AS u (tenant_id, user_key, user_id, bytes, files)
    SELECT c.tenant_id, k.key, k.user_id, sum(c.bytes), sum(c.files)
    FROM ({changes}) AS c, LATERAL (VALUES (0, NULL::bigint), (c.user_id, c.user_id)) AS k(key, user_id)
    GROUP BY c.tenant_id, k.key, k.user_id
    HAVING sum(c.bytes) <> 0 OR sum(c.files) <> 0
    ORDER BY c.tenant_id, k.key
    ON CONFLICT (tenant_id, user_key) DO UPDATE
    SET bytes = u.bytes + excluded.bytes, files = u.files + excluded.files;
"""
_PG_ADDED = "SELECT tenant_id, user_id, size AS bytes, 1 AS files FROM added"
_PG_CHANGED = f"{_PG_ADDED} UNION ALL SELECT tenant_id, user_id, -size, -1 FROM gone"
PG_FUNCTION = f"""
CREATE FUNCTION drive_usage_track() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {_PG_APPLY.format(changes=_PG_ADDED)}
    ELSIF TG_OP = 'UPDATE' THEN
        {_PG_APPLY.format(changes=_PG_CHANGED)}
    ELSE
        PERFORM 1 FROM drive_usage AS u
        WHERE (u.tenant_id, u.user_key) IN (
            SELECT g.tenant_id, k.key FROM gone AS g, LATERAL (VALUES (0), (g.user_id)) AS k(key)
        )
        ORDER BY u.tenant_id, u.user_key
        FOR UPDATE;
        UPDATE drive_usage AS u SET bytes = u.bytes - d.bytes, files = u.files - d.files
        FROM (
            SELECT g.tenant_id, k.key, sum(g.size) AS bytes, count(*) AS files
            FROM gone AS g, LATERAL (VALUES (0), (g.user_id)) AS k(key)
            GROUP BY g.tenant_id, k.key
        ) AS d
        WHERE u.tenant_id = d.tenant_id AND u.user_key = d.key;
    END IF;
    RETURN NULL;
END
$$
"""
PG_TRIGGERS = (
    "CREATE TRIGGER files_usage_insert AFTER INSERT ON files REFERENCING NEW TABLE AS added"
    " FOR EACH STATEMENT EXECUTE FUNCTION drive_usage_track()",
    "CREATE TRIGGER files_usage_delete AFTER DELETE ON files REFERENCING OLD TABLE AS gone"
    " FOR EACH STATEMENT EXECUTE FUNCTION drive_usage_track()",
    "CREATE TRIGGER files_usage_update AFTER UPDATE ON files"
    " REFERENCING OLD TABLE AS gone NEW TABLE AS added"
    " FOR EACH STATEMENT EXECUTE FUNCTION drive_usage_track()",
)

# -- SQLite: row triggers (one writer at a time there, so no lock order to keep) ----------------
_SQLITE_ADD = """
    INSERT INTO drive_usage (tenant_id, user_key, user_id, bytes, files)
    VALUES (NEW.tenant_id, 0, NULL, NEW.size, 1), (NEW.tenant_id, NEW.user_id, NEW.user_id, NEW.size, 1)
    ON CONFLICT (tenant_id, user_key) DO UPDATE
    SET bytes = bytes + excluded.bytes, files = files + excluded.files;
"""
_SQLITE_REMOVE = """
    UPDATE drive_usage SET bytes = bytes - OLD.size, files = files - 1
    WHERE tenant_id = OLD.tenant_id AND user_key IN (0, OLD.user_id);
"""
SQLITE_TRIGGERS = (
    f"CREATE TRIGGER files_usage_insert AFTER INSERT ON files BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER files_usage_delete AFTER DELETE ON files BEGIN {_SQLITE_REMOVE} END",
    "CREATE TRIGGER files_usage_update AFTER UPDATE OF tenant_id, user_id, size ON files"
    " WHEN OLD.tenant_id IS NOT NEW.tenant_id OR OLD.user_id IS NOT NEW.user_id"
    f" OR OLD.size IS NOT NEW.size BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD} END",
)

BACKFILL = """
INSERT INTO drive_usage (tenant_id, user_key, user_id, bytes, files)
SELECT tenant_id, 0, NULL, sum(size), count(*) FROM files GROUP BY tenant_id
UNION ALL
SELECT tenant_id, user_id, user_id, sum(size), count(*) FROM files GROUP BY tenant_id, user_id
"""


def upgrade() -> None:
    """Upgrade schema."""
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # GIN over the id columns next to the trigram ones (pg_trgm came with b9e492351183).
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    op.create_table(
        "drive_usage",
        sa.Column("user_key", sa.BigInteger(), nullable=False),
        sa.Column("user_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("files", sa.BigInteger(), nullable=False),
        sa.Column(
            "tenant_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.CheckConstraint(
            "(user_id IS NULL AND user_key = 0) OR (user_id IS NOT NULL AND user_key = user_id)",
            name=op.f("ck_drive_usage_user_key_matches_user"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_drive_usage_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_drive_usage_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("tenant_id", "user_key", name=op.f("pk_drive_usage")),
    )
    if postgresql:
        op.execute(PG_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)
    op.execute(BACKFILL)

    op.drop_index("ix_file_tags_tenant_id_user_id_tag", table_name="file_tags")
    op.create_index(
        "ix_file_tags_tenant_id_user_id_tag_file_id",
        "file_tags",
        ["tenant_id", "user_id", "tag", "file_id"],
        unique=False,
    )
    op.drop_index(
        "ix_files_name_trgm",
        table_name="files",
        postgresql_ops={"name": "gin_trgm_ops"},
        postgresql_using="gin",
    )
    op.drop_index("ix_files_tenant_id", table_name="files")
    op.drop_index("ix_files_tenant_id_user_id_folder_id", table_name="files")
    op.drop_index("ix_files_tenant_id_user_id_folder_id_created_at", table_name="files")
    op.drop_index("ix_files_tenant_id_user_id_folder_id_name", table_name="files")
    op.create_index(
        "ix_files_folder_id",
        "files",
        ["folder_id"],
        unique=False,
        postgresql_where=IN_FOLDER,
        sqlite_where=IN_FOLDER,
    )
    for name, column in (
        ("ix_files_live_folder_name", "name"),
        ("ix_files_live_folder_created_at", "created_at"),
        ("ix_files_live_folder_size", "size"),
        ("ix_files_live_folder_mime_type", "mime_type"),
    ):
        op.create_index(
            name,
            "files",
            ["tenant_id", "user_id", "folder_id", column, "id"],
            unique=False,
            postgresql_where=LIVE,
            sqlite_where=LIVE,
        )
    op.create_index(
        "ix_files_live_created_at",
        "files",
        ["tenant_id", "user_id", "created_at", "id"],
        unique=False,
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )
    op.create_index(
        "ix_files_live_search",
        "files",
        ["tenant_id", "user_id", "name", "mime_type"],
        unique=False,
        postgresql_using="gin",
        postgresql_ops={"name": "gin_trgm_ops", "mime_type": "gin_trgm_ops"},
        postgresql_where=LIVE,
        sqlite_where=LIVE,
    )
    op.create_index(
        "ix_files_trash",
        "files",
        ["tenant_id", "user_id", "deleted_at"],
        unique=False,
        postgresql_where=TRASHED,
        sqlite_where=TRASHED,
    )
    op.create_index("ix_folders_parent_id", "folders", ["parent_id"], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index("ix_folders_parent_id", table_name="folders")
    for name in (
        "ix_files_trash",
        "ix_files_live_search",
        "ix_files_live_created_at",
        "ix_files_live_folder_mime_type",
        "ix_files_live_folder_size",
        "ix_files_live_folder_created_at",
        "ix_files_live_folder_name",
        "ix_files_folder_id",
    ):
        op.drop_index(name, table_name="files")
    op.create_index(
        "ix_files_tenant_id_user_id_folder_id_name",
        "files",
        ["tenant_id", "user_id", "folder_id", "name", "id"],
        unique=False,
    )
    op.create_index(
        "ix_files_tenant_id_user_id_folder_id_created_at",
        "files",
        ["tenant_id", "user_id", "folder_id", "created_at", "id"],
        unique=False,
    )
    op.create_index(
        "ix_files_tenant_id_user_id_folder_id",
        "files",
        ["tenant_id", "user_id", "folder_id"],
        unique=False,
    )
    op.create_index("ix_files_tenant_id", "files", ["tenant_id"], unique=False)
    op.create_index(
        "ix_files_name_trgm",
        "files",
        ["name"],
        unique=False,
        postgresql_ops={"name": "gin_trgm_ops"},
        postgresql_using="gin",
    )
    op.drop_index("ix_file_tags_tenant_id_user_id_tag_file_id", table_name="file_tags")
    op.create_index(
        "ix_file_tags_tenant_id_user_id_tag",
        "file_tags",
        ["tenant_id", "user_id", "tag"],
        unique=False,
    )
    for trigger in ("files_usage_insert", "files_usage_delete", "files_usage_update"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER {trigger} ON files")
        else:
            op.execute(f"DROP TRIGGER {trigger}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION drive_usage_track()")
    op.drop_table("drive_usage")
