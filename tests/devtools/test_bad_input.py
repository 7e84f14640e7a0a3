"""Malformed and hostile requests get Telegram-style answers: never a 500, never a hang."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from devtools.telegram.client import BotInfo, UserInfo
from devtools.telegram.methods import METHODS
from tests.devtools.conftest import Emu


@pytest.fixture
async def http(emu: Emu) -> Any:
    async with httpx.AsyncClient(base_url=emu.base_url, timeout=10) as client:
        yield client


async def test_unknown_method_and_token(http: httpx.AsyncClient, bot_info: BotInfo) -> None:
    response = await http.post(f"/bot{bot_info.token}/sendTelepathy", json={})
    assert response.status_code == 404
    assert response.json() == {"ok": False, "error_code": 404, "description": "Not Found"}
    response = await http.post("/bot1:nope/getMe")
    assert response.status_code == 401
    assert response.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    # method names are case-insensitive, GET with a query string works
    response = await http.get(f"/bot{bot_info.token}/GETME")
    assert response.json()["result"]["id"] == bot_info.id


async def test_bodies_json_form_query(
    http: httpx.AsyncClient, bot_info: BotInfo, user: UserInfo
) -> None:
    base = f"/bot{bot_info.token}/sendMessage"
    by_json = await http.post(base, json={"chat_id": user.id, "text": "json"})
    by_form = await http.post(base, data={"chat_id": str(user.id), "text": "form"})
    by_query = await http.get(base, params={"chat_id": user.id, "text": "query"})
    assert [r.json()["result"]["text"] for r in (by_json, by_form, by_query)] == [
        "json",
        "form",
        "query",
    ]
    by_multipart = await http.post(
        base, data={"chat_id": str(user.id), "text": "multi"}, files={"x": ("x", b"1")}
    )
    assert by_multipart.json()["result"]["text"] == "multi"


@pytest.mark.parametrize(
    ("body", "headers", "description"),
    [
        (
            b"{not json",
            {"content-type": "application/json"},
            "Bad Request: can't parse JSON encoded request body",
        ),
        (
            b"[1, 2]",
            {"content-type": "application/json"},
            "Bad Request: JSON encoded request body must be an object",
        ),
        (b"--broken\r\nnonsense", {"content-type": "multipart/form-data; boundary=broken"}, None),
        (b"\xff\xfe\x00", {"content-type": "application/x-www-form-urlencoded"}, None),
    ],
)
async def test_malformed_bodies(
    http: httpx.AsyncClient,
    bot_info: BotInfo,
    body: bytes,
    headers: dict[str, str],
    description: str | None,
) -> None:
    response = await http.post(f"/bot{bot_info.token}/sendMessage", content=body, headers=headers)
    assert response.status_code == 400
    data = response.json()
    assert data["ok"] is False and data["error_code"] == 400
    if description:
        assert data["description"] == description


@pytest.mark.parametrize(
    ("params", "description"),
    [
        ({"text": "no chat"}, "Bad Request: chat_id is empty"),
        ({"chat_id": "abc", "text": "x"}, "Bad Request: chat not found"),
        ({"chat_id": [1, 2], "text": "x"}, "Bad Request: chat not found"),
        ({"chat_id": "USER", "text": {"a": 1}}, 'Bad Request: field "text" must be of type String'),
        (
            {"chat_id": "USER", "text": "x", "reply_markup": "{oops"},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            {"chat_id": "USER", "text": "x", "reply_markup": {"foo": 1}},
            "Bad Request: can't parse reply keyboard markup JSON object",
        ),
        (
            {"chat_id": "USER", "text": "x", "parse_mode": "BBCode"},
            'Bad Request: unsupported parse_mode "BBCode"',
        ),
        (
            {"chat_id": "USER", "text": "x", "disable_notification": "maybe"},
            'Bad Request: field "disable_notification" must be of type Boolean',
        ),
        (
            {"chat_id": "USER", "text": "x", "reply_to_message_id": "first"},
            'Bad Request: field "reply_to_message_id" must be of type Integer',
        ),
    ],
)
async def test_wrong_types(
    http: httpx.AsyncClient,
    bot_info: BotInfo,
    user: UserInfo,
    params: dict[str, Any],
    description: str,
) -> None:
    params = {k: (user.id if v == "USER" else v) for k, v in params.items()}
    response = await http.post(f"/bot{bot_info.token}/sendMessage", json=params)
    assert response.status_code == 400, response.text
    assert response.json()["description"] == description


async def test_too_large_declared_body(emu: Emu, bot_info: BotInfo) -> None:
    """A 200 MB upload is refused from its Content-Length, before the body is read."""
    host, port = emu.base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(
        (
            f"POST /bot{bot_info.token}/sendDocument HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\n"
            f"Content-Length: {200 * 1024 * 1024}\r\n\r\n--b\r\n"
        ).encode()
    )
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    assert head.startswith(b"HTTP/1.1 413")
    length = int(
        next(
            line.split(b":")[1]
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length")
        )
    )
    body = json.loads(await asyncio.wait_for(reader.readexactly(length), 5))
    assert body == {"ok": False, "error_code": 413, "description": "Request Entity Too Large"}
    writer.close()


JUNK_VALUES: list[Any] = [None, "", "x", -1, 0, 10**30, [], {}, True, "attach://missing", "@nobody"]


async def test_every_method_with_junk_never_500(
    http: httpx.AsyncClient, bot_info: BotInfo, user: UserInfo
) -> None:
    """Call every method with empty and junk parameters: only 4xx answers (or ok), quickly."""
    names = sorted(set(METHODS) - {"getupdates"})
    fields = [
        "chat_id",
        "text",
        "message_id",
        "from_chat_id",
        "photo",
        "media",
        "file_id",
        "url",
        "reply_markup",
        "callback_query_id",
        "pre_checkout_query_id",
        "prices",
        "currency",
        "title",
        "description",
        "payload",
        "user_id",
        "telegram_payment_charge_id",
        "commands",
        "scope",
        "menu_button",
        "action",
        "caption",
        "entities",
        "offset",
        "limit",
        "ok",
        "secret_token",
        "allowed_updates",
        "language_code",
        "subscription_period",
        "is_canceled",
    ]

    async def call(name: str, body: dict[str, Any]) -> None:
        response = await asyncio.wait_for(http.post(f"/bot{bot_info.token}/{name}", json=body), 5)
        assert response.status_code < 500, (name, body, response.text)
        data = response.json()
        assert data["ok"] is (response.status_code == 200), (name, body, data)

    for name in names:
        await call(name, {})
        for junk in JUNK_VALUES:
            body = {field: junk for field in fields if junk is not None}
            await call(name, body)
            await call(name, {"chat_id": user.id, **{f: junk for f in fields if f != "chat_id"}})
    # form-encoded junk too (values arrive as strings)
    for name in names:
        response = await http.post(f"/bot{bot_info.token}/{name}", data={f: "[]" for f in fields})
        assert response.status_code < 500, (name, response.text)
    # undo a webhook the junk may have set, so nothing retries in the background
    await http.post(f"/bot{bot_info.token}/deleteWebhook", json={"drop_pending_updates": True})


async def test_get_updates_junk_and_conflict(http: httpx.AsyncClient, bot_info: BotInfo) -> None:
    base = f"/bot{bot_info.token}/getUpdates"
    for body in (
        {"offset": "x"},
        {"timeout": "soon"},
        {"allowed_updates": "message"},
        {"limit": 100000},
    ):
        response = await http.post(base, json=body)
        assert response.status_code in (200, 400), response.text
    first = asyncio.create_task(http.post(base, json={"timeout": 3}))
    await asyncio.sleep(0.2)
    second = await http.post(base, json={"timeout": 0})
    first_response = await first
    assert second.status_code == 200
    assert first_response.status_code == 409
    assert "terminated by other getUpdates request" in first_response.json()["description"]


async def test_control_api_errors(http: httpx.AsyncClient, bot_info: BotInfo) -> None:
    response = await http.post("/_emulator/bots/1/messages", json={"user_id": 1, "text": "x"})
    assert response.status_code == 404 and response.json()["ok"] is False
    response = await http.post("/_emulator/bots", json={"username": "a"})
    assert response.status_code == 422
    response = await http.post(
        "/_emulator/users", content=b"{", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    response = await http.get("/_emulator/files/nope")
    assert response.status_code == 404
    response = await http.get(f"/file/bot{bot_info.token}/documents/nothing.txt")
    assert response.status_code == 404
    assert json.loads(response.text)["description"] == "Not Found"
