"""The fake OpenAI server speaks the wire format: the real ``openai`` SDK parses every answer."""

from __future__ import annotations

import base64
import io
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from devtools.openai import ChatReply, OpenAIServerControl, ScriptedToolCall
from devtools.openai.testing import running_openai_server

TOOLS: Any = [
    {
        "type": "function",
        "function": {
            "name": "make_video",
            "description": "Animate a picture into a short video clip",
            "parameters": {"type": "object", "properties": {"prompt": {"type": "string"}}},
        },
    },
    {
        "type": "function",
        "function": {
            "name": "generate_image",
            "description": "Draw an image",
            "parameters": {
                "type": "object",
                "properties": {
                    "prompt": {"type": "string"},
                    "count": {"type": "integer", "minimum": 1},
                },
                "required": ["prompt", "count"],
            },
        },
    },
]
USER: Any = [{"role": "user", "content": "hello"}]


def said(text: str) -> Any:
    return [{"role": "user", "content": text}]


@pytest.fixture(scope="module")
async def server() -> AsyncIterator[tuple[str, OpenAIServerControl]]:
    async with running_openai_server() as running:
        yield running


@pytest.fixture
async def control(server: tuple[str, OpenAIServerControl]) -> OpenAIServerControl:
    server[1].reset()
    return server[1]


@pytest.fixture
async def client(
    server: tuple[str, OpenAIServerControl], control: OpenAIServerControl
) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(base_url=server[0], api_key=control.api_key, max_retries=0) as c:
        yield c


async def test_chat_default_echo(client: openai.AsyncOpenAI, control: OpenAIServerControl) -> None:
    completion = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert completion.object == "chat.completion"
    assert completion.choices[0].message.content == "Echo: hello"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    assert control.last_request.json["messages"] == USER
    assert control.last_request.headers["authorization"] == f"Bearer {control.api_key}"


async def test_chat_scripted_replies_in_order(
    client: openai.AsyncOpenAI, control: OpenAIServerControl
) -> None:
    control.queue_chat("first", ChatReply(content="second", finish_reason="length"))
    one = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    two = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    three = await client.chat.completions.create(model="gpt-4o-mini", messages=USER)
    assert [c.choices[0].message.content for c in (one, two, three)] == [
        "first", "second", "Echo: hello"
    ]  # fmt: skip
    assert two.choices[0].finish_reason == "length"


async def test_default_tool_call_picks_the_matching_tool(client: openai.AsyncOpenAI) -> None:
    completion = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=said("Draw a picture of a red kite"),
        tools=TOOLS,
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls or []
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "generate_image"
    assert json.loads(call.function.arguments) == {
        "prompt": "Draw a picture of a red kite",
        "count": 1,
    }
    video = await client.chat.completions.create(
        model="gpt-4o-mini",
        messages=said("animate it into a video"),
        tools=TOOLS,
    )
    first: Any = (video.choices[0].message.tool_calls or [])[0]
    assert first.function.name == "make_video"


async def test_scripted_tool_call_and_tool_result(
    client: openai.AsyncOpenAI, control: OpenAIServerControl
) -> None:
    control.queue_tool_call("make_video", {"prompt": "waves"}, call_id="call_fixed")
    completion = await client.chat.completions.create(model="m", messages=USER, tools=TOOLS)
    call: Any
    (call,) = completion.choices[0].message.tool_calls or []
    assert (call.id, call.function.name, call.function.arguments) == (
        "call_fixed", "make_video", '{"prompt": "waves"}'
    )  # fmt: skip
    history: Any = [
        *USER,
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": "call_fixed", "content": "ok"},
    ]
    after = await client.chat.completions.create(model="m", messages=history, tools=TOOLS)
    assert after.choices[0].message.content == "Done! Your result is ready."


async def test_streaming_text(client: openai.AsyncOpenAI, control: OpenAIServerControl) -> None:
    control.queue_chat("streamed words arrive one by one")
    stream = await client.chat.completions.create(
        model="gpt-4o-mini", messages=USER, stream=True, stream_options={"include_usage": True}
    )
    pieces, finish, usage = [], None, None
    async for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        if chunk.usage is not None:
            usage = chunk.usage
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert "".join(pieces) == "streamed words arrive one by one"
    assert finish == "stop" and usage is not None


async def test_streaming_wire_format_ends_with_done(
    server: tuple[str, OpenAIServerControl], control: OpenAIServerControl
) -> None:
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{server[0]}/chat/completions",
            json={"model": "m", "messages": USER, "stream": True},
            headers={"Authorization": f"Bearer {control.api_key}"},
        )
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [line for line in response.text.split("\n\n") if line]
    assert all(e.startswith("data: ") for e in events)
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[0][6:])["choices"][0]["delta"]["role"] == "assistant"


async def test_streaming_tool_calls(
    client: openai.AsyncOpenAI, control: OpenAIServerControl
) -> None:
    control.queue_chat(
        ChatReply(tool_calls=(ScriptedToolCall("generate_image", {"prompt": "a long prompt " * 3}),
                              ScriptedToolCall("make_video", {"prompt": "b"}))),
    )  # fmt: skip
    stream = await client.chat.completions.create(model="m", messages=USER, stream=True)
    calls: dict[int, dict[str, str]] = {}
    finish = None
    async for chunk in stream:
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for piece in choice.delta.tool_calls or []:
                call = calls.setdefault(piece.index, {"name": "", "arguments": ""})
                if piece.function and piece.function.name:
                    call["name"] = piece.function.name
                if piece.function and piece.function.arguments:
                    call["arguments"] += piece.function.arguments
    assert finish == "tool_calls"
    assert [c["name"] for c in calls.values()] == ["generate_image", "make_video"]
    assert json.loads(calls[0]["arguments"]) == {"prompt": "a long prompt " * 3}


async def test_images_b64_and_url(client: openai.AsyncOpenAI) -> None:
    answer = await client.images.generate(model="gpt-image-1", prompt="kite", size="256x128", n=2)
    assert answer.data is not None and len(answer.data) == 2
    image = Image.open(io.BytesIO(base64.b64decode(answer.data[0].b64_json or "")))
    assert (image.format, image.size) == ("PNG", (256, 128))
    by_url = await client.images.generate(
        model="dall-e-3", prompt="kite", size="64x64", response_format="url"
    )
    assert by_url.data is not None
    async with httpx.AsyncClient() as http:
        downloaded = await http.get(by_url.data[0].url or "")
    assert Image.open(io.BytesIO(downloaded.content)).size == (64, 64)
    with pytest.raises(openai.BadRequestError):
        await client.images.generate(model="gpt-image-1", prompt="x", response_format="url")


async def test_speech_and_transcription_round_trip(
    client: openai.AsyncOpenAI, control: OpenAIServerControl
) -> None:
    speech = await client.audio.speech.create(
        model="gpt-4o-mini-tts", voice="alloy", input="Hello from the test", response_format="wav"
    )
    audio = speech.content
    assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE"
    text = await client.audio.transcriptions.create(
        model="whisper-1", file=("hello.wav", audio, "audio/wav")
    )
    assert text.text == "Hello from the test"
    form = control.last_request.form
    assert form["model"] == "whisper-1" and form["file"]["filename"] == "hello.wav"
    control.queue_transcription("scripted words")
    plain = await client.audio.transcriptions.create(
        model="whisper-1", file=("a.wav", audio, "audio/wav"), response_format="text"
    )
    assert plain.strip() == "scripted words"
    pcm = await client.audio.speech.create(
        model="tts-1", voice="echo", input="hi", response_format="pcm"
    )
    assert len(pcm.content) % 2 == 0 and pcm.content[:4] != b"RIFF"


async def test_models(client: openai.AsyncOpenAI) -> None:
    ids = [m.id async for m in client.models.list()]
    assert "gpt-4o-mini" in ids
    assert (await client.models.retrieve("whisper-1")).id == "whisper-1"
    with pytest.raises(openai.NotFoundError):
        await client.models.retrieve("no-such-model")


async def test_authentication(server: tuple[str, OpenAIServerControl]) -> None:
    async with openai.AsyncOpenAI(base_url=server[0], api_key="sk-wrong", max_retries=0) as bad:
        with pytest.raises(openai.AuthenticationError) as caught:
            await bad.chat.completions.create(model="m", messages=USER)
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    body: Any = caught.value.body
    assert set(body) == {"message", "type", "param", "code"}
    async with httpx.AsyncClient() as http:
        missing = await http.get(f"{server[0]}/models")
    assert missing.status_code == 401
    assert missing.json()["error"]["type"] == "invalid_request_error"


async def test_rate_limit_with_retry_after(
    server: tuple[str, OpenAIServerControl],
    client: openai.AsyncOpenAI,
    control: OpenAIServerControl,
) -> None:
    control.rate_limit_next(retry_after=2)
    with pytest.raises(openai.RateLimitError) as caught:
        await client.chat.completions.create(model="m", messages=USER)
    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.code == "rate_limit_exceeded"
    control.rate_limit_next(retry_after=0.01)
    async with openai.AsyncOpenAI(base_url=server[0], api_key=control.api_key, max_retries=1) as c:
        completion = await c.chat.completions.create(model="m", messages=USER)
    assert completion.choices[0].message.content == "Echo: hello"
    assert len(control.requests_to("chat/completions")) == 3


async def test_faults_are_scoped_and_counted(
    client: openai.AsyncOpenAI, control: OpenAIServerControl
) -> None:
    control.server_error_next(2, path="images")
    await client.chat.completions.create(model="m", messages=USER)  # not affected
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            await client.images.generate(prompt="x", size="32x32")
    assert (await client.images.generate(prompt="x", size="32x32")).data


async def test_garbage_and_malformed_bodies(
    client: openai.AsyncOpenAI, control: OpenAIServerControl
) -> None:
    control.garbage_next()
    with pytest.raises(json.JSONDecodeError):
        await client.chat.completions.create(model="m", messages=USER)
    control.malformed_next()
    odd = await client.chat.completions.create(model="m", messages=USER)
    assert odd.choices is None  # the SDK does not validate; callers must


async def test_slow_answer_times_out(
    client: openai.AsyncOpenAI, control: OpenAIServerControl
) -> None:
    control.delay_next(0.4)
    with pytest.raises(openai.APITimeoutError):
        await client.chat.completions.create(model="m", messages=USER, timeout=0.1)


async def test_bad_requests_have_openai_error_shape(client: openai.AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.chat.completions.create(model="m", messages=[])
    assert caught.value.param == "messages"
    with pytest.raises(openai.NotFoundError):
        await client.post("/nowhere", cast_to=object)
