"""The test-facing handle of the fake OpenAI server: script replies, inject faults, read requests.

Tests hold an :class:`OpenAIServerControl` (yielded by ``running_openai_server``) and change the
server's behaviour between calls without restarting it. Everything is guarded by a lock so the
server may run in another thread (sync SDK clients) as well as in the test's own event loop.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_MODELS",
    "ChatReply",
    "Fault",
    "OpenAIServerConfig",
    "OpenAIServerControl",
    "RecordedRequest",
    "ScriptedToolCall",
]

DEFAULT_API_KEY = "sk-atelier-test-key"  # a fake server's well-known test key
DEFAULT_MODELS = (
    "gpt-4o-mini",
    "gpt-4.1-mini",
    "gpt-image-1",
    "dall-e-3",
    "gpt-4o-mini-tts",
    "tts-1",
    "gpt-4o-mini-transcribe",
    "whisper-1",
)


@dataclass(frozen=True, slots=True)
class OpenAIServerConfig:
    """How the server starts. ``api_keys`` empty means any non-empty bearer key is accepted."""

    api_keys: frozenset[str] = frozenset({DEFAULT_API_KEY})
    models: tuple[str, ...] = DEFAULT_MODELS
    stream_delay: float = 0.0
    """Seconds between streamed chunks, to make "live typing" observable in tests."""


@dataclass(frozen=True, slots=True)
class ScriptedToolCall:
    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str | None = None


@dataclass(frozen=True, slots=True)
class ChatReply:
    """One scripted chat answer; ``finish_reason`` defaults to tool_calls/stop as fits."""

    content: str | None = None
    tool_calls: Sequence[ScriptedToolCall] = ()
    finish_reason: str | None = None


FaultKind = Literal["status", "garbage", "malformed", "delay"]


@dataclass(slots=True)
class Fault:
    """A misbehaviour applied to the next ``remaining`` matching requests."""

    kind: FaultKind
    remaining: int = 1
    status: int = 500
    message: str | None = None
    code: str | None = None
    error_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    delay: float = 0.0
    path: str | None = None
    """Only requests whose path contains this (e.g. ``"chat/completions"``); None for all."""

    def matches(self, path: str) -> bool:
        return self.path is None or self.path in path


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """What a client sent, for assertions (the ``Authorization`` header is kept)."""

    method: str
    path: str
    headers: Mapping[str, str]
    json: Any = None
    form: Mapping[str, Any] = field(default_factory=dict)


class OpenAIServerControl:
    """Scripting and fault switches for one server instance."""

    def __init__(self, config: OpenAIServerConfig) -> None:
        self.config = config
        self.api_keys: set[str] = set(config.api_keys)
        self.requests: list[RecordedRequest] = []
        self._chat: deque[ChatReply] = deque()
        self._transcripts: deque[str] = deque()
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    @property
    def api_key(self) -> str:
        """A key the server accepts (the first configured one)."""
        return sorted(self.api_keys)[0] if self.api_keys else DEFAULT_API_KEY

    # ------------------------------------------------------------------ scripting

    def queue_chat(self, *replies: ChatReply | str) -> None:
        """Queue exact next chat answers (a plain string is a text answer)."""
        with self._lock:
            for reply in replies:
                self._chat.append(ChatReply(content=reply) if isinstance(reply, str) else reply)

    def queue_tool_call(
        self,
        name: str,
        arguments: Mapping[str, Any] | str | None = None,
        *,
        call_id: str | None = None,
        content: str | None = None,
    ) -> None:
        """Queue a chat answer that calls one tool."""
        call = ScriptedToolCall(name=name, arguments=arguments or {}, id=call_id)
        self.queue_chat(ChatReply(content=content, tool_calls=(call,)))

    def queue_transcription(self, *texts: str) -> None:
        with self._lock:
            self._transcripts.extend(texts)

    def next_chat(self) -> ChatReply | None:
        with self._lock:
            return self._chat.popleft() if self._chat else None

    def next_transcript(self) -> str | None:
        with self._lock:
            return self._transcripts.popleft() if self._transcripts else None

    # ------------------------------------------------------------------ faults

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def fail_next(
        self,
        status: int,
        n: int = 1,
        *,
        message: str | None = None,
        code: str | None = None,
        error_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        path: str | None = None,
    ) -> None:
        """The next ``n`` requests answer ``status`` with OpenAI's error JSON."""
        self.add_fault(
            Fault(
                "status",
                n,
                status=status,
                message=message,
                code=code,
                error_type=error_type,
                headers=dict(headers or {}),
                path=path,
            )
        )

    def rate_limit_next(
        self, n: int = 1, *, retry_after: float = 1.0, path: str | None = None
    ) -> None:
        """429 ``rate_limit_exceeded`` with ``retry-after`` (seconds) and ``retry-after-ms``."""
        headers = {
            "retry-after": f"{retry_after:g}",
            "retry-after-ms": str(int(retry_after * 1000)),
        }
        self.fail_next(
            429, n, code="rate_limit_exceeded", error_type="requests", headers=headers, path=path
        )

    def quota_exceeded_next(self, n: int = 1, *, path: str | None = None) -> None:
        """429 ``insufficient_quota``: the one 429 that waiting does not fix."""
        self.fail_next(
            429,
            n,
            code="insufficient_quota",
            error_type="insufficient_quota",
            path=path,
            message="You exceeded your current quota, please check your plan and billing details.",
        )

    def server_error_next(self, n: int = 1, *, status: int = 500, path: str | None = None) -> None:
        self.fail_next(status, n, error_type="server_error", path=path)

    def garbage_next(self, n: int = 1, *, path: str | None = None) -> None:
        """200 with a body that is not what the endpoint promises (truncated JSON, junk audio)."""
        self.add_fault(Fault("garbage", n, status=200, path=path))

    def malformed_next(self, n: int = 1, *, path: str | None = None) -> None:
        """200 with valid JSON of the wrong shape."""
        self.add_fault(Fault("malformed", n, status=200, path=path))

    def delay_next(self, seconds: float, n: int = 1, *, path: str | None = None) -> None:
        """Answer normally but only after ``seconds`` (client timeout tests)."""
        self.add_fault(Fault("delay", n, delay=seconds, path=path))

    def take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # ------------------------------------------------------------------ requests

    def record(self, request: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(request)

    def requests_to(self, path_part: str) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if path_part in r.path]

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self.requests[-1]

    def reset(self) -> None:
        """Forget scripts, faults and recorded requests; keys back to the configured ones."""
        with self._lock:
            self._chat.clear()
            self._transcripts.clear()
            self._faults.clear()
            self.requests.clear()
            self.api_keys = set(self.config.api_keys)
