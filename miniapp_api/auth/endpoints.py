"""``POST /api/v1/auth/telegram``: trade Telegram's initData for a bearer token."""

from __future__ import annotations

from fastapi import APIRouter, BackgroundTasks, Response

from miniapp_api.auth import service
from miniapp_api.auth.deps import UserDep
from miniapp_api.auth.schemas import LanguageIn, SignInRequest, SignInResponse, UserOut
from miniapp_api.clock import NowDep
from miniapp_api.deps import RedisDep, SessionDep, SettingsDep
from miniapp_api.tasks.opens import record_app_open
from tenants.users import forget_snapshot

router = APIRouter()


@router.post("/telegram")
async def sign_in(
    body: SignInRequest,
    session: SessionDep,
    settings: SettingsDep,
    redis: RedisDep,
    background: BackgroundTasks,
    now: NowDep,
) -> SignInResponse:
    signed = await service.sign_in(session, settings, bot_id=body.bot_id, init_data=body.init_data)
    user = signed.user
    # issue 8: a Mini App open counts for the day's active fans and the open-the-app streak
    await record_app_open(
        session, redis, background, tenant_id=user.tenant_id, user_id=user.id, now=now
    )
    return SignInResponse(
        token=signed.token,
        expires_at=signed.expires_at,
        tenant_id=user.tenant_id,
        user=UserOut(
            id=user.id,
            telegram_id=user.telegram_id,
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
            language=user.language or user.language_code,
        ),
    )


@router.get("/me")
async def me(user: UserDep) -> dict[str, int]:
    """Who the token names (the front end's "am I still signed in?")."""
    return {
        "tenant_id": user.tenant_id,
        "user_id": user.user_id,
        "telegram_id": user.telegram_id,
        "bot_id": user.bot_id,
        "expires_at": user.expires_at,
    }


@router.put("/language", status_code=204)
async def set_language(
    body: LanguageIn,
    user: UserDep,
    session: SessionDep,
    redis: RedisDep,
    background: BackgroundTasks,
) -> Response:
    """Switch the fan's language in the Mini App and the bot alike. The bot's cached copy of
    the fan is dropped after the commit (background tasks run once the response is out, and
    the session commits before that), so its next reply uses the new language."""
    await service.set_language(session, user, body.language)
    background.add_task(forget_snapshot, redis, user.tenant_id, user.telegram_id)
    return Response(status_code=204)
