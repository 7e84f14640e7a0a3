"""Media post-processing: MIME sniffing, probing, thumbnails and a cancellable ffmpeg runner.

Everything that touches pixels or spawns a process runs off the event loop (threads or asyncio
subprocesses), because the worker shares one loop between many jobs and progress reporting.
Sniffing trusts content, never file names or client-supplied types: uploads lie.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import math
import re
import shutil
import struct
import tempfile
import warnings
import wave
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from PIL import Image, ImageDraw, ImageOps, UnidentifiedImageError

__all__ = [
    "DEFAULT_MAX_IMAGE_PIXELS",
    "CancelFn",
    "DecompressionBombError",
    "FFmpegCancelledError",
    "FFmpegError",
    "FFmpegNotFoundError",
    "FFmpegTimeoutError",
    "MediaError",
    "MediaInfo",
    "ProbeError",
    "ProgressFn",
    "Thumbnail",
    "UnsupportedMediaError",
    "ffmpeg_available",
    "image_size",
    "make_thumbnail",
    "media_info",
    "open_image",
    "probe",
    "run_ffmpeg",
    "sniff_file_mime",
    "sniff_mime",
]

#: Refuse images above this many pixels (about 8k x 6k): decoding one costs ~200 MB of RAM.
DEFAULT_MAX_IMAGE_PIXELS = 50_000_000
SNIFF_BYTES = 4096
THUMBNAIL_MAX = 512
OCTET_STREAM = "application/octet-stream"

MediaSource = bytes | Path
ProgressFn = Callable[[int, str], Awaitable[None]]
CancelFn = Callable[[], Awaitable[bool]]


class MediaError(Exception):
    """Base of every media failure; ``code`` is a stable machine-readable name."""

    code = "media_error"


class UnsupportedMediaError(MediaError):
    """The content is not a format we can read (or is truncated beyond repair)."""

    code = "unsupported_media"


class DecompressionBombError(MediaError):
    """The image claims more pixels than we are willing to decode."""

    code = "image_too_large"

    def __init__(
        self, pixels: int, max_pixels: int, *, width: int | None = None, height: int | None = None
    ) -> None:
        size = f"{width}x{height} = " if width and height else ""
        super().__init__(f"image of {size}{pixels} pixels exceeds the limit of {max_pixels}")
        self.pixels = pixels
        self.max_pixels = max_pixels
        self.width = width
        self.height = height


class ProbeError(MediaError):
    """ffprobe could not read the file."""

    code = "probe_failed"


class FFmpegError(MediaError):
    """ffmpeg exited with an error; ``stderr`` holds its last lines."""

    code = "ffmpeg_failed"

    def __init__(self, message: str, *, stderr: str = "", returncode: int | None = None) -> None:
        super().__init__(f"{message}: {stderr.strip()}" if stderr.strip() else message)
        self.stderr = stderr
        self.returncode = returncode


class FFmpegNotFoundError(FFmpegError):
    """ffmpeg/ffprobe is not on PATH (install the ``ffmpeg`` package)."""

    code = "ffmpeg_missing"


class FFmpegTimeoutError(FFmpegError):
    """ffmpeg ran past its time limit and was killed."""

    code = "ffmpeg_timeout"


class FFmpegCancelledError(FFmpegError):
    """The caller cancelled the job; ffmpeg was killed."""

    code = "ffmpeg_cancelled"


# --------------------------------------------------------------------------- sniffing

_SIMPLE_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"BM", "image/bmp"),
    (0, b"II*\x00", "image/tiff"),
    (0, b"MM\x00*", "image/tiff"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"fLaC", "audio/flac"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"PK\x03\x04", "application/zip"),
    (0, b"PK\x05\x06", "application/zip"),
)
_RIFF_FORMS = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
_FTYP_BRANDS = {
    b"qt  ": "video/quicktime",
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"avif": "image/avif",
}


def sniff_mime(data: bytes) -> str:
    """Return the MIME type of ``data`` judged by its first bytes, or ``application/octet-stream``.

    A small magic-number table covers what users upload and what providers return; no libmagic,
    so it behaves the same on every machine. Text is recognised last: valid UTF-8 without NULs.
    """
    head = data[:SNIFF_BYTES]
    for offset, magic, mime in _SIMPLE_MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return mime
    if head[:4] == b"RIFF" and head[8:12] in _RIFF_FORMS:
        return _RIFF_FORMS[head[8:12]]
    if head[4:8] == b"ftyp":
        return _FTYP_BRANDS.get(head[8:12], "video/mp4")
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm" if b"webm" in head[:64] else "video/x-matroska"
    if head[:4] == b"OggS":
        return "video/ogg" if b"\x80theora" in head[:512] else "audio/ogg"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        # MPEG audio frame sync; layer bits 00 mean ADTS AAC rather than MP3.
        return "audio/aac" if head[1] & 0x06 == 0 else "audio/mpeg"
    if _looks_like_text(head):
        return "text/plain"
    return OCTET_STREAM


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut by the sniff window is still text.
        if exc.start < len(head) - 3:
            return False
    return True


async def sniff_file_mime(path: Path) -> str:
    """Sniff a file on disk, reading only its head."""

    def _read() -> bytes:
        with path.open("rb") as fh:
            return fh.read(SNIFF_BYTES)

    return sniff_mime(await asyncio.to_thread(_read))


# --------------------------------------------------------------------------- images


def open_image(source: MediaSource, max_pixels: int) -> Image.Image:
    """Open lazily (header only) and refuse bombs before any pixel is decoded.

    The caller closes the image (``with open_image(...) as image``).
    """
    try:
        with warnings.catch_warnings():
            # Pillow warns above its own global limit; ours is stricter and raises below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(source) if isinstance(source, bytes) else source)
    except Image.DecompressionBombError as exc:
        # Pillow's own hard limit (2x MAX_IMAGE_PIXELS) fired first; it names the pixel count.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise DecompressionBombError(int(found[1]) if found else 0, max_pixels) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UnsupportedMediaError(f"not a readable image: {exc}") from exc
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise DecompressionBombError(width * height, max_pixels, width=width, height=height)
    return image


def _image_size_sync(source: MediaSource, max_pixels: int) -> tuple[int, int]:
    with open_image(source, max_pixels) as image:
        return image.size


async def image_size(
    source: MediaSource, *, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
) -> tuple[int, int]:
    """Return ``(width, height)`` of an image, refusing decompression bombs.

    Raises :class:`DecompressionBombError` above ``max_pixels`` and
    :class:`UnsupportedMediaError` for anything Pillow cannot identify.
    """
    return await asyncio.to_thread(_image_size_sync, source, max_pixels)


# --------------------------------------------------------------------------- probing


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What the rest of the system needs to know about a media file."""

    mime_type: str
    size_bytes: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    fps: float | None = None
    sample_rate: int | None = None
    channels: int | None = None
    pixel_format: str | None = None

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def has_audio(self) -> bool:
        return self.audio_codec is not None


def ffmpeg_available() -> bool:
    """True when both ``ffmpeg`` and ``ffprobe`` are on PATH."""
    return shutil.which("ffmpeg") is not None and shutil.which("ffprobe") is not None


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise FFmpegNotFoundError(f"{name} is not installed (apt-get install -y ffmpeg)")
    return found


async def _kill(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    with contextlib.suppress(Exception):
        await proc.wait()


async def _run_capture(cmd: Sequence[str], *, time_limit: float) -> tuple[int, bytes, bytes]:
    """Run a short command and collect its output; kill it past ``time_limit`` or on cancel."""
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(proc.communicate(), time_limit)
    except TimeoutError as exc:
        await _kill(proc)
        raise FFmpegTimeoutError(f"{Path(cmd[0]).name} timed out after {time_limit:g}s") from exc
    finally:
        await _kill(proc)
    assert proc.returncode is not None
    return proc.returncode, stdout, stderr


@contextlib.asynccontextmanager
async def _as_path(source: MediaSource, suffix: str = "") -> AsyncIterator[Path]:
    """Give ffmpeg a real file: pipes break MP4s whose index sits at the end."""
    if isinstance(source, Path):
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="atelier-media-") as tmp:
        path = Path(tmp) / f"input{suffix}"
        await asyncio.to_thread(path.write_bytes, source)
        yield path


def _parse_rate(value: str | None) -> float | None:
    if not value or value in {"0/0", "N/A"}:
        return None
    num, _, den = value.partition("/")
    try:
        rate = float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return None
    return round(rate, 3) if rate > 0 else None


def _float(value: Any) -> float | None:
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


async def probe(source: MediaSource, *, time_limit: float = 30.0) -> MediaInfo:
    """Describe an audio/video file with ``ffprobe -print_format json``."""
    ffprobe = _tool("ffprobe")
    async with _as_path(source) as path:
        mime = await sniff_file_mime(path)
        size = (await asyncio.to_thread(path.stat)).st_size
        code, out, err = await _run_capture(
            [
                ffprobe,
                "-v",
                "error",
                "-print_format",
                "json",
                "-show_format",
                "-show_streams",
                str(path),
            ],
            time_limit=time_limit,
        )
    if code != 0:
        raise ProbeError(f"ffprobe failed: {err.decode(errors='replace').strip()[-500:]}")
    try:
        data = json.loads(out)
    except ValueError as exc:
        raise ProbeError("ffprobe printed invalid JSON") from exc
    streams: list[dict[str, Any]] = data.get("streams") or []
    fmt: dict[str, Any] = data.get("format") or {}
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video"
            and not (s.get("disposition") or {}).get("attached_pic")
        ),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None and audio is None:
        raise ProbeError("no audio or video stream found")
    duration = _float(fmt.get("duration"))
    if duration is None:
        duration = _float((video or audio or {}).get("duration"))
    return MediaInfo(
        mime_type=mime,
        size_bytes=size,
        width=video.get("width") if video else None,
        height=video.get("height") if video else None,
        duration=duration,
        video_codec=video.get("codec_name") if video else None,
        audio_codec=audio.get("codec_name") if audio else None,
        fps=_parse_rate(video.get("avg_frame_rate") or video.get("r_frame_rate"))
        if video
        else None,
        sample_rate=int(audio["sample_rate"]) if audio and audio.get("sample_rate") else None,
        channels=audio.get("channels") if audio else None,
        pixel_format=video.get("pix_fmt") if video else None,
    )


def _wav_info(data: bytes) -> MediaInfo | None:
    try:
        with wave.open(io.BytesIO(data)) as wav:
            frames, rate = wav.getnframes(), wav.getframerate()
            return MediaInfo(
                mime_type="audio/wav",
                size_bytes=len(data),
                duration=frames / rate if rate else None,
                audio_codec=f"pcm_s{8 * wav.getsampwidth()}le",
                sample_rate=rate,
                channels=wav.getnchannels(),
            )
    except (wave.Error, EOFError, struct.error):
        return None


async def media_info(
    source: MediaSource, *, max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS
) -> MediaInfo:
    """Sniff and measure any supported file: Pillow for images, ffprobe for audio/video.

    Plain PCM WAV is read with the standard library, so audio works without ffmpeg too.
    """
    if isinstance(source, Path):
        head = await asyncio.to_thread(_read_head, source)
        size = (await asyncio.to_thread(source.stat)).st_size
    else:
        head, size = source[:SNIFF_BYTES], len(source)
    mime = sniff_mime(head)
    if mime.startswith("image/"):
        width, height = await image_size(source, max_pixels=max_pixels)
        return MediaInfo(mime_type=mime, size_bytes=size, width=width, height=height)
    if mime == "audio/wav" and not ffmpeg_available():
        data = source if isinstance(source, bytes) else await asyncio.to_thread(source.read_bytes)
        info = _wav_info(data)
        if info is not None:
            return info
    if mime.startswith(("audio/", "video/")):
        return await probe(source)
    return MediaInfo(mime_type=mime, size_bytes=size)


def _read_head(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(SNIFF_BYTES)


# --------------------------------------------------------------------------- ffmpeg runner


async def run_ffmpeg(
    args: Sequence[str],
    *,
    duration: float | None = None,
    progress: ProgressFn | None = None,
    is_cancelled: CancelFn | None = None,
    time_limit: float = 600.0,
    stage: str = "encoding",
    poll_interval: float = 0.1,
) -> None:
    """Run ``ffmpeg <args>`` (outputs must be files), reporting real progress.

    ffmpeg writes ``key=value`` blocks to ``-progress pipe:1``; ``out_time_us`` against the
    expected ``duration`` gives the percentage (capped at 99 until ffmpeg exits cleanly, then
    100). The process is killed after ``time_limit`` seconds, when ``is_cancelled()`` turns
    true (polled every ``poll_interval`` seconds) and when the awaiting task is cancelled.
    """
    ffmpeg = _tool("ffmpeg")
    cmd = [
        ffmpeg,
        "-hide_banner",
        "-nostdin",
        "-nostats",
        "-loglevel",
        "error",
        "-progress",
        "pipe:1",
        "-y",
        *args,
    ]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stderr_tail = bytearray()
    last_percent = -1

    async def read_progress() -> None:
        nonlocal last_percent
        assert proc.stdout is not None
        out_time_us: int | None = None
        async for raw in proc.stdout:
            key, _, value = raw.decode(errors="replace").strip().partition("=")
            if key in {"out_time_us", "out_time_ms"} and value.lstrip("-").isdigit():
                out_time_us = int(value)
            elif key == "progress" and progress is not None and duration and out_time_us:
                percent = min(99, max(0, int(out_time_us / (duration * 1e6) * 100)))
                if percent > last_percent:
                    last_percent = percent
                    await progress(percent, stage)

    async def read_stderr() -> None:
        assert proc.stderr is not None
        async for raw in proc.stderr:
            stderr_tail.extend(raw)
            del stderr_tail[:-4000]

    readers = asyncio.gather(read_progress(), read_stderr())
    waiter = asyncio.ensure_future(proc.wait())
    loop = asyncio.get_running_loop()
    deadline = loop.time() + time_limit
    try:
        while not waiter.done():
            await asyncio.wait({waiter}, timeout=poll_interval)
            if waiter.done():
                break
            if is_cancelled is not None and await is_cancelled():
                await _kill(proc)
                raise FFmpegCancelledError("cancelled")
            if loop.time() > deadline:
                await _kill(proc)
                raise FFmpegTimeoutError(f"ffmpeg timed out after {time_limit:g}s")
        await readers
    finally:
        await _kill(proc)
        if not readers.done():
            readers.cancel()
        with contextlib.suppress(BaseException):
            await readers
        waiter.cancel()
    if proc.returncode != 0:
        raise FFmpegError(
            f"ffmpeg exited with {proc.returncode}",
            stderr=stderr_tail.decode(errors="replace"),
            returncode=proc.returncode,
        )
    if progress is not None and last_percent < 100:
        await progress(100, stage)


# --------------------------------------------------------------------------- thumbnails


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """A small preview image, ready to store next to the original."""

    data: bytes
    mime_type: str
    width: int
    height: int


ThumbFormat = Literal["WEBP", "JPEG"]


def _encode_thumbnail(image: Image.Image, max_size: int, fmt: ThumbFormat) -> Thumbnail:
    image = ImageOps.exif_transpose(image) or image
    if image.mode not in {"RGB", "RGBA"}:
        image = image.convert(
            "RGBA" if "A" in image.getbands() or "transparency" in image.info else "RGB"
        )
    if fmt == "JPEG" and image.mode == "RGBA":
        flat = Image.new("RGB", image.size, (255, 255, 255))
        flat.paste(image, mask=image.getchannel("A"))
        image = flat
    image.thumbnail((max_size, max_size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    if fmt == "WEBP":
        image.save(out, "WEBP", quality=80, method=4)
    else:
        image.save(out, "JPEG", quality=82, optimize=True)
    return Thumbnail(out.getvalue(), f"image/{fmt.lower()}", image.width, image.height)


def _image_thumbnail(
    source: MediaSource, max_size: int, fmt: ThumbFormat, max_pixels: int
) -> Thumbnail:
    with open_image(source, max_pixels) as image:
        if image.format == "JPEG":
            image.draft("RGB", (max_size, max_size))  # decode at 1/2..1/8 scale: much faster
        image.seek(0)
        image.load()
        return _encode_thumbnail(image, max_size, fmt)


def _waveform_thumbnail(samples: bytes, max_size: int, fmt: ThumbFormat) -> Thumbnail:
    """Draw peak bars of signed 16-bit mono PCM: a recognisable preview for audio files."""
    width, height = max_size, max_size // 4
    count = len(samples) // 2
    values = struct.unpack(f"<{count}h", samples[: count * 2]) if count else ()
    image = Image.new("RGB", (width, height), (24, 26, 38))
    draw = ImageDraw.Draw(image)
    bars = width // 4
    per_bar = max(1, count // bars)
    mid = height / 2
    for bar in range(bars):
        chunk = values[bar * per_bar : (bar + 1) * per_bar]
        peak = max((abs(v) for v in chunk), default=0) / 32768
        half = max(1.0, peak * (mid - 4))
        x = bar * 4
        draw.rectangle((x, mid - half, x + 2, mid + half), fill=(120, 190, 255))
    return _encode_thumbnail(image, max_size, fmt)


async def _decode_pcm(source: MediaSource, *, rate: int, seconds: float) -> bytes:
    async with _as_path(source) as path:
        code, out, err = await _run_capture(
            [
                _tool("ffmpeg"),
                "-hide_banner",
                "-nostdin",
                "-loglevel",
                "error",
                "-i",
                str(path),
                "-t",
                f"{seconds:g}",
                "-vn",
                "-ac",
                "1",
                "-ar",
                str(rate),
                "-f",
                "s16le",
                "pipe:1",
            ],
            time_limit=60,
        )
    if code != 0:
        raise UnsupportedMediaError(f"cannot decode audio: {err.decode(errors='replace')[-300:]}")
    return out


def _wav_pcm_mono16(data: bytes) -> bytes | None:
    """Return the first channel of a 16-bit PCM WAV, or None when it is another layout."""
    try:
        with wave.open(io.BytesIO(data)) as wav:
            if wav.getsampwidth() != 2:
                return None
            frames: bytes = wav.readframes(min(wav.getnframes(), wav.getframerate() * 600))
            channels = wav.getnchannels()
    except (wave.Error, EOFError, struct.error):
        return None
    if channels == 1:
        return frames
    step = 2 * channels
    return b"".join(frames[i : i + 2] for i in range(0, len(frames), step))


async def make_thumbnail(
    source: MediaSource,
    *,
    mime_type: str | None = None,
    max_size: int = THUMBNAIL_MAX,
    fmt: ThumbFormat = "WEBP",
    max_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
) -> Thumbnail:
    """Make a preview no larger than ``max_size`` on either side.

    Images are scaled with Pillow, videos give their first frame (``ffmpeg -frames:v 1``),
    audio gives a waveform picture. ``mime_type`` is sniffed when not given.
    """
    if mime_type is None:
        if isinstance(source, Path):
            mime_type = await sniff_file_mime(source)
        else:
            mime_type = sniff_mime(source)
    if mime_type.startswith("image/"):
        return await asyncio.to_thread(_image_thumbnail, source, max_size, fmt, max_pixels)
    if mime_type.startswith("video/"):
        async with _as_path(source) as path:
            code, out, err = await _run_capture(
                [
                    _tool("ffmpeg"),
                    "-hide_banner",
                    "-nostdin",
                    "-loglevel",
                    "error",
                    "-i",
                    str(path),
                    "-frames:v",
                    "1",
                    "-f",
                    "image2pipe",
                    "-c:v",
                    "png",
                    "pipe:1",
                ],
                time_limit=60,
            )
        if code != 0 or not out:
            raise UnsupportedMediaError(
                f"cannot read a frame: {err.decode(errors='replace')[-300:]}"
            )
        return await asyncio.to_thread(_image_thumbnail, out, max_size, fmt, max_pixels)
    if mime_type.startswith("audio/"):
        pcm: bytes | None = None
        if mime_type == "audio/wav":
            data = (
                source if isinstance(source, bytes) else await asyncio.to_thread(source.read_bytes)
            )
            pcm = await asyncio.to_thread(_wav_pcm_mono16, data)
        if pcm is None:
            pcm = await _decode_pcm(source, rate=8000, seconds=600)
        return await asyncio.to_thread(_waveform_thumbnail, pcm, max_size, fmt)
    raise UnsupportedMediaError(f"no thumbnail for {mime_type}")
