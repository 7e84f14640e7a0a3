"""Text for the offline provider: template replies and a keyword rule for tool calls.

Good enough for the assistant to be exercised end to end in ``atelier dev``: asking for "a
picture of a fox" yields a call to the image tool with the request as its prompt.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "arguments_for",
    "choose_tool_call",
    "last_user_text",
    "media_wanted",
    "template_reply",
]

_HINTS: dict[str, tuple[str, ...]] = {
    "video": ("video", "animat", "clip", "movie", "film"),
    "speech": ("say ", "speak", "voice", "read aloud", "narrat", "pronounce", "tts", "speech"),
    "audio": ("music", "song", "melody", "sound", "beat", "tune", "soundtrack", "audio", "sfx"),
    "image": (
        "draw",
        "image",
        "picture",
        "photo",
        "paint",
        "illustrat",
        "portrait",
        "wallpaper",
        "sketch",
        "logo",
        "render",
    ),
}
_TEMPLATES = (
    "Here is an idea for “{topic}”: start simple, pick one striking detail and build around it.",
    "“{topic}” — nice! I am the offline assistant, so my answers are canned, but I heard you.",
    "Thinking about “{topic}”: try describing the mood, the light and the colours you want.",
)


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, Sequence):
        return " ".join(
            part.get("text", "") for part in content if isinstance(part, Mapping)
        ).strip()
    return ""


def last_user_text(messages: Sequence[Mapping[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return _text_of(message.get("content"))
    return ""


def media_wanted(text: str) -> str | None:
    """Which media family the text asks for (video, speech, audio, image), if any."""
    lowered = f"{text.lower()} "
    for family, hints in _HINTS.items():
        if any(hint in lowered for hint in hints):
            return family
    return None


def _tool_function(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    function = tool.get("function")
    return function if isinstance(function, Mapping) else tool


def _default_for(schema: Mapping[str, Any], prompt: str, name: str) -> Any:
    if "default" in schema:
        return schema["default"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "string":
        return prompt if name in {"prompt", "text", "input", "description", "query"} else name
    if kind in {"integer", "number"}:
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "array":
        return []
    if kind == "object":
        return {}
    return prompt


def arguments_for(tool: Mapping[str, Any], prompt: str) -> dict[str, Any]:
    """Fill the tool's JSON schema: the user's words go into the prompt-like string field."""
    parameters = _tool_function(tool).get("parameters") or {}
    properties: Mapping[str, Any] = parameters.get("properties") or {}
    required = list(parameters.get("required") or [])
    arguments: dict[str, Any] = {}
    prompt_field = next(
        (n for n in ("prompt", "text", "input", "description", "query") if n in properties),
        next((n for n, s in properties.items() if s.get("type") == "string"), None),
    )
    if prompt_field is not None:
        arguments[prompt_field] = prompt
    for name in required:
        if name not in arguments and name in properties:
            arguments[name] = _default_for(properties[name], prompt, name)
    return arguments


def choose_tool_call(
    tools: Sequence[Mapping[str, Any]], messages: Sequence[Mapping[str, Any]]
) -> tuple[str, dict[str, Any]] | None:
    """Pick ``(tool name, arguments)`` when the last user message asks for media."""
    if not tools or not messages or messages[-1].get("role") != "user":
        return None
    text = last_user_text(messages)
    family = media_wanted(text)
    if family is None:
        return None
    hints = _HINTS[family]

    def score(tool: Mapping[str, Any]) -> int:
        function = _tool_function(tool)
        haystack = f"{function.get('name', '')} {function.get('description', '')}".lower()
        haystack = haystack.replace("_", " ")
        return sum(hint.strip() in haystack for hint in hints)

    best = max(tools, key=score)
    name = str(_tool_function(best).get("name", ""))
    return name, arguments_for(best, text)


def template_reply(messages: Sequence[Mapping[str, Any]], prompt: str | None = None) -> str:
    """A deterministic canned reply that quotes what it answers."""
    if messages and messages[-1].get("role") == "tool":
        return "Done — your result is ready. Want another variation?"
    topic = (prompt if prompt is not None else last_user_text(messages)).strip() or "nothing"
    topic = re.sub(r"\s+", " ", topic)[:120]
    index = hashlib.sha256(topic.encode()).digest()[0] % len(_TEMPLATES)
    return _TEMPLATES[index].format(topic=topic)
