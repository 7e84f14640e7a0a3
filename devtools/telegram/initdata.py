"""Mini App launch data signed exactly as Telegram signs it.

Telegram signs ``initData`` twice:

* ``hash``: HMAC-SHA256 over the sorted ``key=value`` lines (every field but ``hash``, so the
  ``signature`` field is covered too), keyed with ``HMAC-SHA256(key="WebAppData", msg=token)``.
  Checked by ``aiogram.utils.web_app.safe_parse_webapp_init_data(token, init_data)``.
* ``signature``: Ed25519 over ``"{bot_id}:WebAppData\\n"`` + the same lines without ``hash`` and
  ``signature``, base64url without padding, for third parties that know only the bot id.
  Telegram signs with its private key; the emulator cannot, so it signs with a fixed **test key**:

  - seed (private key, 32 bytes): ``TEST_SIGNING_SEED`` =
    ``sha256(b"atelier telegram emulator web app test key")`` =
    ``47229ac84b0ef6878f2b6a3e0aee662ec9a6535c189076c414d6ab8e14d0b33b``
  - public key: ``EMULATOR_PUBLIC_KEY`` =
    ``fcd95b9b242bd73e237c076f8a7fae7afc695b330d7b182992c0cd718efe5684``

  Verify with ``aiogram.utils.web_app_signature.check_webapp_signature(bot_id, init_data,
  EMULATOR_PUBLIC_KEY)``. Never trust this key in production: its seed is public.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import quote, urlencode

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

TEST_SIGNING_SEED = bytes.fromhex(
    "47229ac84b0ef6878f2b6a3e0aee662ec9a6535c189076c414d6ab8e14d0b33b"
)
EMULATOR_PUBLIC_KEY = bytes.fromhex(
    "fcd95b9b242bd73e237c076f8a7fae7afc695b330d7b182992c0cd718efe5684"
)
WEB_APP_VERSION = "9.1"
DEFAULT_THEME = {
    "bg_color": "#ffffff",
    "text_color": "#000000",
    "hint_color": "#707579",
    "link_color": "#3390ec",
    "button_color": "#3390ec",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#f4f4f5",
}


def _check_string(fields: dict[str, str]) -> str:
    return "\n".join(f"{key}={fields[key]}" for key in sorted(fields))


def _user_json(user: dict[str, Any]) -> str:
    """Telegram's compact JSON with escaped slashes, e.g. in ``photo_url``."""
    return json.dumps(user, separators=(",", ":"), ensure_ascii=False).replace("/", "\\/")


def build_init_data(
    *,
    bot_id: int,
    bot_token: str,
    user: dict[str, Any],
    query_id: str | None = None,
    start_param: str | None = None,
    chat_type: str | None = None,
    chat_instance: str | None = None,
    auth_date: int | None = None,
    signing_seed: bytes = TEST_SIGNING_SEED,
) -> str:
    """Return the ``initData`` query string a Mini App receives from Telegram."""
    fields: dict[str, str] = {
        "user": _user_json(user),
        "auth_date": str(auth_date if auth_date is not None else int(time.time())),
    }
    if query_id:
        fields["query_id"] = query_id
    if start_param:
        fields["start_param"] = start_param
    if chat_type:
        fields["chat_type"] = chat_type
    if chat_instance:
        fields["chat_instance"] = chat_instance
    signer = Ed25519PrivateKey.from_private_bytes(signing_seed)
    signed = signer.sign(f"{bot_id}:WebAppData\n{_check_string(fields)}".encode())
    fields["signature"] = base64.urlsafe_b64encode(signed).decode().rstrip("=")
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, _check_string(fields).encode(), hashlib.sha256).hexdigest()
    return urlencode(fields, quote_via=quote)


def new_query_id() -> str:
    return "AAH" + secrets.token_urlsafe(24)


def launch_url(url: str, init_data: str, *, start_param: str | None = None) -> str:
    """The URL Telegram opens: launch parameters ride in the fragment, as in real clients."""
    params = {
        "tgWebAppData": init_data,
        "tgWebAppVersion": WEB_APP_VERSION,
        "tgWebAppPlatform": "weba",
        "tgWebAppThemeParams": json.dumps(DEFAULT_THEME, separators=(",", ":")),
    }
    if start_param:
        params["tgWebAppStartParam"] = start_param
    base, _, _ = url.partition("#")
    return f"{base}#{urlencode(params, quote_via=quote)}"
