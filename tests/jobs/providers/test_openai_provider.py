"""The OpenAI adapter against the fake OpenAI server over real HTTP, errors mapped to types."""

from __future__ import annotations

import asyncio
import io
import socket
import time
import wave
from collections.abc import AsyncIterator
from types import SimpleNamespace

import pytest
from PIL import Image

from devtools.openai import ChatReply, OpenAIServerControl
from devtools.openai.testing import running_openai_server
from jobs.providers import create_provider
from jobs.providers.base import (
    InvalidProviderInput,
    MediaInput,
    PermanentProviderError,
    ProviderAuthError,
    ProviderBadResponse,
    ProviderCancelled,
    ProviderContentRejected,
    ProviderNotConfigured,
    ProviderQuotaExceeded,
    ProviderRateLimited,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
    ProviderUnavailable,
    ToolKind,
    TransientProviderError,
    UnsupportedToolKind,
)
from jobs.providers.openai_provider import OpenAIProvider

IMAGE_TOOL = {
    "type": "function",
    "function": {
        "name": "generate_image",
        "description": "Draw a picture",
        "parameters": {
            "type": "object",
            "properties": {"prompt": {"type": "string"}},
            "required": ["prompt"],
        },
    },
}


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[tuple[str, OpenAIServerControl]]:
    async with running_openai_server() as running:
        yield running


@pytest.fixture
async def control(server: tuple[str, OpenAIServerControl]) -> OpenAIServerControl:
    server[1].reset()
    return server[1]


@pytest.fixture
async def provider(
    server: tuple[str, OpenAIServerControl], control: OpenAIServerControl
) -> AsyncIterator[OpenAIProvider]:
    async with OpenAIProvider(api_key=control.api_key, base_url=server[0], timeout=5) as adapter:
        yield adapter


async def run(provider: OpenAIProvider, kind: ToolKind, **params: object) -> ProviderResult:
    return await provider.run(ProviderRequest(kind, params))


async def test_chat(provider: OpenAIProvider, control: OpenAIServerControl) -> None:
    result = await run(provider, ToolKind.TEXT, prompt="hi there", system="be brief")
    assert result.text == "Echo: hi there"
    assert result.provider == "openai" and result.model == "gpt-4o-mini"
    assert result.usage["total_tokens"] > 0
    assert result.metadata["finish_reason"] == "stop"
    assert control.last_request.json["messages"][0] == {"role": "system", "content": "be brief"}


async def test_tool_calls(provider: OpenAIProvider, control: OpenAIServerControl) -> None:
    result = await run(
        provider,
        ToolKind.TEXT,
        messages=[{"role": "user", "content": "draw a lighthouse"}],
        tools=[IMAGE_TOOL],
    )
    (call,) = result.tool_calls
    assert call.name == "generate_image" and call.arguments == {"prompt": "draw a lighthouse"}
    assert result.text == "" and result.metadata["finish_reason"] == "tool_calls"
    assert control.last_request.json["tools"] == [IMAGE_TOOL]


async def test_streaming_text_and_tool_calls(
    provider: OpenAIProvider, control: OpenAIServerControl
) -> None:
    pieces: list[str] = []

    async def on_delta(text: str) -> None:
        pieces.append(text)

    control.queue_chat("one two three four")
    request = ProviderRequest(ToolKind.TEXT, {"prompt": "count"}, on_text_delta=on_delta)
    result = await provider.run(request)
    assert result.text == "one two three four" and len(pieces) >= 4
    assert "".join(pieces) == result.text
    assert result.usage["completion_tokens"] > 0
    assert control.last_request.json["stream"] is True

    control.queue_tool_call("generate_image", {"prompt": "x" * 50})
    streamed = await provider.run(
        ProviderRequest(ToolKind.TEXT, {"prompt": "draw", "tools": [IMAGE_TOOL], "stream": True})
    )
    assert streamed.tool_calls[0].arguments == {"prompt": "x" * 50}


async def test_image(provider: OpenAIProvider, control: OpenAIServerControl) -> None:
    result = await run(provider, ToolKind.TEXT_TO_IMAGE, prompt="kite", size="256x128", n=2)
    assert len(result.outputs) == 2
    for output in result.outputs:
        assert output.mime_type == "image/png"
        assert Image.open(io.BytesIO(output.data or b"")).size == (256, 128)
    assert "response_format" not in control.last_request.json, "gpt-image models reject it"
    dalle = await run(
        provider, ToolKind.TEXT_TO_IMAGE, prompt="kite", size="64x64", model="dall-e-3"
    )
    assert control.last_request.json["response_format"] == "b64_json"
    assert dalle.output.metadata["width"] == 64


async def test_speech_and_transcription(provider: OpenAIProvider) -> None:
    speech = await run(provider, ToolKind.TEXT_TO_SPEECH, text="Hello from Atelier", voice="nova")
    data = speech.output.data or b""
    assert speech.output.mime_type == "audio/wav"
    with wave.open(io.BytesIO(data)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert speech.output.metadata["duration"] == pytest.approx(seconds, abs=0.01)
    heard = await provider.run(
        ProviderRequest(ToolKind.SPEECH_TO_TEXT, inputs=[MediaInput.from_bytes(data, name="a.wav")])
    )
    assert heard.text == "Hello from Atelier"
    pcm = await run(provider, ToolKind.TEXT_TO_SPEECH, text="raw", response_format="pcm")
    assert pcm.output.mime_type == "audio/wav", "raw PCM is wrapped into a playable WAV"


async def test_unsupported_kind(provider: OpenAIProvider) -> None:
    with pytest.raises(UnsupportedToolKind) as caught:
        await run(provider, ToolKind.IMAGE_TO_VIDEO, prompt="x")
    assert not caught.value.transient


async def test_bad_key_is_permanent(server: tuple[str, OpenAIServerControl]) -> None:
    async with OpenAIProvider(api_key="sk-nope", base_url=server[0]) as wrong:
        with pytest.raises(ProviderAuthError) as caught:
            await run(wrong, ToolKind.TEXT, prompt="hi")
    assert caught.value.status_code == 401 and not caught.value.transient


async def test_rate_limit_is_transient_with_retry_after(
    provider: OpenAIProvider, control: OpenAIServerControl
) -> None:
    control.rate_limit_next(retry_after=1.5)
    with pytest.raises(ProviderRateLimited) as caught:
        await run(provider, ToolKind.TEXT, prompt="hi")
    assert caught.value.transient and caught.value.retry_after == pytest.approx(1.5)
    assert len(control.requests_to("chat")) == 1, "the SDK must not retry on its own"
    control.quota_exceeded_next()
    with pytest.raises(ProviderQuotaExceeded) as quota:
        await run(provider, ToolKind.TEXT, prompt="hi")
    assert not quota.value.transient


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_server_errors_are_transient(
    provider: OpenAIProvider, control: OpenAIServerControl, status: int
) -> None:
    control.server_error_next(status=status)
    with pytest.raises(ProviderUnavailable) as caught:
        await run(provider, ToolKind.TEXT_TO_IMAGE, prompt="x", size="32x32")
    assert isinstance(caught.value, TransientProviderError)
    assert caught.value.status_code == status


@pytest.mark.parametrize(
    ("kind", "params", "path"),
    [
        (ToolKind.TEXT, {"prompt": "hi"}, "chat"),
        (ToolKind.TEXT, {"prompt": "hi", "stream": True}, "chat"),
        (ToolKind.TEXT_TO_IMAGE, {"prompt": "x", "size": "32x32"}, "images"),
        (ToolKind.TEXT_TO_SPEECH, {"text": "x"}, "speech"),
    ],
    ids=["chat", "chat-stream", "image", "speech"],
)
async def test_garbage_is_permanent(
    provider: OpenAIProvider,
    control: OpenAIServerControl,
    kind: ToolKind,
    params: dict[str, object],
    path: str,
) -> None:
    control.garbage_next(path=path)
    with pytest.raises(ProviderBadResponse) as caught:
        await provider.run(ProviderRequest(kind, params))
    assert not caught.value.transient


@pytest.mark.parametrize("kind", [ToolKind.TEXT, ToolKind.TEXT_TO_IMAGE])
async def test_wrong_shaped_json_is_permanent(
    provider: OpenAIProvider, control: OpenAIServerControl, kind: ToolKind
) -> None:
    control.malformed_next()
    with pytest.raises(ProviderBadResponse):
        await provider.run(ProviderRequest(kind, {"prompt": "x"}))


async def test_invalid_tool_arguments_and_refusals(
    provider: OpenAIProvider, control: OpenAIServerControl
) -> None:
    control.queue_tool_call("generate_image", "{not json")
    with pytest.raises(ProviderBadResponse):
        await run(provider, ToolKind.TEXT, prompt="draw")
    control.queue_chat(ChatReply(content="", finish_reason="content_filter"))
    with pytest.raises(ProviderContentRejected):
        await run(provider, ToolKind.TEXT, prompt="something bad")


async def test_bad_request_is_permanent(
    provider: OpenAIProvider, control: OpenAIServerControl
) -> None:
    control.fail_next(400, message="Invalid prompt", code="invalid_value")
    with pytest.raises(InvalidProviderInput) as caught:
        await run(provider, ToolKind.TEXT, prompt="hi")
    assert isinstance(caught.value, PermanentProviderError)
    assert caught.value.message == "Invalid prompt"


async def test_timeout_is_transient(
    server: tuple[str, OpenAIServerControl], control: OpenAIServerControl
) -> None:
    control.delay_next(0.5)
    async with OpenAIProvider(api_key=control.api_key, base_url=server[0], timeout=0.1) as slow:
        with pytest.raises(ProviderTimeout) as caught:
            await run(slow, ToolKind.TEXT, prompt="hi")
    assert caught.value.transient


async def test_unreachable_server_is_transient() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with OpenAIProvider(api_key="k", base_url=f"http://127.0.0.1:{port}/v1") as nowhere:
        with pytest.raises(ProviderUnavailable):
            await run(nowhere, ToolKind.TEXT, prompt="hi")


async def test_cancellation_abandons_a_slow_request(
    provider: OpenAIProvider, control: OpenAIServerControl
) -> None:
    control.delay_next(30.0)
    cancelled = asyncio.Event()
    request = ProviderRequest(ToolKind.TEXT, {"prompt": "hi"}, is_cancelled=cancelled.is_set)
    task = asyncio.create_task(provider.run(request))
    await asyncio.sleep(0.1)
    cancelled.set()
    started = time.perf_counter()
    with pytest.raises(ProviderCancelled):
        await task
    assert time.perf_counter() - started < 10  # the request itself would take 30 s


async def test_configuration_from_settings(server: tuple[str, OpenAIServerControl]) -> None:
    with pytest.raises(ProviderNotConfigured):
        create_provider("openai", SimpleNamespace(openai_api_key=None, openai_base_url=None))
    settings = SimpleNamespace(openai_api_key=server[1].api_key, openai_base_url=server[0])
    provider = create_provider("openai", settings)
    try:
        assert isinstance(provider, OpenAIProvider)
        assert (await run(provider, ToolKind.TEXT, prompt="x")).text == "Echo: x"
    finally:
        await provider.aclose()
    with pytest.raises(ProviderNotConfigured):
        create_provider("nope", settings)
