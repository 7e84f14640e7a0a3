"""Reading Bot API request bodies the way Telegram does: JSON, urlencoded forms or multipart.

Shared by the Bot API route and by webhook delivery (a webhook may answer with a method call in
its response body, JSON or multipart, which Telegram then executes).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from devtools.telegram.rules import ApiError, Params, UploadedFile, bad_request


def _request_for(content_type: str, body: bytes) -> Request:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "headers": [(b"content-type", content_type.encode("latin-1"))],
    }
    return Request(scope, receive)


async def parse_body(
    content_type: str, body: bytes, query: dict[str, str], *, max_file_bytes: int
) -> Params:
    """Turn one request body into ``Params``; malformed bodies answer 400, never 500."""
    values: dict[str, Any] = dict(query)
    files: dict[str, UploadedFile] = {}
    media_type = content_type.split(";", 1)[0].strip().lower()
    if not body.strip():
        return Params(values, files)
    if media_type == "application/json":
        try:
            decoded = json.loads(body)
        except ValueError:
            raise bad_request("can't parse JSON encoded request body") from None
        if not isinstance(decoded, dict):
            raise bad_request("JSON encoded request body must be an object")
        values.update(decoded)
    elif media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        try:
            form = await _request_for(content_type, body).form(
                max_files=100, max_fields=1000, max_part_size=max(1024 * 1024, len(body))
            )
        except Exception:
            raise bad_request("can't parse request body") from None
        try:
            for key, item in form.multi_items():
                if isinstance(item, UploadFile):
                    content = await item.read()
                    if len(content) > max_file_bytes:
                        raise ApiError(413, "Request Entity Too Large")
                    files[key] = UploadedFile(
                        filename=item.filename or key,
                        content_type=item.content_type or "application/octet-stream",
                        content=content,
                    )
                else:
                    values[key] = item
        finally:
            await form.close()
    else:
        # Telegram ignores bodies it cannot read; the query string may still carry parameters.
        try:
            decoded = json.loads(body)
        except ValueError:
            return Params(values, files)
        if isinstance(decoded, dict):
            values.update(decoded)
    return Params(values, files)
