"""The offline provider: real media made locally, no network, no model weights.

Used by ``atelier dev`` and by tests. Every kind produces a file that opens in real players:
PNG scenes drawn from the prompt, WAV effects/music/speech, H.264 MP4 from ffmpeg. Pure-Python
work runs in threads; ffmpeg runs as a killable subprocess that reports real progress.

Parameters read (all optional unless noted):

- ``text_to_image``: ``prompt`` (required), ``seed`` (0), ``size`` ("1024x1024") or
  ``width``/``height``, ``n`` (1..4).
- ``image_to_video``: an image input (or ``prompt`` to draw one), ``duration`` (4 s), ``fps``
  (24), ``size`` ("1024x576"), ``motion`` (zoom_in, zoom_out, pan_left, pan_right; from seed).
- ``text_to_audio``: ``prompt`` (required), ``duration`` (5 s), ``seed``, ``audio_type``
  (``sound_effect`` or ``music``; guessed from the prompt).
- ``text_to_speech``: ``text`` (or ``input``/``prompt``), ``voice``, ``speed``, ``duration``.
- ``speech_to_text``: an audio input; the transcript comes from input metadata
  ``transcript``, from our own speech WAVs, or a template stating the duration.
- ``merge_video_audio``: a video and an audio input.
- ``image_upscale``: an image input, ``scale`` 2 or 4.
- ``image_variation``: an image input, ``seed``, ``strength`` (0..1), ``n``.
- ``text``: ``messages`` (OpenAI format) or ``prompt``; ``tools`` (OpenAI format).
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

from jobs import media
from jobs.providers import offline_audio, offline_image, offline_text, offline_video
from jobs.providers.base import (
    InvalidProviderInput,
    ProviderAdapter,
    ProviderCancelled,
    ProviderNotConfigured,
    ProviderOutput,
    ProviderRequest,
    ProviderResult,
    ProviderTimeout,
    ToolCall,
    ToolKind,
)

__all__ = ["OfflineProvider"]

Handler = Callable[[ProviderRequest], Awaitable[ProviderResult]]
_MUSIC_WORDS = ("music", "song", "melody", "tune", "beat", "soundtrack", "jingle", "loop")


class OfflineProvider(ProviderAdapter):
    """Makes every kind of media on this machine (ffmpeg needed for video kinds only)."""

    name: ClassVar[str] = "offline"
    kinds: ClassVar[frozenset[ToolKind]] = frozenset(ToolKind)

    def __init__(self, *, ffmpeg_timeout: float = 600.0, text_delay: float = 0.0) -> None:
        self.ffmpeg_timeout = ffmpeg_timeout
        self.text_delay = text_delay
        self._handlers: dict[ToolKind, Handler] = {
            ToolKind.TEXT_TO_IMAGE: self._text_to_image,
            ToolKind.IMAGE_TO_VIDEO: self._image_to_video,
            ToolKind.TEXT_TO_AUDIO: self._text_to_audio,
            ToolKind.TEXT_TO_SPEECH: self._text_to_speech,
            ToolKind.SPEECH_TO_TEXT: self._speech_to_text,
            ToolKind.MERGE_VIDEO_AUDIO: self._merge_video_audio,
            ToolKind.IMAGE_UPSCALE: self._image_upscale,
            ToolKind.IMAGE_VARIATION: self._image_variation,
            ToolKind.TEXT: self._text,
        }

    @classmethod
    def from_settings(cls, settings: object = None) -> Self:
        return cls()

    async def _run(self, request: ProviderRequest) -> ProviderResult:
        return await self._handlers[request.kind](request)

    def _result(self, *outputs: ProviderOutput, **metadata: Any) -> ProviderResult:
        return ProviderResult(
            provider=self.name, outputs=outputs, model="offline", metadata=metadata
        )

    # ------------------------------------------------------------------ images

    async def _text_to_image(self, request: ProviderRequest) -> ProviderResult:
        prompt = request.str_param("prompt")
        seed = request.int_param("seed", 0, minimum=0, maximum=2**63)
        width, height = request.size_param("1024x1024")
        count = request.int_param("n", 1, minimum=1, maximum=4)
        outputs = []
        for index in range(count):
            await request.report(5 + 90 * index // count, "drawing")
            await request.raise_if_cancelled()
            png = await asyncio.to_thread(
                offline_image.render_scene, prompt, seed=seed + index, width=width, height=height
            )
            meta = {"width": width, "height": height, "seed": seed + index, "prompt": prompt}
            outputs.append(ProviderOutput("image/png", data=png, metadata=meta))
        return self._result(*outputs)

    async def _image_upscale(self, request: ProviderRequest) -> ProviderResult:
        source = await request.input_of("image").read_bytes()
        factor = request.int_param("scale", 2, minimum=2, maximum=4)
        if factor not in (2, 4):
            raise InvalidProviderInput("parameter 'scale' must be 2 or 4")
        await request.report(10, "upscaling")
        png = await self._image_job(offline_image.upscale_image, source, factor=factor)
        width, height = await media.image_size(png, max_pixels=64_000_000)
        meta = {"width": width, "height": height, "scale": factor}
        return self._result(ProviderOutput("image/png", data=png, metadata=meta))

    async def _image_variation(self, request: ProviderRequest) -> ProviderResult:
        source = await request.input_of("image").read_bytes()
        seed = request.int_param("seed", 0, minimum=0, maximum=2**63)
        strength = request.float_param("strength", 0.5, minimum=0.0, maximum=1.0)
        count = request.int_param("n", 1, minimum=1, maximum=4)
        outputs = []
        for index in range(count):
            await request.report(5 + 90 * index // count, "varying")
            await request.raise_if_cancelled()
            png = await self._image_job(
                offline_image.vary_image, source, seed=seed + index, strength=strength
            )
            outputs.append(ProviderOutput("image/png", data=png, metadata={"seed": seed + index}))
        return self._result(*outputs)

    @staticmethod
    async def _image_job(fn: Callable[..., bytes], source: bytes, **kwargs: Any) -> bytes:
        try:
            return await asyncio.to_thread(fn, source, **kwargs)
        except media.MediaError as exc:  # a bomb, or not an image at all
            raise InvalidProviderInput(str(exc)) from exc
        except (OSError, ValueError, SyntaxError) as exc:  # Pillow's "cannot identify image"
            raise InvalidProviderInput(f"the input is not a readable image: {exc}") from exc

    # ------------------------------------------------------------------ audio

    async def _text_to_audio(self, request: ProviderRequest) -> ProviderResult:
        prompt = request.str_param("prompt")
        seed = request.int_param("seed", 0, minimum=0, maximum=2**63)
        duration = request.float_param("duration", 5.0, minimum=0.1, maximum=600.0)
        audio_type = request.params.get("audio_type")
        if audio_type is None:
            lowered = prompt.lower()
            audio_type = "music" if any(w in lowered for w in _MUSIC_WORDS) else "sound_effect"
        if audio_type not in ("music", "sound_effect"):
            raise InvalidProviderInput("parameter 'audio_type' must be music or sound_effect")
        await request.report(5, "composing")
        render = (
            offline_audio.render_music if audio_type == "music" else offline_audio.render_effect
        )
        wav = await asyncio.to_thread(render, prompt, seed=seed, duration=duration)
        meta = {"duration": round(duration, 3), "audio_type": audio_type, "seed": seed}
        return self._result(ProviderOutput("audio/wav", data=wav, metadata=meta))

    async def _text_to_speech(self, request: ProviderRequest) -> ProviderResult:
        key = next((k for k in ("text", "input", "prompt") if k in request.params), "text")
        text = request.str_param(key)
        voice = request.str_param("voice", "alloy")
        speed = request.float_param("speed", 1.0, minimum=0.25, maximum=4.0)
        duration = (
            request.float_param("duration", 1.0, minimum=0.1, maximum=600.0)
            if "duration" in request.params
            else None
        )
        await request.report(5, "speaking")
        wav, seconds = await asyncio.to_thread(
            offline_audio.render_speech, text, voice=voice, speed=speed, duration=duration
        )
        meta = {"duration": round(seconds, 3), "voice": voice, "transcript": text}
        return self._result(ProviderOutput("audio/wav", data=wav, metadata=meta))

    async def _speech_to_text(self, request: ProviderRequest) -> ProviderResult:
        source = request.input_of("audio")
        data = await source.read_bytes()
        await request.report(10, "listening")
        duration: float | None = None
        try:
            duration = (await media.media_info(data)).duration
        except media.MediaError:
            duration = None
        text = source.metadata.get("transcript") or offline_audio.read_wav_transcript(data)
        if not text:
            length = f"{duration:.1f}-second" if duration else "short"
            text = f"(Offline transcript of a {length} recording: no speech recognition here.)"
        meta = {"duration": duration, "language": "en"}
        return self._result(ProviderOutput("text/plain", data=str(text).encode(), metadata=meta))

    # ------------------------------------------------------------------ video

    async def _image_to_video(self, request: ProviderRequest) -> ProviderResult:
        self._require_ffmpeg()
        width, height = request.size_param("1024x576")
        duration = request.float_param("duration", 4.0, minimum=0.2, maximum=60.0)
        fps = request.int_param("fps", 24, minimum=1, maximum=60)
        seed = request.int_param("seed", 0, minimum=0, maximum=2**63)
        motion = request.params.get("motion") or offline_video.MOTIONS[seed % 4]
        if motion not in offline_video.MOTIONS:
            raise InvalidProviderInput(f"parameter 'motion' must be one of {offline_video.MOTIONS}")
        workdir = request.output_dir()
        with tempfile.TemporaryDirectory(prefix="atelier-offline-") as tmp:
            images = [i for i in request.inputs if i.mime_type.startswith("image/")]
            if images:
                still = await images[0].as_path(Path(tmp))
            else:
                prompt = request.str_param("prompt")
                png = await asyncio.to_thread(
                    offline_image.render_scene, prompt, seed=seed, width=width, height=height
                )
                still = Path(tmp) / "still.png"
                await asyncio.to_thread(still.write_bytes, png)
            await request.report(5, "rendering video")
            output = workdir / f"video-{uuid.uuid4().hex}.mp4"
            await self._ffmpeg(
                request,
                offline_video.animate_still(
                    still,
                    output,
                    width=width,
                    height=height,
                    duration=duration,
                    fps=fps,
                    motion=str(motion),
                    progress=request.sub_progress(5, 99),
                    is_cancelled=request.cancelled,
                    time_limit=self.ffmpeg_timeout,
                ),
                output,
            )
        meta = {
            "width": width,
            "height": height,
            "duration": round(round(duration * fps) / fps, 3),
            "fps": fps,
            "motion": motion,
        }
        return self._result(ProviderOutput("video/mp4", path=output, metadata=meta))

    async def _merge_video_audio(self, request: ProviderRequest) -> ProviderResult:
        self._require_ffmpeg()
        video_input = request.input_of("video")
        audio_input = request.input_of("audio")
        output = request.output_dir() / f"merged-{uuid.uuid4().hex}.mp4"
        with tempfile.TemporaryDirectory(prefix="atelier-offline-") as tmp:
            video = await video_input.as_path(Path(tmp))
            audio = await audio_input.as_path(Path(tmp))
            await request.report(2, "merging")
            duration = await self._ffmpeg(
                request,
                offline_video.merge_video_audio(
                    video,
                    audio,
                    output,
                    progress=request.sub_progress(2, 99),
                    is_cancelled=request.cancelled,
                    time_limit=self.ffmpeg_timeout,
                ),
                output,
            )
        meta = {"duration": round(duration, 3)}
        return self._result(ProviderOutput("video/mp4", path=output, metadata=meta))

    @staticmethod
    def _require_ffmpeg() -> None:
        if not media.ffmpeg_available():
            raise ProviderNotConfigured("ffmpeg is not installed (apt-get install -y ffmpeg)")

    @staticmethod
    async def _ffmpeg(request: ProviderRequest, work: Awaitable[Any], output: Path) -> Any:
        """Map ffmpeg failures onto provider errors and never leave half-written outputs."""
        try:
            try:
                return await work
            except media.FFmpegCancelledError as exc:
                raise ProviderCancelled("the job was cancelled") from exc
            except media.FFmpegTimeoutError as exc:
                raise ProviderTimeout(str(exc)) from exc
            except (media.MediaError, ValueError) as exc:
                raise InvalidProviderInput(f"cannot process the input: {exc}") from exc
        except BaseException:
            output.unlink(missing_ok=True)  # noqa: ASYNC240 - one unlink, cheaper than a thread
            raise

    # ------------------------------------------------------------------ text

    async def _text(self, request: ProviderRequest) -> ProviderResult:
        messages = request.chat_messages()
        tools = request.params.get("tools") or []
        if not isinstance(tools, Sequence):
            raise InvalidProviderInput("parameter 'tools' must be a list")
        choice = offline_text.choose_tool_call(tools, messages)
        if choice is not None:
            name, arguments = choice
            call_id = "call_" + hashlib.sha256(repr((name, arguments)).encode()).hexdigest()[:24]
            return ProviderResult(
                provider=self.name,
                outputs=(ProviderOutput("text/plain", data=b""),),
                model="offline",
                tool_calls=(ToolCall(id=call_id, name=name, arguments=arguments),),
                metadata={"finish_reason": "tool_calls"},
            )
        reply = offline_text.template_reply(messages)
        if request.on_text_delta is not None:
            for index, word in enumerate(reply.split(" ")):
                await request.raise_if_cancelled()
                await request.on_text_delta(word if index == 0 else f" {word}")
                if self.text_delay:
                    await asyncio.sleep(self.text_delay)
        usage = {
            "prompt_tokens": sum(len(str(m.get("content", "")).split()) for m in messages),
            "completion_tokens": len(reply.split()),
        }
        return ProviderResult(
            provider=self.name,
            outputs=(ProviderOutput("text/plain", data=reply.encode()),),
            model="offline",
            usage=usage,
            metadata={"finish_reason": "stop"},
        )
