"""Mini App launch data from the emulator passes aiogram's own checks, both signatures."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, unquote

from aiogram.utils.web_app import safe_parse_webapp_init_data
from aiogram.utils.web_app_signature import check_webapp_signature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from devtools.telegram import EMULATOR_PUBLIC_KEY, TEST_SIGNING_SEED
from devtools.telegram.client import BotInfo, EmulatorClient, UserInfo


def test_public_key_matches_documented_seed() -> None:
    derived = Ed25519PrivateKey.from_private_bytes(TEST_SIGNING_SEED).public_key()
    assert derived.public_bytes(Encoding.Raw, PublicFormat.Raw) == EMULATOR_PUBLIC_KEY
    assert (
        EMULATOR_PUBLIC_KEY.hex()
        == "fcd95b9b242bd73e237c076f8a7fae7afc695b330d7b182992c0cd718efe5684"
    )


async def test_init_data_validates_with_aiogram(
    client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    init_data = await client.web_app_init_data(bot_info, user, start_param="promo42")
    parsed = safe_parse_webapp_init_data(bot_info.token, init_data)
    assert parsed.user is not None and parsed.user.id == user.id
    assert parsed.user.first_name == "Alice"
    assert parsed.start_param == "promo42"
    assert parsed.query_id
    assert abs(parsed.auth_date.timestamp() - time.time()) < 5  # fresh
    assert check_webapp_signature(bot_info.id, init_data, EMULATOR_PUBLIC_KEY)
    fields = dict(parse_qsl(init_data))
    assert {"hash", "signature", "auth_date", "user", "query_id"} <= fields.keys()


async def test_tampered_or_foreign_init_data_fails(
    client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    import pytest

    init_data = await client.web_app_init_data(bot_info, user)
    tampered = init_data.replace("Alice", "Mallory")
    with pytest.raises(ValueError, match="Invalid init data signature"):
        safe_parse_webapp_init_data(bot_info.token, tampered)
    assert not check_webapp_signature(bot_info.id, tampered, EMULATOR_PUBLIC_KEY)
    assert not check_webapp_signature(bot_info.id + 1, init_data, EMULATOR_PUBLIC_KEY)
    with pytest.raises(ValueError):
        safe_parse_webapp_init_data("123:other-token", init_data)


async def test_launch_url_carries_init_data(
    client: EmulatorClient, bot_info: BotInfo, user: UserInfo
) -> None:
    launch = await client.web_app_launch(
        bot_info, user, url="https://app.example/path?x=1", start_param="s"
    )
    assert launch["url"].startswith("https://app.example/path?x=1#tgWebAppData=")
    fragment = dict(parse_qsl(launch["url"].split("#", 1)[1]))
    assert fragment["tgWebAppData"] == launch["init_data"]
    assert fragment["tgWebAppStartParam"] == "s"
    assert safe_parse_webapp_init_data(
        bot_info.token, unquote(launch["url"].split("tgWebAppData=")[1].split("&")[0])
    )
