"""Chat completions exactly as OpenAI shapes them, whole or as ``chat.completion.chunk`` SSE.

The default answer needs no scripting: with ``tools`` offered and a last user message asking
for media, it calls the best-matching tool with the user's words as the prompt; after a tool
result it says "Done"; otherwise it echoes. Tests script anything else through the control.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devtools.openai.control import ChatReply, ScriptedToolCall

__all__ = ["Completion", "completion_body", "default_reply", "resolve_reply", "stream_chunks"]

_MEDIA_HINTS: dict[str, tuple[str, ...]] = {
    "video": ("video", "animat", "clip", "movie"),
    "speech": ("say ", "speak", "voice", "read aloud", "narrat", "speech"),
    "audio": ("music", "song", "melody", "sound", "beat", "tune", "audio"),
    "image": ("draw", "image", "picture", "photo", "paint", "illustrat", "portrait", "sketch"),
}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict)).strip()
    return ""


def _function(tool: Mapping[str, Any]) -> Mapping[str, Any]:
    function = tool.get("function")
    return function if isinstance(function, Mapping) else {}


def _arguments(tool: Mapping[str, Any], prompt: str) -> dict[str, Any]:
    schema = _function(tool).get("parameters") or {}
    properties: Mapping[str, Any] = schema.get("properties") or {}
    args: dict[str, Any] = {}
    for name in ("prompt", "text", "input", "description", "query"):
        if name in properties:
            args[name] = prompt
            break
    for name in schema.get("required") or []:
        if name in args or name not in properties:
            continue
        prop = properties[name]
        if "default" in prop:
            args[name] = prop["default"]
        elif prop.get("enum"):
            args[name] = prop["enum"][0]
        else:
            args[name] = {
                "string": prompt,
                "integer": prop.get("minimum", 1),
                "number": prop.get("minimum", 1),
                "boolean": False,
                "array": [],
                "object": {},
            }.get(prop.get("type", "string"), prompt)
    return args


def default_reply(body: Mapping[str, Any]) -> ChatReply:
    """What the server says when nothing is scripted."""
    messages: Sequence[Mapping[str, Any]] = body.get("messages") or []
    tools: Sequence[Mapping[str, Any]] = body.get("tools") or []
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        return ChatReply(content="Done! Your result is ready.")
    user_text = _text(last.get("content")) if last.get("role") == "user" else ""
    lowered = f"{user_text.lower()} "
    family = next(
        (f for f, hints in _MEDIA_HINTS.items() if any(h in lowered for h in hints)), None
    )
    if tools and family is not None and body.get("tool_choice") != "none":
        hints = _MEDIA_HINTS[family]

        def score(tool: Mapping[str, Any]) -> int:
            function = _function(tool)
            hay = f"{function.get('name', '')} {function.get('description', '')}".lower()
            return sum(h.strip() in hay.replace("_", " ") for h in hints)

        tool = max(tools, key=score)
        name = str(_function(tool).get("name", "tool"))
        return ChatReply(tool_calls=(ScriptedToolCall(name, _arguments(tool, user_text)),))
    return ChatReply(content=f"Echo: {user_text}" if user_text else "Hello from the fake OpenAI.")


def resolve_reply(reply: ChatReply, body: Mapping[str, Any]) -> ChatReply:
    """Apply ``max_tokens`` truncation and ``response_format=json_object`` to a reply."""
    content = reply.content
    finish = reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")
    fmt = body.get("response_format") or {}
    if content is not None and isinstance(fmt, Mapping) and fmt.get("type") == "json_object":
        content = json.dumps({"reply": content})
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if content is not None and isinstance(limit, int) and len(content.split()) > limit:
        content = " ".join(content.split()[:limit])
        finish = "length"
    return ChatReply(content=content, tool_calls=reply.tool_calls, finish_reason=finish)


@dataclass(frozen=True, slots=True)
class Completion:
    id: str
    created: int
    model: str
    reply: ChatReply
    usage: dict[str, Any]


def new_completion(reply: ChatReply, body: Mapping[str, Any]) -> Completion:
    prompt_tokens = sum(len(_text(m.get("content")).split()) + 4 for m in body.get("messages", []))
    completion_tokens = len((reply.content or "").split()) + 10 * len(reply.tool_calls)
    usage = {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
    return Completion(
        id="chatcmpl-" + secrets.token_hex(12),
        created=int(time.time()),
        model=str(body.get("model")),
        reply=reply,
        usage=usage,
    )


def _tool_calls(reply: ChatReply) -> list[tuple[str, str, str]]:
    """``(id, name, arguments JSON)`` for each scripted call, ids made up when missing."""
    calls = []
    for call in reply.tool_calls:
        arguments = (
            call.arguments if isinstance(call.arguments, str) else json.dumps(call.arguments)
        )
        calls.append((call.id or "call_" + secrets.token_hex(12), call.name, arguments))
    return calls


def completion_body(completion: Completion) -> dict[str, Any]:
    reply = completion.reply
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.content,
        "refusal": None,
        "annotations": [],
    }
    calls = _tool_calls(reply)
    if calls:
        message["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
            for cid, name, args in calls
        ]
    return {
        "id": completion.id,
        "object": "chat.completion",
        "created": completion.created,
        "model": completion.model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}
        ],
        "usage": completion.usage,
        "service_tier": "default",
        "system_fingerprint": "fp_atelier",
    }


def stream_chunks(completion: Completion, *, include_usage: bool) -> Iterator[dict[str, Any]]:
    """The chunk sequence OpenAI streams: role, content or tool-call pieces, finish, usage."""
    base = {
        "id": completion.id,
        "object": "chat.completion.chunk",
        "created": completion.created,
        "model": completion.model,
        "service_tier": "default",
        "system_fingerprint": "fp_atelier",
    }

    def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {
            **base,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            body["usage"] = None
        return body

    reply = completion.reply
    calls = _tool_calls(reply)
    if calls:
        yield chunk({"role": "assistant", "content": reply.content, "refusal": None})
        for index, (cid, name, args) in enumerate(calls):
            yield chunk(
                {
                    "tool_calls": [
                        {
                            "index": index,
                            "id": cid,
                            "type": "function",
                            "function": {"name": name, "arguments": ""},
                        }
                    ]
                }
            )
            for start in range(0, len(args), 12):
                piece = args[start : start + 12]
                yield chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
    else:
        yield chunk({"role": "assistant", "content": "", "refusal": None})
        words = (reply.content or "").split(" ")
        for i, word in enumerate(words):
            yield chunk({"content": word if i == 0 else " " + word})
    yield chunk({}, reply.finish_reason)
    if include_usage:
        yield {**base, "choices": [], "usage": completion.usage}
