"""The assistant's LLM: OpenAI (or any compatible server) through our provider adapter, with
the tenant's catalogue offered as functions.

Each tool the tenant offers becomes one function (name = tool slug, parameters = its JSON
Schema). A file parameter (an input image, video…) takes a reference to an earlier call's
output instead of a file id — ``"$steps.<n>.output"``, ``n`` counting this answer's calls from
0 — so a multi-call answer is a workflow as it stands.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import UpstreamError
from core.settings import Settings
from jobs.catalog.schemas import ToolView
from jobs.providers import ProviderError, ProviderRequest, ToolKind, create_provider

SYSTEM_PROMPT = (
    "You are the creative assistant of the Telegram bot {bot_name}. Answer briefly, in the "
    "user's language. When the user asks for media (images, video, sound, music, speech), "
    "call the functions in the order they must run; a file parameter takes "
    '"$steps.<n>.output" where n is the index (from 0) of an earlier call in the same '
    "answer. Never invent functions."
)
REFERENCE_HINT = 'An earlier call\'s output: "$steps.<n>.output" (n counts your calls from 0).'
MARKER = "x-media"


@dataclass(frozen=True, slots=True)
class LLMReply:
    text: str
    steps: list[dict[str, Any]]


def function_for(tool: ToolView) -> dict[str, Any]:
    schema = copy.deepcopy(tool.params_schema)
    for name, spec in schema.get("properties", {}).items():
        if isinstance(spec, dict) and MARKER in spec:
            schema["properties"][name] = {
                "type": "string",
                "description": f"{spec[MARKER]} input. {REFERENCE_HINT}",
            }
    return {
        "type": "function",
        "function": {
            "name": tool.slug,
            "description": f"{tool.name}: {tool.description}"[:1000],
            "parameters": schema,
        },
    }


class LLM:
    """One chat completion per call; provider errors become :class:`UpstreamError`."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def complete(
        self, messages: Sequence[dict[str, str]], tools: Sequence[ToolView] = ()
    ) -> LLMReply:
        provider = create_provider("openai", self.settings)
        params: dict[str, Any] = {"messages": list(messages)}
        if tools:
            params["tools"] = [function_for(tool) for tool in tools]
        try:
            result = await provider.run(ProviderRequest(kind=ToolKind.TEXT, params=params))
        except ProviderError as exc:
            raise UpstreamError("the assistant is not answering right now") from exc
        finally:
            await provider.aclose()
        offered = {tool.slug for tool in tools}
        steps = [
            {"tool": call.name, "params": dict(call.arguments)}
            for call in result.tool_calls
            if call.name in offered
        ]
        return LLMReply(result.text if result.outputs else "", steps)

    async def summarise(self, summary: str, messages: Sequence[dict[str, str]]) -> str:
        transcript = "\n".join(f"{m['role']}: {m['content']}" for m in messages)
        prompt = (
            "Summarise this conversation in a few sentences, keeping names, preferences and "
            f"open requests.\n\nEarlier summary: {summary or '-'}\n\n{transcript}"
        )
        reply = await self.complete([{"role": "user", "content": prompt}])
        return reply.text


def llm_for(settings: Settings) -> LLM | None:
    """The LLM when an OpenAI key is configured; None in embedded mode (offline planner)."""
    return LLM(settings) if settings.openai_api_key else None
