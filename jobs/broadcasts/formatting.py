"""What a broadcast may contain: Telegram HTML, a length Telegram accepts, URL buttons.

Checked when the creator composes, so a mistake is a 422 in the panel (or a reply in chat)
instead of two thousand failed sends. The rules are Telegram's own (Bot API, "HTML style"):
only its tags and attributes, tags closed in order, ``<``, ``>`` and ``&`` escaped outside
tags, only ``&lt; &gt; &amp; &quot;`` and numeric entities; the limit counts the text left
after the tags, in UTF-16 code units, as Telegram does.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from core.errors import ValidationError

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_BUTTON_ROWS = 8
MAX_BUTTONS_PER_ROW = 4
MAX_BUTTON_TEXT = 64
MAX_URL = 2048

_ATTRIBUTES: dict[str, frozenset[str]] = {
    "b": frozenset(),
    "strong": frozenset(),
    "i": frozenset(),
    "em": frozenset(),
    "u": frozenset(),
    "ins": frozenset(),
    "s": frozenset(),
    "strike": frozenset(),
    "del": frozenset(),
    "span": frozenset({"class"}),
    "tg-spoiler": frozenset(),
    "a": frozenset({"href"}),
    "code": frozenset({"class"}),
    "pre": frozenset(),
    "blockquote": frozenset({"expandable"}),
    "tg-emoji": frozenset({"emoji-id"}),
}
_BARE_LT = re.compile(r"<(?![a-zA-Z/])")
_BARE_AMP = re.compile(r"&(?!(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});)")
LINK_SCHEMES = ("http", "https", "tg")


class InvalidContentError(ValidationError):
    code = "invalid_broadcast"


class _Checker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        allowed = _ATTRIBUTES.get(tag)
        if allowed is None:
            raise InvalidContentError(f"the tag <{tag}> is not supported by Telegram")
        values = dict(attrs)
        for name in values:
            if name not in allowed:
                raise InvalidContentError(f"the tag <{tag}> cannot have a {name!r} attribute")
        if tag == "span" and values.get("class") != "tg-spoiler":
            raise InvalidContentError('<span> needs class="tg-spoiler"')
        if tag == "a":
            check_url(values.get("href") or "", where="a link")
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise InvalidContentError(f"<{tag}/> is not supported by Telegram")

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open[-1] != tag:
            raise InvalidContentError(f"</{tag}> does not close the last open tag")
        self.open.pop()

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_comment(self, data: str) -> None:
        raise InvalidContentError("HTML comments are not supported by Telegram")

    def handle_decl(self, decl: str) -> None:
        raise InvalidContentError("declarations are not supported by Telegram")

    def handle_pi(self, data: str) -> None:
        raise InvalidContentError("processing instructions are not supported by Telegram")

    def unknown_decl(self, data: str) -> None:
        raise InvalidContentError("declarations are not supported by Telegram")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def visible_text(html: str) -> str:
    """The text a fan reads once the tags are applied; raises on anything Telegram refuses."""
    if _BARE_LT.search(html):
        raise InvalidContentError("write < as &lt; outside tags")
    if _BARE_AMP.search(html):
        raise InvalidContentError("write & as &amp; (only &lt; &gt; &amp; &quot; are known)")
    checker = _Checker()
    checker.feed(html)
    checker.close()
    if checker.open:
        raise InvalidContentError(f"<{checker.open[-1]}> is never closed")
    return "".join(checker.parts)


def check_text(html: str, *, caption: bool) -> str:
    """``html`` stripped, checked, within Telegram's limit for a message or a caption."""
    html = html.strip()
    text = visible_text(html).strip()
    limit = MAX_CAPTION if caption else MAX_TEXT
    if not caption and not text:
        raise InvalidContentError("the message is empty")
    if utf16_len(text) > limit:
        where = "a caption" if caption else "a message"
        raise InvalidContentError(
            f"{where} can hold {limit} characters; this one has {utf16_len(text)}"
        )
    return html


def check_url(url: str, *, where: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if len(url) > MAX_URL or parts.scheme not in LINK_SCHEMES:
        raise InvalidContentError(f"{where} needs an http(s):// or tg:// address")
    if parts.scheme != "tg" and not parts.netloc:
        raise InvalidContentError(f"{where} needs a full address with a host")
    return url


def check_buttons(rows: list[list[tuple[str, str]]]) -> list[list[dict[str, str]]]:
    """URL buttons as Telegram's ``inline_keyboard`` rows (``text`` + ``url`` each)."""
    rows = [row for row in rows if row]
    if len(rows) > MAX_BUTTON_ROWS:
        raise InvalidContentError(f"at most {MAX_BUTTON_ROWS} rows of buttons")
    checked: list[list[dict[str, str]]] = []
    for row in rows:
        if len(row) > MAX_BUTTONS_PER_ROW:
            raise InvalidContentError(f"at most {MAX_BUTTONS_PER_ROW} buttons in a row")
        line = []
        for text, url in row:
            label = text.strip()
            if not label or len(label) > MAX_BUTTON_TEXT:
                raise InvalidContentError(f"a button label has 1 to {MAX_BUTTON_TEXT} characters")
            line.append({"text": label, "url": check_url(url, where=f"the button {label!r}")})
        checked.append(line)
    return checked
