"""``CreatorDep``: the signed-in user, required to be the tenant's owner or a co-admin."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends

from core.models import Tenant
from miniapp_api.auth.deps import CurrentUser, TenantDep, UserDep
from miniapp_api.deps import SessionDep
from tenants import admins


@dataclass(frozen=True, slots=True)
class Creator:
    tenant: Tenant
    user: CurrentUser
    role: admins.Role

    @property
    def is_owner(self) -> bool:
        return self.role is admins.Role.OWNER


async def current_creator(user: UserDep, tenant: TenantDep, session: SessionDep) -> Creator:
    role = await admins.require_admin(session, tenant, user.telegram_id)
    return Creator(tenant=tenant, user=user, role=role)


CreatorDep = Annotated[Creator, Depends(current_creator)]
