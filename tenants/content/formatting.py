"""Post text as sanitized Telegram HTML: one stored form that is safe in both places it goes.

Creators write with formatting (the Mini App's editor sends HTML; the bot would send Telegram
entities rendered as HTML). What is stored is a strict subset: the tags Telegram's
``parse_mode=HTML`` understands, with only the attributes it understands, links only to
``http``, ``https`` and ``tg`` URLs, every tag closed and properly nested, and all other text
escaped. The same string can therefore be sent to Telegram as is, and rendered by the Mini
App as HTML without letting a creator (or a co-admin's stolen session) run script in fans'
browsers. ``<br>`` and paragraph ends become new lines, as Telegram wants them; anything else
(``<script>``, ``<img>``, ``<div>``...) is dropped with its tags, its text kept as text —
except ``<script>`` and ``<style>``, whose content goes too.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

MAX_VISIBLE_CHARS = 4096
"""Telegram's limit on a message's text (after entities are parsed)."""

_ALIASES = {"strong": "b", "em": "i", "ins": "u", "strike": "s", "del": "s"}
_SIMPLE = {"b", "i", "u", "s", "tg-spoiler", "code", "pre", "blockquote"}
_ALLOWED = _SIMPLE | {"a", "span", "tg-emoji"}
_BREAKS = {"br"}
_BLOCK_ENDS = {"p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6"}
_DROP_CONTENT = {"script", "style", "template", "noscript"}
_URL = re.compile(r"^(https?://[^\s\"'<>]+|tg://[^\s\"'<>]+)$", re.IGNORECASE)
_LANGUAGE = re.compile(r"^language-[A-Za-z0-9_+#.-]{1,32}$")
_EMOJI_ID = re.compile(r"^\d{1,20}$")


class _Sanitizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.stack: list[str] = []
        self.dropping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = _ALIASES.get(tag, tag)
        if tag in _DROP_CONTENT:
            self.dropping += 1
            return
        if self.dropping:
            return
        if tag in _BREAKS:
            self.out.append("\n")
            return
        opening = self._opening(tag, dict(attrs))
        if opening is None:
            return
        self.out.append(opening)
        self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAKS and not self.dropping:
            self.out.append("\n")

    def _opening(self, tag: str, attrs: dict[str, str | None]) -> str | None:
        if tag in _SIMPLE:
            if tag == "blockquote" and "expandable" in attrs:
                return "<blockquote expandable>"
            if tag == "code" and _LANGUAGE.match(attrs.get("class") or ""):
                return f'<code class="{attrs["class"]}">'
            return f"<{tag}>"
        if tag == "span" and (attrs.get("class") or "") == "tg-spoiler":
            return '<span class="tg-spoiler">'
        if tag == "a" and _URL.match((attrs.get("href") or "").strip()):
            return f'<a href="{html.escape((attrs["href"] or "").strip(), quote=True)}">'
        if tag == "tg-emoji" and _EMOJI_ID.match(attrs.get("emoji-id") or ""):
            return f'<tg-emoji emoji-id="{attrs["emoji-id"]}">'
        return None

    def handle_endtag(self, tag: str) -> None:
        tag = _ALIASES.get(tag, tag)
        if tag in _DROP_CONTENT:
            self.dropping = max(0, self.dropping - 1)
            return
        if self.dropping:
            return
        if tag in _BLOCK_ENDS:
            self.out.append("\n")
            return
        if tag not in _ALLOWED or tag not in self.stack:
            return
        while self.stack:  # close what was left open inside it: nesting stays valid
            open_tag = self.stack.pop()
            self.out.append(f"</{open_tag}>")
            if open_tag == tag:
                break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        while self.stack:
            self.out.append(f"</{self.stack.pop()}>")
        return "".join(self.out)


def sanitize_html(source: str) -> str:
    """The safe Telegram-HTML form of ``source`` (HTML or plain text), trimmed of blank
    lines at both ends; runs of more than two new lines become two."""
    parser = _Sanitizer()
    parser.feed(source.replace("\r\n", "\n").replace("\r", "\n"))
    parser.close()
    text = re.sub(r"\n{3,}", "\n\n", parser.result())
    return text.strip()


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(safe_html: str) -> str:
    """What a reader sees of sanitized HTML: the text without tags (Telegram's length)."""
    parser = _Text()
    parser.feed(safe_html)
    parser.close()
    return "".join(parser.parts)
