"""One Dispatcher, many tenants: routing by bot id, the secret header, duplicates, disabled."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import select

from core import ledger
from core.models import User
from devtools.telegram.client import UserInfo
from tenants import service as tenants_service
from tenants.texts import save_override
from tenants.webhooks import bump_route_version
from tests.bot.conftest import Platform


def message_update(update_id: int, user: UserInfo, text: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": {"id": user.id, "type": "private", "first_name": user.first_name},
        "from": {
            "id": user.id,
            "is_bot": False,
            "first_name": user.first_name,
            "language_code": user.language_code or "en",
        },
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"update_id": update_id, "message": message}


async def test_two_tenants_answer_with_their_own_texts_and_data(platform: Platform) -> None:
    art, art_tenant = await platform.add_tenant("Art Studio")
    music, music_tenant = await platform.add_tenant("Music Lab")
    async with platform.session_factory() as session:
        await save_override(
            session, art_tenant, "start.welcome", "en", "Welcome to the atelier, {{ user_name }}!"
        )
        await session.commit()
    alice = await platform.user("Alice")

    await platform.emulator.start(art, alice)
    await platform.emulator.start(music, alice)
    assert (await platform.replies(art, alice, 1))[0].text == "Welcome to the atelier, Alice!"
    music_welcome = (await platform.replies(music, alice, 1))[0].text or ""
    assert music_welcome.startswith("Hi Alice! Welcome to Music Lab.")

    async with platform.session_factory() as session:
        rows = (await session.execute(select(User).where(User.telegram_id == alice.id))).scalars()
        by_tenant = {row.tenant_id: row for row in rows}
        assert set(by_tenant) == {art_tenant, music_tenant}  # one Telegram user, two fans
        account = await ledger.get_or_create_account(
            session, art_tenant, user_id=by_tenant[art_tenant].id
        )
        await ledger.credit(session, art_tenant, account.id, 25, idempotency_key="gift")
        await session.commit()

    await platform.emulator.send_command(art, alice, "balance")
    await platform.emulator.send_command(music, alice, "balance")
    assert (await platform.replies(art, alice, 2))[-1].text == "Your balance: 25 credits."
    assert (await platform.replies(music, alice, 2))[-1].text == "Your balance: 0 credits."


async def test_secret_header_unknown_bot_and_disabled_tenant(platform: Platform) -> None:
    art, art_tenant = await platform.add_tenant("Art Studio")
    music, _ = await platform.add_tenant("Music Lab")
    alice = await platform.user("Alice")
    update = message_update(1, alice, "/help")

    wrong = await platform.post_update(music.id, update, secret=platform.secrets[art.id])
    assert wrong.status_code == 401
    missing = await platform.post_update(music.id, update)
    assert missing.status_code == 401
    unknown = await platform.post_update(music.id + 1000, update, secret=platform.secrets[music.id])
    assert unknown.status_code == 404

    ok = await platform.post_update(music.id, update, secret=platform.secrets[music.id])
    assert ok.status_code == 200
    assert ok.json()["method"] == "sendMessage"  # the reply rides in the webhook response

    async with platform.session_factory() as session:
        await tenants_service.set_tenant_active(session, art_tenant, active=False)
        await session.commit()
    await bump_route_version(platform.runtime.redis, art.id)
    disabled = await platform.post_update(
        art.id, message_update(2, alice, "/help"), secret=platform.secrets[art.id]
    )
    assert disabled.status_code == 200
    assert disabled.content == b"{}"  # ignored: no reply, and Telegram will not retry


async def test_a_duplicated_update_is_processed_once(platform: Platform) -> None:
    art, _ = await platform.add_tenant("Art Studio")
    alice = await platform.user("Alice")
    update = message_update(777, alice, "/help")
    secret = platform.secrets[art.id]

    first = await platform.post_update(art.id, update, secret=secret)
    second = await platform.post_update(art.id, update, secret=secret)
    assert first.json()["method"] == "sendMessage"
    assert second.status_code == 200 and second.content == b"{}"


async def test_resync_sets_a_new_secret_and_the_old_one_is_refused(platform: Platform) -> None:
    from bot.runtime import resync_bots

    art, _ = await platform.add_tenant("Art Studio")
    alice = await platform.user("Alice")
    old = platform.secrets[art.id]
    assert await resync_bots(platform.runtime, [art.id]) == [(art.id, None)]
    # the emulator now holds the new secret: a real message still gets through
    await platform.emulator.send_command(art, alice, "help")
    assert (await platform.replies(art, alice, 1))[0].text.startswith("Here is what I can do")
    await platform.runtime.routes.get(art.id, force=True)
    stale = await platform.post_update(art.id, message_update(5, alice, "/help"), secret=old)
    assert stale.status_code == 401


async def test_webhook_setup_in_the_emulator(platform: Platform) -> None:
    art, _ = await platform.add_tenant("Art Studio")
    ru_user = await platform.user("Boris", language_code="ru")
    details = await platform.emulator.bot_details(art, ru_user)
    assert details["webhook_url"] == f"{platform.api_url}/tg/{art.id}"
    assert details["menu_button"]["type"] == "web_app"
    assert details["menu_button"]["web_app"]["url"].endswith(f"/app/?bot={art.id}")
    commands = {c["command"]: c["description"] for c in details["commands"]}
    assert commands["balance"] == "Ваши кредиты"
    assert "newbot" not in commands
