"""The offline provider makes valid, deterministic media for every kind, without network."""

from __future__ import annotations

import asyncio
import io
import time
import wave
from pathlib import Path

import pytest
from PIL import Image

from jobs import media
from jobs.providers import create_provider
from jobs.providers.base import (
    InvalidProviderInput,
    MediaInput,
    ProviderCancelled,
    ProviderError,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
    ToolKind,
)
from jobs.providers.offline import OfflineProvider

needs_ffmpeg = pytest.mark.skipif(
    not media.ffmpeg_available(), reason="ffmpeg/ffprobe not on PATH (apt-get install -y ffmpeg)"
)

IMAGE_TOOL = {
    "type": "function",
    "function": {
        "name": "generate_image",
        "description": "Draw a picture from a prompt",
        "parameters": {
            "type": "object",
            "properties": {
                "prompt": {"type": "string"},
                "size": {"type": "string", "enum": ["1024x1024", "512x512"]},
            },
            "required": ["prompt", "size"],
        },
    },
}
VIDEO_TOOL = {"type": "function", "function": {"name": "animate", "description": "Make a video"}}


class Progress:
    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []

    async def __call__(self, percent: int, stage: str) -> None:
        self.calls.append((percent, stage))

    @property
    def percents(self) -> list[int]:
        return [p for p, _ in self.calls]


@pytest.fixture
def provider() -> OfflineProvider:
    return OfflineProvider()


async def run(
    provider: OfflineProvider,
    kind: ToolKind,
    inputs: list[MediaInput] | None = None,
    **params: object,
) -> ProviderResult:
    return await provider.run(ProviderRequest(kind, params, inputs=inputs or []))


def wav_seconds(data: bytes) -> float:
    with wave.open(io.BytesIO(data)) as wav:
        return float(wav.getnframes() / wav.getframerate())


@pytest.mark.parametrize("size", ["512x512", "1024x1024", "1024x576"])
async def test_text_to_image_has_the_requested_size(provider: OfflineProvider, size: str) -> None:
    result = await run(provider, ToolKind.TEXT_TO_IMAGE, prompt="a fox in the snow", size=size)
    image = Image.open(io.BytesIO(result.output.data or b""))
    assert image.format == "PNG"
    assert f"{image.width}x{image.height}" == size
    assert result.output.mime_type == "image/png"


async def test_images_are_deterministic_per_seed_and_prompt(provider: OfflineProvider) -> None:
    async def png(prompt: str, seed: int) -> bytes:
        result = await run(
            provider, ToolKind.TEXT_TO_IMAGE, prompt=prompt, seed=seed, size="256x256"
        )
        return result.output.data or b""

    first = await png("night city lights", 7)
    assert first == await png("night city lights", 7)
    assert first != await png("night city lights", 8)
    assert first != await png("a green forest", 7)


async def test_different_prompts_look_different(provider: OfflineProvider) -> None:
    def mean_colour(data: bytes) -> tuple[float, ...]:
        image = Image.open(io.BytesIO(data)).convert("RGB").resize((1, 1), Image.Resampling.BOX)
        return tuple(float(c) for c in image.getpixel((0, 0)))  # type: ignore[union-attr]

    red = await run(provider, ToolKind.TEXT_TO_IMAGE, prompt="red fire", size="128x128")
    blue = await run(provider, ToolKind.TEXT_TO_IMAGE, prompt="blue ocean", size="128x128")
    distance = sum(
        (a - b) ** 2
        for a, b in zip(
            mean_colour(red.output.data or b""), mean_colour(blue.output.data or b""), strict=True
        )
    )
    assert distance > 400


async def test_several_images_and_progress(provider: OfflineProvider) -> None:
    progress = Progress()
    request = ProviderRequest(
        ToolKind.TEXT_TO_IMAGE, {"prompt": "stars", "n": 3, "size": "64x64"}, progress=progress
    )
    result = await provider.run(request)
    assert len(result.outputs) == 3
    assert len({o.data for o in result.outputs}) == 3
    assert progress.percents == sorted(set(progress.percents))
    assert progress.percents[-1] == 100


@pytest.mark.parametrize(("audio_type", "duration"), [("sound_effect", 0.7), ("music", 1.3)])
async def test_text_to_audio_duration(
    provider: OfflineProvider, audio_type: str, duration: float
) -> None:
    result = await run(
        provider, ToolKind.TEXT_TO_AUDIO, prompt="laser", duration=duration, audio_type=audio_type
    )
    data = result.output.data or b""
    assert result.output.mime_type == "audio/wav" == media.sniff_mime(data)
    assert wav_seconds(data) == pytest.approx(duration, abs=0.05)
    again = await run(
        provider, ToolKind.TEXT_TO_AUDIO, prompt="laser", duration=duration, audio_type=audio_type
    )
    assert again.output.data == data


async def test_audio_type_is_guessed_from_the_prompt(provider: OfflineProvider) -> None:
    music = await run(provider, ToolKind.TEXT_TO_AUDIO, prompt="calm piano music", duration=0.2)
    effect = await run(provider, ToolKind.TEXT_TO_AUDIO, prompt="door slam", duration=0.2)
    assert music.output.metadata["audio_type"] == "music"
    assert effect.output.metadata["audio_type"] == "sound_effect"


async def test_speech_length_follows_the_words(provider: OfflineProvider) -> None:
    short = await run(provider, ToolKind.TEXT_TO_SPEECH, text="Hello there.")
    long = await run(
        provider, ToolKind.TEXT_TO_SPEECH, text="Hello there, this sentence has many more words."
    )
    short_s, long_s = wav_seconds(short.output.data or b""), wav_seconds(long.output.data or b"")
    assert 0.5 < short_s < long_s
    assert short.output.metadata["duration"] == pytest.approx(short_s, abs=0.01)


async def test_speech_with_a_requested_duration(provider: OfflineProvider) -> None:
    result = await run(provider, ToolKind.TEXT_TO_SPEECH, text="Quick test", duration=1.5)
    assert wav_seconds(result.output.data or b"") == pytest.approx(1.5, abs=0.05)


async def test_speech_round_trips_through_speech_to_text(provider: OfflineProvider) -> None:
    spoken = await run(provider, ToolKind.TEXT_TO_SPEECH, text="Bonjour, Atelier!", voice="nova")
    heard = await run(
        provider, ToolKind.SPEECH_TO_TEXT, [MediaInput.from_bytes(spoken.output.data or b"")]
    )
    assert heard.text == "Bonjour, Atelier!"


async def test_speech_to_text_of_other_audio_states_the_duration(provider: OfflineProvider) -> None:
    effect = await run(provider, ToolKind.TEXT_TO_AUDIO, prompt="rain", duration=1.2)
    heard = await run(
        provider, ToolKind.SPEECH_TO_TEXT, [MediaInput.from_bytes(effect.output.data or b"")]
    )
    assert "1.2-second" in heard.text
    hinted = MediaInput.from_bytes(effect.output.data or b"", transcript="known words")
    assert (await run(provider, ToolKind.SPEECH_TO_TEXT, [hinted])).text == "known words"


async def test_upscale(provider: OfflineProvider) -> None:
    source = await run(provider, ToolKind.TEXT_TO_IMAGE, prompt="cat", size="64x48")
    image_input = MediaInput.from_bytes(source.output.data or b"")
    for factor in (2, 4):
        result = await run(provider, ToolKind.IMAGE_UPSCALE, [image_input], scale=factor)
        image = Image.open(io.BytesIO(result.output.data or b""))
        assert image.size == (64 * factor, 48 * factor)
    with pytest.raises(InvalidProviderInput):
        await run(provider, ToolKind.IMAGE_UPSCALE, [image_input], scale=3)


async def test_variation_is_deterministic_and_different(provider: OfflineProvider) -> None:
    source = await run(provider, ToolKind.TEXT_TO_IMAGE, prompt="tower", size="96x96")
    image_input = MediaInput.from_bytes(source.output.data or b"")
    first = await run(provider, ToolKind.IMAGE_VARIATION, [image_input], seed=1)
    assert (
        first.output.data
        == (await run(provider, ToolKind.IMAGE_VARIATION, [image_input], seed=1)).output.data
    )
    other = await run(provider, ToolKind.IMAGE_VARIATION, [image_input], seed=2)
    assert len({source.output.data, first.output.data, other.output.data}) == 3
    assert Image.open(io.BytesIO(first.output.data or b"")).size == (96, 96)


async def test_image_inputs_are_checked(provider: OfflineProvider, tmp_path: Path) -> None:
    with pytest.raises(InvalidProviderInput):
        await run(provider, ToolKind.IMAGE_UPSCALE)
    junk = MediaInput(mime_type="image/png", data=b"\x89PNG\r\n\x1a\nnot really")
    with pytest.raises(InvalidProviderInput):
        await run(provider, ToolKind.IMAGE_VARIATION, [junk])
    with pytest.raises(InvalidProviderInput):
        await run(provider, ToolKind.TEXT_TO_IMAGE, prompt="x", size="huge")
    with pytest.raises(InvalidProviderInput):
        await run(provider, ToolKind.TEXT_TO_IMAGE)


async def test_text_reply_and_streaming(provider: OfflineProvider) -> None:
    pieces: list[str] = []

    async def on_delta(text: str) -> None:
        pieces.append(text)

    request = ProviderRequest(ToolKind.TEXT, {"prompt": "hello there"}, on_text_delta=on_delta)
    result = await provider.run(request)
    assert "hello there" in result.text
    assert "".join(pieces) == result.text
    assert result.tool_calls == ()
    assert result.metadata["finish_reason"] == "stop"


async def test_text_with_tools_calls_the_matching_tool(provider: OfflineProvider) -> None:
    messages = [{"role": "user", "content": "Please draw a lighthouse at dawn"}]
    result = await run(provider, ToolKind.TEXT, messages=messages, tools=[VIDEO_TOOL, IMAGE_TOOL])
    (call,) = result.tool_calls
    assert call.name == "generate_image"
    assert call.arguments == {"prompt": "Please draw a lighthouse at dawn", "size": "1024x1024"}
    assert result.metadata["finish_reason"] == "tool_calls"
    chat = await run(provider, ToolKind.TEXT, prompt="how are you?", tools=[IMAGE_TOOL])
    assert chat.tool_calls == ()


async def test_create_provider_by_name() -> None:
    provider = create_provider("offline", settings=object())
    assert isinstance(provider, OfflineProvider)
    assert all(provider.supports(kind) for kind in ToolKind)


async def test_cancelled_before_start(provider: OfflineProvider) -> None:
    request = ProviderRequest(ToolKind.TEXT_TO_IMAGE, {"prompt": "x"}, is_cancelled=lambda: True)
    with pytest.raises(ProviderCancelled) as caught:
        await provider.run(request)
    assert not caught.value.transient


# --------------------------------------------------------------------------- video (ffmpeg)


@pytest.fixture(scope="module")
def still_png() -> bytes:
    from jobs.providers.offline_image import render_scene

    return render_scene("a quiet harbour", seed=1, width=320, height=240)


@needs_ffmpeg
@pytest.mark.parametrize(
    ("duration", "fps", "motion"), [(1.0, 12, "zoom_in"), (1.5, 10, "pan_left")]
)
async def test_image_to_video(
    provider: OfflineProvider,
    still_png: bytes,
    tmp_path: Path,
    duration: float,
    fps: int,
    motion: str,
) -> None:
    progress = Progress()
    request = ProviderRequest(
        ToolKind.IMAGE_TO_VIDEO,
        {"duration": duration, "fps": fps, "size": "256x144", "motion": motion},
        inputs=[MediaInput.from_bytes(still_png)],
        progress=progress,
        workdir=tmp_path,
    )
    result = await provider.run(request)
    path = result.output.path
    assert path is not None and path.parent == tmp_path
    info = await media.probe(path)
    assert info.video_codec == "h264" and info.pixel_format == "yuv420p"
    assert (info.width, info.height, info.fps) == (256, 144, fps)
    assert info.duration == pytest.approx(duration, abs=0.2)
    head = await asyncio.to_thread(path.read_bytes)
    assert head.find(b"moov") < head.find(b"mdat"), "+faststart puts the index first"
    percents = progress.percents
    assert percents == sorted(set(percents)) and percents[-1] == 100
    assert any(5 < p < 100 for p in percents), f"no intermediate progress: {percents}"


@needs_ffmpeg
async def test_video_from_a_prompt_then_merge_with_audio(
    provider: OfflineProvider, tmp_path: Path
) -> None:
    video = await provider.run(
        ProviderRequest(
            ToolKind.IMAGE_TO_VIDEO,
            {"prompt": "sunset hills", "duration": 1.0, "fps": 10, "size": "160x96"},
            workdir=tmp_path,
        )
    )
    speech = await run(provider, ToolKind.TEXT_TO_SPEECH, text="One two three four five six seven")
    progress = Progress()
    merged = await provider.run(
        ProviderRequest(
            ToolKind.MERGE_VIDEO_AUDIO,
            inputs=[
                MediaInput.from_path(video.output.path or Path()),
                MediaInput.from_bytes(speech.output.data or b"", name="speech.wav"),
            ],
            progress=progress,
            workdir=tmp_path,
        )
    )
    info = await media.probe(merged.output.path or Path())
    assert info.has_video and info.has_audio
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert info.duration == pytest.approx(1.0, abs=0.2), "audio longer than video is cut"
    assert progress.percents[-1] == 100


@needs_ffmpeg
async def test_merge_needs_both_inputs(provider: OfflineProvider, still_png: bytes) -> None:
    with pytest.raises(InvalidProviderInput):
        await run(provider, ToolKind.MERGE_VIDEO_AUDIO, [MediaInput.from_bytes(still_png)])


LONG_VIDEO = {"duration": 60.0, "fps": 30, "size": "1024x576", "motion": "zoom_in"}


@needs_ffmpeg
async def test_cancellation_stops_ffmpeg_promptly(
    provider: OfflineProvider, still_png: bytes, tmp_path: Path
) -> None:
    cancelled = asyncio.Event()
    started = asyncio.Event()

    async def progress(percent: int, stage: str) -> None:
        started.set()

    request = ProviderRequest(
        ToolKind.IMAGE_TO_VIDEO,
        LONG_VIDEO,
        inputs=[MediaInput.from_bytes(still_png)],
        progress=progress,
        is_cancelled=cancelled.is_set,
        workdir=tmp_path,
    )
    task = asyncio.create_task(provider.run(request))
    await asyncio.wait_for(started.wait(), 5)
    await asyncio.sleep(0.2)
    cancelled.set()
    at = time.perf_counter()
    with pytest.raises(ProviderCancelled):
        await task
    assert time.perf_counter() - at < 10  # rendering 60 s of video would take far longer
    leftovers = await asyncio.to_thread(lambda: list(tmp_path.iterdir()))
    assert leftovers == [], "the half-written video is removed"


@needs_ffmpeg
async def test_ffmpeg_time_limit_is_a_transient_error(still_png: bytes, tmp_path: Path) -> None:
    provider = OfflineProvider(ffmpeg_timeout=0.3)
    request = ProviderRequest(
        ToolKind.IMAGE_TO_VIDEO,
        LONG_VIDEO,
        inputs=[MediaInput.from_bytes(still_png)],
        workdir=tmp_path,
    )
    with pytest.raises(ProviderTimeout) as caught:
        await provider.run(request)
    assert isinstance(caught.value, ProviderError) and caught.value.transient
    assert caught.value.provider == "offline"
