"""Telegram's rules for what a bot may send, with Telegram's own error texts.

The emulator is only useful if a bot that works here also works against api.telegram.org, so
every check answers with the description Telegram gives (``Bad Request: message is too long``,
``can't parse entities: ...``) and aiogram maps it to the same exception class.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_INLINE_BUTTONS = 100
MAX_INLINE_ROW = 8
MAX_REPLY_BUTTONS = 300
MAX_REPLY_ROW = 12
MAX_CALLBACK_ANSWER_TEXT = 200

_LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}  # noqa: S104 - a name, not a bind


class ApiError(Exception):
    """An answer with ``ok: false``: the HTTP status doubles as ``error_code``."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: {message}")


def forbidden(message: str) -> ApiError:
    return ApiError(403, f"Forbidden: {message}")


def too_many_requests(retry_after: int) -> ApiError:
    return ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


def utf16_len(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


# --------------------------------------------------------------------------- parameters


@dataclass
class UploadedFile:
    """One multipart file part, already read (sizes are capped before reading)."""

    filename: str
    content_type: str
    content: bytes


@dataclass
class Params:
    """Request parameters as they arrive: JSON values, or strings from forms and query strings.

    aiogram sends form bodies, so ``"123"`` must read as 123 and ``"true"`` as True, while a JSON
    body carries real numbers; every getter accepts both and answers a Telegram-style 400 when a
    value cannot be read as the type it needs.
    """

    values: dict[str, Any]
    files: dict[str, UploadedFile] = field(default_factory=dict)

    def has(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str, *, required: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(required)
            return None
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        if not isinstance(value, str):
            raise bad_request(f'field "{name}" must be of type String')
        return value

    def integer(self, name: str, *, required: str | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            if required:
                raise bad_request(required)
            return None
        if isinstance(value, bool):
            raise bad_request(f'field "{name}" must be of type Integer')
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,19}\s*", value):
            return int(value)
        raise bad_request(f'field "{name}" must be of type Integer')

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value != 0
        if isinstance(value, str) and value.lower() in {"true", "1", "false", "0"}:
            return value.lower() in {"true", "1"}
        raise bad_request(f'field "{name}" must be of type Boolean')

    def json(self, name: str, *, error: str | None = None) -> Any:
        """Read a parameter that is JSON-serialized in forms and a native value in JSON bodies."""
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(error or f"can't parse {name} JSON object") from None
        return value


# --------------------------------------------------------------------------- text and entities


def check_not_empty(text: str | None) -> str:
    if text is None or not text.strip():
        raise bad_request("message text is empty")
    return text


def check_text(text: str | None) -> str:
    """Telegram counts the limit after entities are parsed, in UTF-16 code units."""
    if text is None or not text.strip():
        raise bad_request("message text is empty")
    if utf16_len(text) > MAX_TEXT_LENGTH:
        raise bad_request("message is too long")
    return text


def check_caption(caption: str | None) -> None:
    if caption is not None and utf16_len(caption) > MAX_CAPTION_LENGTH:
        raise bad_request("message caption is too long")


def _parse_error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


class _Builder:
    """Collects plain text and tracks the UTF-16 position for entity offsets."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.pos = 0
        self.entities: list[dict[str, Any]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.pos += utf16_len(text)

    def entity(self, kind: str, start: int, **extra: Any) -> None:
        length = self.pos - start
        if length > 0:
            self.entities.append({"type": kind, "offset": start, "length": length, **extra})

    def result(self) -> tuple[str, list[dict[str, Any]]]:
        entities = sorted(self.entities, key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.parts), entities


_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ATTR_RE = re.compile(r"""\s*([a-zA-Z_-]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


@dataclass
class _Open:
    tag: str
    kind: str | None
    start: int
    extra: dict[str, Any]


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _mention_or_link(url: str) -> tuple[str, dict[str, Any]]:
    match = re.fullmatch(r"tg://user\?id=(\d+)", url)
    if match:
        return "text_mention", {
            "user": {"id": int(match.group(1)), "is_bot": False, "first_name": ""}
        }
    return "text_link", {"url": url}


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram's HTML subset into plain text and entities, failing like Telegram."""
    out = _Builder()
    stack: list[_Open] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "<":
            offset = _byte_offset(text, i)
            end = text.find(">", i)
            if text.startswith("</", i):
                if end == -1:
                    raise _parse_error(f"Unclosed end tag at byte offset {offset}")
                name = text[i + 2 : end].strip().lower()
                if not stack:
                    raise _parse_error(f"Unexpected end tag at byte offset {offset}")
                top = stack.pop()
                if name and name != top.tag:
                    raise _parse_error(
                        f'Unmatched end tag at byte offset {offset}, expected "</{top.tag}>", '
                        f'found "</{name}>"'
                    )
                if top.kind:
                    out.entity(top.kind, top.start, **top.extra)
                i = end + 1
                continue
            if end == -1:
                raise _parse_error(f"Unclosed start tag at byte offset {offset}")
            match = re.match(r"<([a-zA-Z][a-zA-Z0-9-]*)", text[i:end])
            if not match:
                raise _parse_error(f"Unsupported start tag at byte offset {offset}")
            tag = match.group(1).lower()
            attrs = {
                m.group(1).lower(): (m.group(2) or m.group(3) or m.group(4) or "")
                for m in _ATTR_RE.finditer(text[i + 1 + len(tag) : end])
                if m.group(1)
            }
            stack.append(_open_html_tag(tag, attrs, out.pos, offset, stack))
            i = end + 1
            continue
        if char == "&":
            match = re.match(r"&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-zA-Z]{2,6});", text[i : i + 12])
            if match:
                name = match.group(1)
                decoded: str | None
                if name.startswith("#x"):
                    decoded = _safe_chr(int(name[2:], 16))
                elif name.startswith("#"):
                    decoded = _safe_chr(int(name[1:]))
                else:
                    decoded = _HTML_NAMED.get(name.lower())
                if decoded is None:
                    raise _parse_error(
                        f'Unsupported HTML entity "&{name};" at byte offset {_byte_offset(text, i)}'
                    )
                out.add(decoded)
                i += len(match.group(0))
                continue
        out.add(char)
        i += 1
    if stack:
        raise _parse_error(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return out.result()


def _safe_chr(code: int) -> str | None:
    try:
        return chr(code) if code > 0 else None
    except (ValueError, OverflowError):
        return None


def _open_html_tag(
    tag: str, attrs: dict[str, str], pos: int, offset: int, stack: list[_Open]
) -> _Open:
    if tag in _HTML_SIMPLE:
        kind = _HTML_SIMPLE[tag]
        if tag == "code" and stack and stack[-1].tag == "pre":
            # <pre><code class="language-x"> is one pre entity carrying the language
            language = attrs.get("class", "")
            if language.startswith("language-"):
                stack[-1].extra["language"] = language.removeprefix("language-")
            return _Open(tag, None, pos, {})
        return _Open(tag, kind, pos, {})
    if tag == "span":
        if attrs.get("class") != "tg-spoiler":
            raise _parse_error('Tag "span" must have class "tg-spoiler"')
        return _Open(tag, "spoiler", pos, {})
    if tag == "a":
        href = attrs.get("href")
        if not href:
            return _Open(tag, None, pos, {})
        kind, extra = _mention_or_link(href)
        return _Open(tag, kind, pos, extra)
    if tag == "blockquote":
        kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        return _Open(tag, kind, pos, {})
    if tag == "tg-emoji":
        emoji_id = attrs.get("emoji-id")
        if not emoji_id:
            raise _parse_error('Tag "tg-emoji" must have attribute "emoji-id"')
        return _Open(tag, "custom_emoji", pos, {"custom_emoji_id": emoji_id})
    raise _parse_error(f'Unsupported start tag "{tag}" at byte offset {offset}')


_MD2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MD2_TOGGLES = {
    "*": "bold",
    "_": "italic",
    "__": "underline",
    "~": "strikethrough",
    "||": "spoiler",
}


@dataclass
class _MdOpen:
    marker: str
    kind: str
    start: int
    byte: int


def parse_markdown_v2(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse MarkdownV2, including its insistence that reserved characters be escaped."""
    out = _Builder()
    stack: list[_MdOpen] = []
    quote_start: int | None = None
    i, n = 0, len(text)
    at_line_start = True
    while i < n:
        char = text[i]
        byte = _byte_offset(text, i)
        if at_line_start:
            at_line_start = False
            if char == ">":
                if quote_start is None:
                    quote_start = out.pos
                i += 1
                continue
            if quote_start is not None:
                out.entity("blockquote", quote_start)
                quote_start = None
        if char == "\\" and i + 1 < n and 0 < ord(text[i + 1]) < 127:
            out.add(text[i + 1])
            i += 2
            continue
        if char == "\n":
            out.add(char)
            i += 1
            at_line_start = True
            continue
        if char == "`":
            i = _md2_code(text, i, byte, out)
            continue
        if char == "|" and text.startswith("||", i):
            _md2_toggle(stack, "||", out, byte)
            i += 2
            continue
        if char == "_" and text.startswith("__", i):
            _md2_toggle(stack, "__", out, byte)
            i += 2
            continue
        if char in "*_~":
            _md2_toggle(stack, char, out, byte)
            i += 1
            continue
        if char == "[":
            stack.append(_MdOpen("[", "link", out.pos, byte))
            i += 1
            continue
        if char == "]" and stack and stack[-1].marker == "[":
            opened = stack.pop()
            if not text.startswith("(", i + 1):
                raise _parse_error(
                    f"Can't find end of the entity starting at byte offset {opened.byte}"
                )
            url, i = _md2_url(text, i + 2, opened.byte)
            kind, extra = _mention_or_link(url)
            out.entity(kind, opened.start, **extra)
            continue
        if char in _MD2_RESERVED:
            raise _parse_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.add(char)
        i += 1
    if stack:
        raise _parse_error(f"Can't find end of the entity starting at byte offset {stack[-1].byte}")
    if quote_start is not None:
        out.entity("blockquote", quote_start)
    return out.result()


def _md2_toggle(stack: list[_MdOpen], marker: str, out: _Builder, byte: int) -> None:
    if stack and stack[-1].marker == marker:
        opened = stack.pop()
        out.entity(opened.kind, opened.start)
        return
    if any(item.marker == marker for item in stack):
        raise _parse_error(f"Can't find end of the entity starting at byte offset {stack[-1].byte}")
    stack.append(_MdOpen(marker, _MD2_TOGGLES[marker], out.pos, byte))


def _md2_code(text: str, i: int, byte: int, out: _Builder) -> int:
    """Read ```pre``` or `code`; inside them only ` and \\ are escaped."""
    is_pre = text.startswith("```", i)
    j = i + (3 if is_pre else 1)
    language = ""
    if is_pre:
        newline = text.find("\n", j)
        head = text[j:newline] if newline != -1 else ""
        if newline != -1 and re.fullmatch(r"[\w+#.-]*", head):
            language, j = head, newline + 1
    start = out.pos
    while j < len(text):
        if text[j] == "\\" and j + 1 < len(text) and text[j + 1] in "`\\":
            out.add(text[j + 1])
            j += 2
            continue
        if is_pre and text.startswith("```", j):
            extra = {"language": language} if language else {}
            out.entity("pre", start, **extra)
            return j + 3
        if not is_pre and text[j] == "`":
            out.entity("code", start)
            return j + 1
        out.add(text[j])
        j += 1
    raise _parse_error(f"Can't find end of the entity starting at byte offset {byte}")


def _md2_url(text: str, i: int, start_byte: int) -> tuple[str, int]:
    url: list[str] = []
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            url.append(text[i + 1])
            i += 2
            continue
        if text[i] == ")":
            return "".join(url), i + 1
        url.append(text[i])
        i += 1
    raise _parse_error(f"Can't find end of a URL at byte offset {start_byte}")


def parse_markdown_legacy(text: str) -> tuple[str, list[dict[str, Any]]]:
    """The old ``Markdown`` mode: *bold*, _italic_, `code`, ```pre``` and [text](url)."""
    out = _Builder()
    i, n = 0, len(text)
    kinds = {"*": "bold", "_": "italic"}
    while i < n:
        char = text[i]
        byte = _byte_offset(text, i)
        if char in kinds:
            end = text.find(char, i + 1)
            if end == -1:
                raise _parse_error(f"Can't find end of the entity starting at byte offset {byte}")
            start = out.pos
            out.add(text[i + 1 : end])
            out.entity(kinds[char], start)
            i = end + 1
            continue
        if char == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = text.find(fence, i + len(fence))
            if end == -1:
                raise _parse_error(f"Can't find end of the entity starting at byte offset {byte}")
            start = out.pos
            out.add(text[i + len(fence) : end])
            out.entity("pre" if fence == "```" else "code", start)
            i = end + len(fence)
            continue
        if char == "[":
            match = re.match(r"\[([^\]]*)\]\(([^)]*)\)", text[i:])
            if match:
                start = out.pos
                out.add(match.group(1))
                kind, extra = _mention_or_link(match.group(2))
                out.entity(kind, start, **extra)
                i += len(match.group(0))
                continue
        out.add(char)
        i += 1
    return out.result()


def parse_formatted(
    text: str, parse_mode: str | None, entities: Any
) -> tuple[str, list[dict[str, Any]]]:
    """Apply ``parse_mode`` or explicit ``entities`` the way Telegram does (entities win)."""
    if entities is not None:
        if not isinstance(entities, list) or not all(
            isinstance(e, dict) and {"type", "offset", "length"} <= e.keys() for e in entities
        ):
            raise bad_request("can't parse entities JSON object")
        return text, [dict(e) for e in entities]
    if not parse_mode:
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown_legacy(text)
    raise bad_request(f"unsupported parse_mode {parse_mode!r}".replace("'", '"'))


def strip_formatted(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Telegram trims surrounding whitespace from a message and shifts entities with it."""
    stripped_left = text.lstrip()
    cut = utf16_len(text) - utf16_len(stripped_left)
    result = stripped_left.rstrip()
    limit = utf16_len(result)
    shifted: list[dict[str, Any]] = []
    for entity in entities:
        start = max(int(entity["offset"]) - cut, 0)
        end = min(int(entity["offset"]) + int(entity["length"]) - cut, limit)
        if end > start:
            shifted.append({**entity, "offset": start, "length": end - start})
    return result, shifted


_COMMAND_RE = re.compile(r"(?<![\w/])/[a-zA-Z0-9_]{1,32}(?:@[a-zA-Z0-9_]{3,32})?")
_MENTION_RE = re.compile(r"(?<!\w)@[a-zA-Z0-9_]{4,32}")
_URL_RE = re.compile(r"https?://[^\s]+")


def auto_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram's clients detect in what a user types: commands, mentions, links."""
    found: list[dict[str, Any]] = []
    for kind, pattern in (("bot_command", _COMMAND_RE), ("mention", _MENTION_RE), ("url", _URL_RE)):
        for match in pattern.finditer(text):
            found.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group(0)),
                }
            )
    return sorted(found, key=lambda e: e["offset"])


# --------------------------------------------------------------------------- keyboards


def _url_allowed(url: str, *, allow_insecure: bool, https_only: bool) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.netloc:
        return True
    if parts.scheme == "http" and parts.netloc:
        return allow_insecure or (parts.hostname or "") in _LOCAL_HOSTS or not https_only
    return not https_only and parts.scheme == "tg"


_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def check_reply_markup(markup: Any, *, allow_insecure: bool = False) -> dict[str, Any] | None:
    """Validate a reply_markup object; answers Telegram's errors for bad keyboards."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"], allow_insecure)
    elif "keyboard" in markup:
        _check_reply_keyboard(markup["keyboard"], allow_insecure)
    elif not markup.get("remove_keyboard") and not markup.get("force_reply"):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def _rows(rows: Any) -> list[list[Any]]:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return rows


def _check_inline_keyboard(rows: Any, allow_insecure: bool) -> None:
    rows = _rows(rows)
    total = sum(len(row) for row in rows)
    if total > MAX_INLINE_BUTTONS or any(len(row) > MAX_INLINE_ROW for row in rows):
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise bad_request("can't parse inline keyboard button: Text must be a String")
            if not button["text"].strip():
                raise bad_request("text must be non-empty")
            actions = [key for key in _INLINE_ACTIONS if key in button]
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if (
                    not isinstance(data, str)
                    or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
                ):
                    raise bad_request("BUTTON_DATA_INVALID")
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not _url_allowed(
                    url, allow_insecure=True, https_only=False
                ):
                    raise bad_request(
                        f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL"
                    )
            if "web_app" in button:
                check_web_app(button["web_app"], allow_insecure, "inline keyboard button")


def check_web_app(web_app: Any, allow_insecure: bool, where: str) -> None:
    url = web_app.get("url") if isinstance(web_app, Mapping) else None
    if not isinstance(url, str) or not _url_allowed(
        url, allow_insecure=allow_insecure, https_only=True
    ):
        raise bad_request(f"{where} Web App URL '{url}' is invalid: Only HTTPS links are allowed")


def _check_reply_keyboard(rows: Any, allow_insecure: bool) -> None:
    rows = _rows(rows)
    total = sum(len(row) for row in rows)
    if total > MAX_REPLY_BUTTONS or any(len(row) > MAX_REPLY_ROW for row in rows):
        raise bad_request("reply markup is too long")
    for row in rows:
        for button in row:
            text = (
                button
                if isinstance(button, str)
                else (button.get("text") if isinstance(button, dict) else None)
            )
            if not isinstance(text, str) or not text.strip():
                raise bad_request("keyboard button text must be non-empty")
            if isinstance(button, dict) and "web_app" in button:
                check_web_app(button["web_app"], allow_insecure, "keyboard button")


def normalize_reply_keyboard(markup: dict[str, Any]) -> dict[str, Any]:
    """Reply keyboards may list bare strings; the chat page wants ``{"text": ...}`` objects."""
    rows = [
        [button if isinstance(button, dict) else {"text": button} for button in row]
        for row in markup.get("keyboard", [])
    ]
    return {**markup, "keyboard": rows}


def inline_buttons(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not markup or "inline_keyboard" not in markup:
        return []
    return [button for row in markup["inline_keyboard"] for button in row]
