"""``UserDep`` (the signed-in fan, from the bearer token) and ``TenantDep`` (their tenant row).

Every Mini App endpoint but sign-in takes one of them; the ids inside are what repositories
filter by, so an endpoint cannot forget whose data it serves.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from core.models import Tenant
from core.settings import Settings
from miniapp_api.auth.tokens import CurrentUser, InvalidTokenError, read_token
from miniapp_api.deps import SessionDep
from tenants import repository as tenants_repo


def bearer_user(request: Request, secret_key: str) -> CurrentUser:
    """The fan named by the ``Authorization: Bearer`` header, or :class:`InvalidTokenError`."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise InvalidTokenError("sign in first: send 'Authorization: Bearer <token>'")
    return read_token(token.strip(), secret_key=secret_key)


async def current_user(request: Request) -> CurrentUser:
    # Settings straight from the app, not through SettingsDep: every request signs in, and
    # each dependency FastAPI resolves costs tens of microseconds.
    settings: Settings = request.app.state.settings
    return bearer_user(request, settings.secret_key)


UserDep = Annotated[CurrentUser, Depends(current_user)]


async def current_tenant(user: UserDep, session: SessionDep) -> Tenant:
    tenant = await tenants_repo.get_tenant(session, user.tenant_id)
    if tenant is None or not tenant.is_active:
        raise InvalidTokenError("this bot is not available any more")
    return tenant


TenantDep = Annotated[Tenant, Depends(current_tenant)]

__all__ = ["CurrentUser", "TenantDep", "UserDep"]
