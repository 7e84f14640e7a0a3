"""The provider adapter interface: one typed request in, outputs or a typed error out.

The job system only ever talks to :class:`ProviderAdapter`, so adding a provider is one module
with one subclass (plus a line in :data:`jobs.providers.PROVIDERS`). Errors say whether a retry
can help (:class:`TransientProviderError`) or not (:class:`PermanentProviderError`); the job
system decides the backoff, never the adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

from jobs.media import sniff_mime

__all__ = [
    "CancelCheck",
    "InvalidProviderInput",
    "MediaInput",
    "PermanentProviderError",
    "ProgressCallback",
    "ProviderAdapter",
    "ProviderAuthError",
    "ProviderBadResponse",
    "ProviderCancelled",
    "ProviderContentRejected",
    "ProviderError",
    "ProviderNotConfigured",
    "ProviderOutput",
    "ProviderQuotaExceeded",
    "ProviderRateLimited",
    "ProviderRequest",
    "ProviderResult",
    "ProviderTimeout",
    "ProviderUnavailable",
    "TextDeltaCallback",
    "ToolCall",
    "ToolKind",
    "TransientProviderError",
    "UnsupportedToolKind",
    "run_cancellable",
]

T = TypeVar("T")

ProgressCallback = Callable[[int, str], Awaitable[None]]
"""``await progress(percent, stage)``: percent 0..100, stage a short machine-friendly word."""
CancelCheck = Callable[[], bool | Awaitable[bool]]
"""Sync or async predicate; the job system may back it with a Redis flag or an Event."""
TextDeltaCallback = Callable[[str], Awaitable[None]]
"""Receives text pieces as an LLM streams them (live typing in chat)."""


class ToolKind(StrEnum):
    """What a tool does; catalog tools map onto exactly one kind."""

    TEXT_TO_IMAGE = "text_to_image"
    IMAGE_TO_VIDEO = "image_to_video"
    TEXT_TO_AUDIO = "text_to_audio"
    TEXT_TO_SPEECH = "text_to_speech"
    SPEECH_TO_TEXT = "speech_to_text"
    MERGE_VIDEO_AUDIO = "merge_video_audio"
    IMAGE_UPSCALE = "image_upscale"
    IMAGE_VARIATION = "image_variation"
    TEXT = "text"


# --------------------------------------------------------------------------- errors


class ProviderError(Exception):
    """Base of every provider failure.

    ``transient`` tells the job system whether retrying later may succeed; ``code`` is a stable
    name for logs, the job row and user-facing messages; ``retry_after`` is the provider's own
    hint in seconds, when it gave one.
    """

    transient: ClassVar[bool] = False
    code: ClassVar[str] = "provider_error"

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        status_code: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status_code = status_code
        self.retry_after = retry_after


class TransientProviderError(ProviderError):
    """Retry with backoff: the same request may succeed later."""

    transient = True
    code = "provider_transient"


class ProviderTimeout(TransientProviderError):
    code = "provider_timeout"


class ProviderRateLimited(TransientProviderError):
    """HTTP 429 (or local equivalent); honour ``retry_after`` when set."""

    code = "rate_limited"


class ProviderUnavailable(TransientProviderError):
    """5xx answers and connection failures."""

    code = "provider_unavailable"


class PermanentProviderError(ProviderError):
    """Do not retry: the request or the provider's answer is wrong and will stay wrong."""

    code = "provider_failed"


class InvalidProviderInput(PermanentProviderError):
    code = "invalid_input"


class UnsupportedToolKind(PermanentProviderError):
    code = "unsupported_kind"


class ProviderAuthError(PermanentProviderError):
    code = "provider_auth"


class ProviderNotConfigured(PermanentProviderError):
    code = "provider_not_configured"


class ProviderQuotaExceeded(PermanentProviderError):
    """The account is out of credit: a 429 that waiting does not fix."""

    code = "provider_quota"


class ProviderContentRejected(PermanentProviderError):
    """The provider's safety system refused the prompt or the output."""

    code = "content_rejected"


class ProviderBadResponse(PermanentProviderError):
    """The provider answered with something that is not what its API promises."""

    code = "bad_response"


class ProviderCancelled(ProviderError):
    """The job was cancelled; neither a failure to report nor a reason to retry."""

    code = "cancelled"


# --------------------------------------------------------------------------- request


@dataclass(frozen=True, slots=True)
class MediaInput:
    """One input file, either on local disk (``path``) or in memory (``data``)."""

    mime_type: str
    path: Path | None = None
    data: bytes | None = None
    name: str = "input"
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.path is None) == (self.data is None):
            raise ValueError("MediaInput needs exactly one of path or data")

    @classmethod
    def from_bytes(
        cls, data: bytes, mime_type: str | None = None, *, name: str = "input", **metadata: Any
    ) -> Self:
        """Wrap bytes, sniffing the MIME type from content when not given."""
        return cls(mime_type=mime_type or sniff_mime(data), data=data, name=name, metadata=metadata)

    @classmethod
    def from_path(cls, path: Path | str, mime_type: str | None = None, **metadata: Any) -> Self:
        """Wrap a local file, sniffing its head when no MIME type is given (reads ≤ 4 KiB)."""
        path = Path(path)
        if mime_type is None:
            with path.open("rb") as fh:
                mime_type = sniff_mime(fh.read(4096))
        return cls(mime_type=mime_type, path=path, name=path.name, metadata=metadata)

    async def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return await asyncio.to_thread(self.path.read_bytes)

    async def as_path(self, directory: Path) -> Path:
        """Return a path ffmpeg can open, writing in-memory data into ``directory`` if needed."""
        if self.path is not None:
            return self.path
        assert self.data is not None
        target = directory / Path(self.name).name
        await asyncio.to_thread(target.write_bytes, self.data)
        return target


@dataclass(slots=True)
class ProviderRequest:
    """Everything an adapter needs for one call.

    ``params`` is the tool's parameter dict (``prompt``, ``seed``, ``size``, ``duration``,
    ``fps``, ``voice``, ``messages``, ``tools``, ``model`` …); each adapter documents what it
    reads. Outputs written to disk go into ``workdir`` (a fresh temporary directory when
    ``None``); the caller owns and removes them.
    """

    kind: ToolKind
    params: Mapping[str, Any] = field(default_factory=dict)
    inputs: Sequence[MediaInput] = ()
    progress: ProgressCallback | None = None
    is_cancelled: CancelCheck | None = None
    on_text_delta: TextDeltaCallback | None = None
    workdir: Path | None = None
    _last_percent: int = field(default=-1, init=False, repr=False)

    async def report(self, percent: int, stage: str) -> None:
        """Forward progress, clamped to 0..100 and never going backwards."""
        percent = max(0, min(100, int(percent)))
        if self.progress is None or percent <= self._last_percent:
            return
        self._last_percent = percent
        await self.progress(percent, stage)

    def sub_progress(self, start: int, end: int) -> ProgressCallback:
        """A callback mapping a step's own 0..100 onto ``start..end`` of the whole request."""

        async def forward(percent: int, stage: str) -> None:
            await self.report(start + (end - start) * percent // 100, stage)

        return forward

    async def cancelled(self) -> bool:
        if self.is_cancelled is None:
            return False
        answer = self.is_cancelled()
        if inspect.isawaitable(answer):
            answer = await answer
        return bool(answer)

    async def raise_if_cancelled(self) -> None:
        if await self.cancelled():
            raise ProviderCancelled("the job was cancelled")

    def output_dir(self) -> Path:
        """The directory for file outputs, created on first use."""
        if self.workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="atelier-job-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        return self.workdir

    # Typed parameter access: bad values become InvalidProviderInput, never a TypeError deep down.

    def str_param(self, name: str, default: str | None = None) -> str:
        value = self.params.get(name, default)
        if not isinstance(value, str) or (value == "" and default is None):
            raise InvalidProviderInput(f"parameter {name!r} must be a non-empty string")
        return value

    def int_param(self, name: str, default: int, *, minimum: int, maximum: int) -> int:
        value = self.params.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidProviderInput(f"parameter {name!r} must be an integer")
        try:
            number = int(value)
        except ValueError as exc:
            raise InvalidProviderInput(f"parameter {name!r} must be an integer") from exc
        if not minimum <= number <= maximum:
            raise InvalidProviderInput(f"parameter {name!r} must be in {minimum}..{maximum}")
        return number

    def float_param(self, name: str, default: float, *, minimum: float, maximum: float) -> float:
        value = self.params.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise InvalidProviderInput(f"parameter {name!r} must be a number")
        try:
            number = float(value)
        except ValueError as exc:
            raise InvalidProviderInput(f"parameter {name!r} must be a number") from exc
        if not minimum <= number <= maximum:
            raise InvalidProviderInput(f"parameter {name!r} must be in {minimum}..{maximum}")
        return number

    def size_param(self, default: str) -> tuple[int, int]:
        """Read ``size`` as ``"WxH"`` (or ``width``/``height``), even sides, 16..4096."""
        if "width" in self.params or "height" in self.params:
            dw, _, dh = default.partition("x")
            width = self.int_param("width", int(dw), minimum=16, maximum=4096)
            height = self.int_param("height", int(dh), minimum=16, maximum=4096)
        else:
            raw = self.str_param("size", default)
            w, sep, h = raw.lower().partition("x")
            if not sep or not w.isdigit() or not h.isdigit():
                raise InvalidProviderInput("parameter 'size' must look like 1024x1024")
            width, height = int(w), int(h)
            if not (16 <= width <= 4096 and 16 <= height <= 4096):
                raise InvalidProviderInput("parameter 'size' sides must be in 16..4096")
        return width - width % 2, height - height % 2

    def chat_messages(self) -> list[Mapping[str, Any]]:
        """``messages`` (OpenAI chat format) as given, or built from ``system`` + ``prompt``."""
        raw = self.params.get("messages")
        if raw is not None:
            if not isinstance(raw, Sequence) or not all(isinstance(m, Mapping) for m in raw):
                raise InvalidProviderInput("parameter 'messages' must be a list of objects")
            if not raw:
                raise InvalidProviderInput("parameter 'messages' must not be empty")
            return list(raw)
        messages: list[Mapping[str, Any]] = []
        system = self.params.get("system")
        if isinstance(system, str) and system:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": self.str_param("prompt")})
        return messages

    def input_of(self, major: str, *, index: int = 0) -> MediaInput:
        """The ``index``-th input whose MIME type starts with ``major`` (``image``, ``audio``…)."""
        matching = [i for i in self.inputs if i.mime_type.startswith(f"{major}/")]
        if len(matching) <= index:
            raise InvalidProviderInput(f"this tool needs an {major} input file")
        return matching[index]


# --------------------------------------------------------------------------- result


@dataclass(frozen=True, slots=True)
class ProviderOutput:
    """One produced file: bytes in memory or a file the caller now owns."""

    mime_type: str
    data: bytes | None = None
    path: Path | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if (self.path is None) == (self.data is None):
            raise ValueError("ProviderOutput needs exactly one of path or data")

    async def read_bytes(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return await asyncio.to_thread(self.path.read_bytes)

    @property
    def text(self) -> str:
        """The content of a ``text/*`` output held in memory."""
        if self.data is None or not self.mime_type.startswith("text/"):
            raise ValueError("not an in-memory text output")
        return self.data.decode("utf-8")


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A function call an LLM asked for (the assistant turns it into a job)."""

    id: str
    name: str
    arguments: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class ProviderResult:
    """The outputs of one call plus what it cost and which model made it.

    For ``text`` the single output is the reply (possibly empty when the model only asked for
    tools); ``tool_calls`` lists the calls and ``metadata["finish_reason"]`` says why it stopped.
    """

    provider: str
    outputs: tuple[ProviderOutput, ...]
    model: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    usage: Mapping[str, int] = field(default_factory=dict)
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def output(self) -> ProviderOutput:
        return self.outputs[0]

    @property
    def text(self) -> str:
        return self.outputs[0].text


# --------------------------------------------------------------------------- adapter


class ProviderAdapter(ABC):
    """Base of every provider: validates the kind, checks cancellation, finishes progress."""

    name: ClassVar[str]
    kinds: ClassVar[frozenset[ToolKind]]

    def supports(self, kind: ToolKind) -> bool:
        return kind in self.kinds

    async def run(self, request: ProviderRequest) -> ProviderResult:
        """Run one request; raises :class:`ProviderError` subclasses only (plus CancelledError)."""
        if not self.supports(request.kind):
            raise UnsupportedToolKind(
                f"provider {self.name!r} cannot do {request.kind.value!r}", provider=self.name
            )
        await request.raise_if_cancelled()
        try:
            result = await self._run(request)
        except ProviderError as exc:
            exc.provider = exc.provider or self.name
            raise
        await request.report(100, "done")
        return result

    @abstractmethod
    async def _run(self, request: ProviderRequest) -> ProviderResult:
        """Do the work for a kind listed in :attr:`kinds`."""

    async def aclose(self) -> None:
        """Release connections; the default has nothing to release."""
        return None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


async def run_cancellable(
    request: ProviderRequest, work: Coroutine[Any, Any, T], *, poll_interval: float = 0.2
) -> T:
    """Await ``work`` but abandon it (cancelling its task) as soon as the job is cancelled.

    Network calls cannot look at the cancellation flag themselves; this races them against it.
    """
    if request.is_cancelled is None:
        return await work
    task = asyncio.ensure_future(work)
    try:
        while True:
            done, _ = await asyncio.wait({task}, timeout=poll_interval)
            if done:
                return task.result()
            if await request.cancelled():
                raise ProviderCancelled("the job was cancelled")
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
