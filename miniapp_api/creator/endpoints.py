"""Who runs this tenant: the caller's role and the co-admin list (managed by the owner)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from miniapp_api.creator.deps import CreatorDep
from miniapp_api.creator.schemas import AdminIn, AdminOut, AdminsOut, CreatorMeOut
from miniapp_api.deps import SessionDep
from tenants import admins

router = APIRouter()


@router.get("/me")
async def me(creator: CreatorDep) -> CreatorMeOut:
    return CreatorMeOut(
        role=creator.role.value,
        tenant_id=creator.tenant.id,
        tenant_name=creator.tenant.name,
        plan=creator.tenant.plan,
    )


@router.get("/admins")
async def list_admins(creator: CreatorDep, session: SessionDep) -> AdminsOut:
    items = []
    if creator.tenant.owner_telegram_id is not None:
        items.append(AdminOut(telegram_id=creator.tenant.owner_telegram_id, role="owner"))
    for admin in await admins.list_admins(session, creator.tenant.id):
        items.append(
            AdminOut(telegram_id=admin.telegram_id, role="admin", added_at=admin.created_at)
        )
    return AdminsOut(items=items)


@router.post("/admins", status_code=status.HTTP_201_CREATED)
async def add_admin(body: AdminIn, creator: CreatorDep, session: SessionDep) -> AdminOut:
    admin = await admins.add_admin(
        session,
        creator.tenant,
        by_telegram_id=creator.user.telegram_id,
        telegram_id=body.telegram_id,
    )
    await session.flush()
    return AdminOut(telegram_id=admin.telegram_id, role="admin", added_at=admin.created_at)


@router.delete("/admins/{telegram_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_admin(
    telegram_id: Annotated[int, Path(gt=0)], creator: CreatorDep, session: SessionDep
) -> Response:
    await admins.remove_admin(
        session, creator.tenant, by_telegram_id=creator.user.telegram_id, telegram_id=telegram_id
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
