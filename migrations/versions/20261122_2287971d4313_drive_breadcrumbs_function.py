"""drive breadcrumbs function: a folder page's folders with a cached plan (PostgreSQL)

Revision ID: 2287971d4313
Revises: cb6a1462d087
Create Date: 2026-11-22 06:35:34.934993

A folder page reads the folder, its parents and its live subfolders in one statement. The API's
reads engine plans every statement for its values (``plan_cache_mode = force_custom_plan``: the
files of a page need it), and planning this one — a recursive CTE and a union — cost 0.6-1.0 ms,
five times running it. ``drive_breadcrumbs_and_subfolders`` runs the same query from PL/pgSQL
with ``plan_cache_mode = auto``, so each connection plans it a few times and then reuses the
plan (every step is a primary-key or unique-index lookup: one plan fits every folder).
``core.drive.repository.crumbs_and_children`` calls it on PostgreSQL; SQLite runs the query
itself. Tests compare the two on PostgreSQL.
"""

from typing import Sequence, Union

from alembic import op

# revision identifiers, used by Alembic.
revision: str = "2287971d4313"
down_revision: Union[str, Sequence[str], None] = "cb6a1462d087"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

CREATE = """
CREATE OR REPLACE FUNCTION drive_breadcrumbs_and_subfolders(
    p_tenant_id bigint, p_user_id bigint, p_folder_id bigint, p_subfolders boolean
)
RETURNS TABLE (
    id bigint,
    name varchar,
    parent_id bigint,
    color varchar,
    created_at timestamptz,
    deleted_at timestamptz,
    depth integer
)
LANGUAGE plpgsql STABLE
SET plan_cache_mode = auto
AS $$
#variable_conflict use_column
BEGIN
    -- depth 0 is the folder, 1 its parent, ...; -1 marks its live subfolders (by name).
    RETURN QUERY
    WITH RECURSIVE chain AS (
        SELECT f.id, f.name, f.parent_id, f.color, f.created_at, f.deleted_at, 0 AS depth
        FROM folders f
        WHERE f.tenant_id = p_tenant_id AND f.user_id = p_user_id AND f.id = p_folder_id
        UNION ALL
        SELECT f.id, f.name, f.parent_id, f.color, f.created_at, f.deleted_at, chain.depth + 1
        FROM folders f JOIN chain ON f.id = chain.parent_id
        WHERE f.tenant_id = p_tenant_id
    )
    SELECT c.id, c.name, c.parent_id, c.color, c.created_at, c.deleted_at, c.depth FROM chain c
    UNION ALL
    SELECT f.id, f.name, f.parent_id, f.color, f.created_at, f.deleted_at, -1
    FROM folders f
    WHERE p_subfolders AND f.tenant_id = p_tenant_id AND f.user_id = p_user_id
      AND f.parent_key = coalesce(p_folder_id, 0) AND f.deleted_at IS NULL
    ORDER BY 7 DESC, 2, 1;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(CREATE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "DROP FUNCTION IF EXISTS drive_breadcrumbs_and_subfolders(bigint, bigint, bigint, boolean)"
        )
