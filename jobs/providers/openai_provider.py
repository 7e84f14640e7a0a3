"""OpenAI (and any OpenAI-compatible server) through the official ``openai`` SDK.

Kinds: ``text`` (chat, tools, streaming), ``text_to_image`` (images.generate), ``text_to_speech``
(audio.speech) and ``speech_to_text`` (audio.transcriptions). The SDK's own retries are off by
default: the job system owns retry and backoff, and two layers of retries multiply delays.

Every SDK failure leaves as a typed provider error: timeouts, 429 and 5xx are transient; auth,
bad requests and answers that do not match the API's promises are permanent. The SDK does not
validate response shapes, so this module checks what it uses before trusting it.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self, TypeVar

import httpx
import openai
from openai import AsyncOpenAI

from jobs import media
from jobs.providers.base import (
    InvalidProviderInput,
    PermanentProviderError,
    ProviderAdapter,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderContentRejected,
    ProviderError,
    ProviderNotConfigured,
    ProviderOutput,
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
    ProviderUnavailable,
    ToolCall,
    ToolKind,
    run_cancellable,
)
from jobs.providers.offline_audio import wav_bytes

__all__ = ["OpenAIModels", "OpenAIProvider", "map_openai_error"]

T = TypeVar("T")
_PCM_RATE = 24_000  # OpenAI's raw PCM speech: 24 kHz, 16-bit, mono
_SPEECH_MIME = {
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "opus": "audio/ogg",
    "aac": "audio/aac",
    "pcm": "audio/wav",
}


@dataclass(frozen=True, slots=True)
class OpenAIModels:
    """Default model per kind; a request's ``model`` parameter overrides it."""

    chat: str = "gpt-4o-mini"
    image: str = "gpt-image-1"
    speech: str = "gpt-4o-mini-tts"
    transcription: str = "gpt-4o-mini-transcribe"


def _retry_after(exc: openai.APIStatusError) -> float | None:
    headers = exc.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue
    return None


def map_openai_error(exc: Exception, provider: str = "openai") -> ProviderError:
    """Translate an SDK (or decoding) exception into a typed provider error."""
    if isinstance(exc, openai.APITimeoutError):
        return ProviderTimeout("the provider timed out", provider=provider)
    if isinstance(exc, openai.APIConnectionError):
        return ProviderUnavailable(f"cannot reach the provider: {exc}", provider=provider)
    if isinstance(exc, openai.APIResponseValidationError):
        return ProviderBadResponse(
            f"unexpected answer: {exc.message}", provider=provider, status_code=exc.status_code
        )
    if isinstance(exc, openai.APIStatusError):
        status, message = exc.status_code, exc.message
        if isinstance(exc.body, dict) and isinstance(exc.body.get("message"), str):
            message = exc.body["message"]  # the provider's words, without the SDK's prefix
        if isinstance(exc, openai.RateLimitError):
            if exc.code == "insufficient_quota":
                return ProviderQuotaExceeded(message, provider=provider, status_code=status)
            return ProviderRateLimited(
                message, provider=provider, status_code=status, retry_after=_retry_after(exc)
            )
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return ProviderAuthError(message, provider=provider, status_code=status)
        if status >= 500 or status in (408, 409):
            return ProviderUnavailable(
                message, provider=provider, status_code=status, retry_after=_retry_after(exc)
            )
        if exc.code == "content_policy_violation":
            return ProviderContentRejected(message, provider=provider, status_code=status)
        if isinstance(
            exc, openai.BadRequestError | openai.UnprocessableEntityError | openai.NotFoundError
        ):
            return InvalidProviderInput(message, provider=provider, status_code=status)
        return PermanentProviderError(message, provider=provider, status_code=status)
    if isinstance(exc, openai.ContentFilterFinishReasonError):
        return ProviderContentRejected(str(exc), provider=provider)
    if isinstance(exc, ValueError | TypeError | KeyError | AttributeError):
        # JSONDecodeError and pydantic's ValidationError are ValueErrors: a garbage body.
        return ProviderBadResponse(
            f"the provider sent an unreadable answer: {exc}", provider=provider
        )
    return PermanentProviderError(f"{type(exc).__name__}: {exc}", provider=provider)


@dataclass(slots=True)
class _StreamedCall:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class OpenAIProvider(ProviderAdapter):
    """Adapter over :class:`openai.AsyncOpenAI`; works with any compatible ``base_url``."""

    name: ClassVar[str] = "openai"
    kinds: ClassVar[frozenset[ToolKind]] = frozenset(
        {ToolKind.TEXT, ToolKind.TEXT_TO_IMAGE, ToolKind.TEXT_TO_SPEECH, ToolKind.SPEECH_TO_TEXT}
    )

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        models: OpenAIModels | None = None,
        timeout: float = 120.0,
        max_retries: int = 0,
        client: AsyncOpenAI | None = None,
    ) -> None:
        if client is None and not api_key:
            raise ProviderNotConfigured("OpenAI needs an API key (ATELIER_OPENAI_API_KEY)")
        self.models = models or OpenAIModels()
        self.timeout = timeout
        self._owns_client = client is None
        self.client = client or AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    @classmethod
    def from_settings(cls, settings: Any) -> Self:
        return cls(api_key=settings.openai_api_key, base_url=settings.openai_base_url)

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.close()

    async def _run(self, request: ProviderRequest) -> ProviderResult:
        if request.kind is ToolKind.TEXT:
            return await self._chat(request)
        if request.kind is ToolKind.TEXT_TO_IMAGE:
            return await self._image(request)
        if request.kind is ToolKind.TEXT_TO_SPEECH:
            return await self._speech(request)
        return await self._transcribe(request)

    async def _call(self, request: ProviderRequest, work: Coroutine[Any, Any, T]) -> T:
        try:
            return await run_cancellable(request, work)
        except ProviderError:
            raise
        except Exception as exc:  # every SDK or decoding failure gets a type
            raise map_openai_error(exc, self.name) from exc

    # ------------------------------------------------------------------ chat

    def _chat_kwargs(self, request: ProviderRequest) -> dict[str, Any]:
        params = request.params
        kwargs: dict[str, Any] = {
            "model": params.get("model") or self.models.chat,
            "messages": request.chat_messages(),
        }
        if params.get("tools"):
            kwargs["tools"] = list(params["tools"])
            if "tool_choice" in params:
                kwargs["tool_choice"] = params["tool_choice"]
        for name in ("temperature", "seed", "response_format", "top_p"):
            if params.get(name) is not None:
                kwargs[name] = params[name]
        if params.get("max_tokens") is not None:
            kwargs["max_completion_tokens"] = params["max_tokens"]
        return kwargs

    async def _chat(self, request: ProviderRequest) -> ProviderResult:
        kwargs = self._chat_kwargs(request)
        await request.report(5, "thinking")
        if request.on_text_delta is not None or request.params.get("stream"):
            return await self._call(request, self._chat_stream(request, kwargs))
        completion = await self._call(request, self.client.chat.completions.create(**kwargs))
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list) or not choices or choices[0].message is None:
            raise ProviderBadResponse("the chat answer has no choices", provider=self.name)
        choice = choices[0]
        message = choice.message
        calls = tuple(
            self._tool_call(c.id, c.function.name, c.function.arguments)
            for c in message.tool_calls or ()
            if getattr(c, "function", None) is not None
        )
        usage = (
            completion.usage.model_dump(
                include={"prompt_tokens", "completion_tokens", "total_tokens"}
            )
            if completion.usage
            else {}
        )
        return self._chat_result(
            message.content, message.refusal, calls, choice.finish_reason, completion.model, usage
        )

    async def _chat_stream(
        self, request: ProviderRequest, kwargs: dict[str, Any]
    ) -> ProviderResult:
        stream = await self.client.chat.completions.create(
            **kwargs, stream=True, stream_options={"include_usage": True}
        )
        text: list[str] = []
        refusal: list[str] = []
        calls: dict[int, _StreamedCall] = {}
        finish: str | None = None
        model: str | None = None
        usage: dict[str, int] = {}
        chunks = 0
        async with stream:
            async for chunk in stream:
                chunks += 1
                model = chunk.model or model
                if chunk.usage is not None:
                    usage = {
                        "prompt_tokens": chunk.usage.prompt_tokens,
                        "completion_tokens": chunk.usage.completion_tokens,
                        "total_tokens": chunk.usage.total_tokens,
                    }
                for choice in chunk.choices or ():
                    delta = choice.delta
                    finish = choice.finish_reason or finish
                    if delta is None:
                        continue
                    if delta.content:
                        text.append(delta.content)
                        if request.on_text_delta is not None:
                            await request.on_text_delta(delta.content)
                    if delta.refusal:
                        refusal.append(delta.refusal)
                    for piece in delta.tool_calls or ():
                        call = calls.setdefault(piece.index, _StreamedCall())
                        call.id = piece.id or call.id
                        if piece.function is not None:
                            call.name = piece.function.name or call.name
                            call.arguments.append(piece.function.arguments or "")
                if chunks == 1:
                    await request.report(20, "writing")
        if chunks == 0 or finish is None:
            raise ProviderBadResponse("the stream ended without an answer", provider=self.name)
        tool_calls = tuple(
            self._tool_call(c.id, c.name, "".join(c.arguments)) for _, c in sorted(calls.items())
        )
        return self._chat_result(
            "".join(text), "".join(refusal) or None, tool_calls, finish, model, usage
        )

    def _tool_call(self, call_id: str | None, name: str | None, arguments: str | None) -> ToolCall:
        if not name:
            raise ProviderBadResponse("a tool call has no function name", provider=self.name)
        try:
            parsed = json.loads(arguments or "{}")
        except ValueError as exc:
            raise ProviderBadResponse(
                f"tool call {name!r} has invalid JSON arguments", provider=self.name
            ) from exc
        if not isinstance(parsed, dict):
            raise ProviderBadResponse(f"tool call {name!r} arguments are not an object")
        return ToolCall(id=call_id or "", name=name, arguments=parsed)

    def _chat_result(
        self,
        content: str | None,
        refusal: str | None,
        tool_calls: tuple[ToolCall, ...],
        finish_reason: str | None,
        model: str | None,
        usage: Mapping[str, int],
    ) -> ProviderResult:
        if refusal or finish_reason == "content_filter":
            raise ProviderContentRejected(refusal or "the answer was filtered", provider=self.name)
        if content is None and not tool_calls:
            raise ProviderBadResponse("the chat answer is empty", provider=self.name)
        return ProviderResult(
            provider=self.name,
            outputs=(ProviderOutput("text/plain", data=(content or "").encode()),),
            model=model,
            tool_calls=tool_calls,
            usage=dict(usage),
            metadata={"finish_reason": finish_reason},
        )

    # ------------------------------------------------------------------ images

    async def _image(self, request: ProviderRequest) -> ProviderResult:
        model = str(request.params.get("model") or self.models.image)
        kwargs: dict[str, Any] = {
            "model": model,
            "prompt": request.str_param("prompt"),
            "n": request.int_param("n", 1, minimum=1, maximum=4),
        }
        if "size" in request.params or "width" in request.params:
            width, height = request.size_param("1024x1024")
            kwargs["size"] = f"{width}x{height}"
        if request.params.get("quality"):
            kwargs["quality"] = request.params["quality"]
        if model.startswith("dall-e"):
            kwargs["response_format"] = "b64_json"  # gpt-image models reject the parameter
        await request.report(5, "generating")
        answer = await self._call(request, self.client.images.generate(**kwargs))
        data = getattr(answer, "data", None)
        if not isinstance(data, list) or not data:
            raise ProviderBadResponse("the image answer has no data", provider=self.name)
        outputs = []
        for item in data:
            content = await self._image_bytes(request, item)
            try:
                width, height = await media.image_size(content)
            except media.MediaError as exc:
                raise ProviderBadResponse(f"the image is unreadable: {exc}") from exc
            meta = {"width": width, "height": height, "revised_prompt": item.revised_prompt}
            outputs.append(ProviderOutput(media.sniff_mime(content), data=content, metadata=meta))
        usage = (
            answer.usage.model_dump(include={"input_tokens", "output_tokens", "total_tokens"})
            if getattr(answer, "usage", None)
            else {}
        )
        return ProviderResult(self.name, tuple(outputs), model=model, usage=usage)

    async def _image_bytes(self, request: ProviderRequest, item: Any) -> bytes:
        if getattr(item, "b64_json", None):
            try:
                content = base64.b64decode(item.b64_json, validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ProviderBadResponse("b64_json is not base64", provider=self.name) from exc
        elif getattr(item, "url", None):
            content = await self._call(request, self._download(item.url))
        else:
            raise ProviderBadResponse("an image has neither b64_json nor url", provider=self.name)
        if not media.sniff_mime(content).startswith("image/"):
            raise ProviderBadResponse("the provider's image is not an image", provider=self.name)
        return content

    async def _download(self, url: str) -> bytes:
        try:
            async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=True) as http:
                response = await http.get(url)
        except httpx.TimeoutException as exc:
            raise ProviderTimeout("downloading the image timed out", provider=self.name) from exc
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(f"cannot download the image: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise ProviderUnavailable(f"image download answered {response.status_code}")
        if response.status_code >= 400:
            raise ProviderBadResponse(f"image download answered {response.status_code}")
        return response.content

    # ------------------------------------------------------------------ audio

    async def _speech(self, request: ProviderRequest) -> ProviderResult:
        key = next((k for k in ("text", "input", "prompt") if k in request.params), "text")
        text = request.str_param(key)
        fmt = request.str_param("response_format", "wav")
        if fmt not in _SPEECH_MIME:
            raise InvalidProviderInput(f"response_format must be one of {sorted(_SPEECH_MIME)}")
        kwargs: dict[str, Any] = {
            "model": request.params.get("model") or self.models.speech,
            "voice": request.str_param("voice", "alloy"),
            "input": text,
            "response_format": fmt,
        }
        if "speed" in request.params:
            kwargs["speed"] = request.float_param("speed", 1.0, minimum=0.25, maximum=4.0)
        if request.params.get("instructions"):
            kwargs["instructions"] = request.params["instructions"]
        await request.report(5, "speaking")
        response = await self._call(request, self.client.audio.speech.create(**kwargs))
        content = response.content
        if fmt == "pcm":
            content = wav_bytes(content, rate=_PCM_RATE)
        mime = media.sniff_mime(content)
        if not mime.startswith("audio/"):
            raise ProviderBadResponse(f"the speech answer is {mime}, not audio", provider=self.name)
        duration: float | None = None
        try:
            duration = (await media.media_info(content)).duration
        except media.MediaError:
            duration = None  # Still usable audio; the worker can probe again after storing it.
        meta = {"duration": duration, "voice": kwargs["voice"], "transcript": text}
        return ProviderResult(
            self.name, (ProviderOutput(mime, data=content, metadata=meta),), model=kwargs["model"]
        )

    async def _transcribe(self, request: ProviderRequest) -> ProviderResult:
        source = request.input_of("audio")
        content = await source.read_bytes()
        model = str(request.params.get("model") or self.models.transcription)
        kwargs: dict[str, Any] = {
            "model": model,
            "file": (source.name, content, source.mime_type),
            "response_format": "json",
        }
        for name in ("language", "prompt"):
            if isinstance(request.params.get(name), str):
                kwargs[name] = request.params[name]
        await request.report(5, "listening")
        answer = await self._call(request, self.client.audio.transcriptions.create(**kwargs))
        text = getattr(answer, "text", None)
        if not isinstance(text, str):
            raise ProviderBadResponse("the transcription has no text", provider=self.name)
        return ProviderResult(
            self.name, (ProviderOutput("text/plain", data=text.encode()),), model=model
        )
