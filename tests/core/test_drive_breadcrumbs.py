"""A folder page's folders on PostgreSQL come from ``drive_breadcrumbs_and_subfolders`` (a
function whose plan is kept); SQLite runs the same query as a statement. Both must answer alike."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import fetch_rows, read_scope, session_scope
from core.drive import repository
from core.drive import service as drive
from core.models import Tenant, User

Factory = async_sessionmaker[AsyncSession]


async def _owner(factory: Factory, telegram_id: int) -> tuple[int, int]:
    async with session_scope(factory) as s:
        tenant = Tenant(name=f"t{telegram_id}")
        s.add(tenant)
        await s.flush()
        user = User(tenant_id=tenant.id, telegram_id=telegram_id)
        s.add(user)
        await s.flush()
        return tenant.id, user.id


async def _tree(factory: Factory, tenant_id: int, user_id: int) -> dict[str, int]:
    """Photos / 2026 / June with June's subfolders b, A and a trashed one; Music at the root."""
    made: dict[str, int] = {}
    async with session_scope(factory) as s:
        for name, parent in [
            ("Photos", None),
            ("Music", None),
            ("2026", "Photos"),
            ("June", "2026"),
            ("b", "June"),
            ("A", "June"),
            ("gone", "June"),
        ]:
            folder = await drive.create_folder(
                s, tenant_id, user_id, name=name, parent_id=made.get(parent or "")
            )
            made[name] = folder.id
        await drive.trash_folder(s, tenant_id, user_id, made["gone"])
    return made


@pytest.mark.parametrize("children", [True, False])
async def test_the_function_answers_as_the_statement(
    session_factory: Factory, children: bool
) -> None:
    tenant_id, user_id = await _owner(session_factory, 1)
    made = await _tree(session_factory, tenant_id, user_id)
    other = await _owner(session_factory, 2)
    await _tree(session_factory, *other)  # same names, another tenant: never seen
    for folder in [None, made["Photos"], made["June"], made["b"], made["gone"]]:
        if folder is None and not children:
            continue
        async with read_scope(session_factory) as session:
            crumbs, below = await repository.crumbs_and_children(
                session, tenant_id, user_id, folder, children=children
            )
            values = {
                "tenant_id": tenant_id,
                "user_id": user_id,
                "folder_id": folder,
                "parent_key": folder or 0,
            }
            statement = repository._crumbs_and_children_stmt(folder is not None, children)
            expected = [tuple(r)[:-1] for r in await fetch_rows(session, statement, values)]
        assert [tuple(f) for f in (*crumbs, *below)] == expected, folder
        subfolders = {None: ["Music", "Photos"], made["Photos"]: ["2026"], made["June"]: ["A", "b"]}
        assert [c.name for c in below] == (subfolders.get(folder, []) if children else [])
    async with read_scope(session_factory) as session:
        crumbs, _ = await repository.crumbs_and_children(
            session, tenant_id, user_id, made["June"], children=children
        )
    assert [c.name for c in crumbs] == ["Photos", "2026", "June"]
