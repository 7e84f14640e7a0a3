"""jobs.media: sniffing table, image sizes and bomb refusal, probing, thumbnails, ffmpeg runner."""

from __future__ import annotations

import asyncio
import io
import shutil
import struct
import subprocess
import time
import zipfile
import zlib
from pathlib import Path

import pytest
from PIL import Image

from jobs import media
from jobs.providers.offline_audio import render_effect, wav_bytes

needs_ffmpeg = pytest.mark.skipif(
    not media.ffmpeg_available(), reason="ffmpeg/ffprobe not on PATH (apt-get install -y ffmpeg)"
)


def _image(fmt: str, size: tuple[int, int] = (64, 48), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (200, 40, 40) if mode == "RGB" else (200, 40, 40, 128)).save(out, fmt)
    return out.getvalue()


def _zip() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.txt", "hello")
    return out.getvalue()


def _png_header(width: int, height: int) -> bytes:
    """A PNG that claims a huge size; Pillow reads only the header before refusing it."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64))


SNIFF_CASES = [
    ("png", _image("PNG"), "image/png"),
    ("jpeg", _image("JPEG"), "image/jpeg"),
    ("gif", _image("GIF"), "image/gif"),
    ("webp", _image("WEBP"), "image/webp"),
    ("bmp", _image("BMP"), "image/bmp"),
    ("wav", wav_bytes(b"\0\0" * 100), "audio/wav"),
    ("mp4", b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41", "video/mp4"),
    ("mov", b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ", "video/quicktime"),
    ("m4a", b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A mp42isom", "audio/mp4"),
    ("webm", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87", "video/webm"),
    ("mkv", b"\x1a\x45\xdf\xa3\xa3\x42\x86\x81\x01\x42\x82\x88matroska", "video/x-matroska"),
    ("mp3-id3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00", "audio/mpeg"),
    ("mp3-frame", b"\xff\xfb\x90\x64" + b"\x00" * 100, "audio/mpeg"),
    ("aac-adts", b"\xff\xf1\x50\x80\x02\x1f\xfc" + b"\x00" * 20, "audio/aac"),
    ("ogg", b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x1eOpusHead", "audio/ogg"),
    ("flac", b"fLaC\x00\x00\x00\x22" + b"\x00" * 34, "audio/flac"),
    ("pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf"),
    ("zip", _zip(), "application/zip"),
    ("text", "Привет, world!\nline two\n".encode(), "text/plain"),
    ("binary", bytes(range(256)) * 4, "application/octet-stream"),
    ("empty", b"", "application/octet-stream"),
]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in SNIFF_CASES],
                         ids=[c[0] for c in SNIFF_CASES])  # fmt: skip
def test_sniff_mime_table(data: bytes, expected: str) -> None:
    assert media.sniff_mime(data) == expected


def test_sniff_text_cut_inside_a_multibyte_character() -> None:
    text = ("ж" * 5000).encode()  # 10000 bytes; the sniff window ends between two bytes
    assert media.sniff_mime(text[: media.SNIFF_BYTES + 1]) == "text/plain"


async def test_sniff_file_reads_the_head(tmp_path: Path) -> None:
    path = tmp_path / "lying-name.txt"
    path.write_bytes(_image("PNG"))
    assert await media.sniff_file_mime(path) == "image/png"


async def test_image_size_of_bytes_and_path(tmp_path: Path) -> None:
    data = _image("JPEG", (321, 123))
    path = tmp_path / "x.jpg"
    path.write_bytes(data)
    assert await media.image_size(data) == (321, 123)
    assert await media.image_size(path) == (321, 123)


async def test_decompression_bomb_is_refused_before_decoding() -> None:
    bomb = _png_header(100_000, 100_000)
    with pytest.raises(media.DecompressionBombError) as caught:
        await media.image_size(bomb)
    assert caught.value.pixels == 100_000 * 100_000
    assert caught.value.code == "image_too_large"
    with pytest.raises(media.DecompressionBombError):
        await media.make_thumbnail(bomb)
    with pytest.raises(media.DecompressionBombError):
        await media.media_info(bomb)


async def test_custom_pixel_limit() -> None:
    with pytest.raises(media.DecompressionBombError):
        await media.image_size(_image("PNG", (100, 100)), max_pixels=9_999)


async def test_unreadable_image_is_a_typed_error() -> None:
    with pytest.raises(media.UnsupportedMediaError):
        await media.image_size(b"\x89PNG\r\n\x1a\n garbage")


async def test_image_thumbnail_webp_and_jpeg() -> None:
    big = _image("PNG", (1200, 800))
    thumb = await media.make_thumbnail(big)
    assert (thumb.mime_type, thumb.width, thumb.height) == ("image/webp", 512, 341)
    assert Image.open(io.BytesIO(thumb.data)).format == "WEBP"
    transparent = _image("PNG", (300, 600), mode="RGBA")
    jpeg = await media.make_thumbnail(transparent, fmt="JPEG", max_size=128)
    assert (jpeg.mime_type, jpeg.width, jpeg.height) == ("image/jpeg", 64, 128)
    assert Image.open(io.BytesIO(jpeg.data)).mode == "RGB"


async def test_small_image_thumbnail_is_not_enlarged() -> None:
    thumb = await media.make_thumbnail(_image("GIF", (40, 30)))
    assert (thumb.width, thumb.height) == (40, 30)


async def test_audio_waveform_thumbnail_from_wav_without_ffmpeg() -> None:
    wav = render_effect("whoosh", seed=1, duration=0.3)
    thumb = await media.make_thumbnail(wav)
    assert thumb.mime_type == "image/webp"
    assert (thumb.width, thumb.height) == (512, 128)


async def test_wav_info() -> None:
    info = await media.media_info(render_effect("boom", seed=1, duration=0.75))
    assert info.mime_type == "audio/wav"
    assert info.duration == pytest.approx(0.75, abs=0.01)
    assert info.has_audio and not info.has_video


async def test_thumbnail_of_unsupported_type() -> None:
    with pytest.raises(media.UnsupportedMediaError):
        await media.make_thumbnail(b"%PDF-1.4 hello")


# --------------------------------------------------------------------------- ffmpeg


@pytest.fixture(scope="module")
def sample_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not media.ffmpeg_available():
        pytest.skip("ffmpeg/ffprobe not on PATH (apt-get install -y ffmpeg)")
    path = tmp_path_factory.mktemp("media") / "sample.mp4"
    ffmpeg = shutil.which("ffmpeg")
    assert ffmpeg is not None
    subprocess.run(  # noqa: S603 - fixed arguments
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
         "testsrc=size=160x120:rate=10", "-f", "lavfi", "-i", "sine=frequency=440",
         "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest",
         str(path)],
        check=True,
    )  # fmt: skip
    return path


@needs_ffmpeg
async def test_probe_video(sample_video: Path) -> None:
    info = await media.probe(sample_video)
    assert info.mime_type == "video/mp4"
    assert (info.width, info.height, info.fps) == (160, 120, 10.0)
    assert info.video_codec == "h264" and info.audio_codec == "aac"
    assert info.pixel_format == "yuv420p"
    assert info.duration == pytest.approx(1.0, abs=0.1)
    same = await media.media_info(await asyncio.to_thread(sample_video.read_bytes))
    assert same.duration == pytest.approx(info.duration)


@needs_ffmpeg
async def test_probe_garbage_is_a_typed_error() -> None:
    with pytest.raises(media.ProbeError):
        await media.probe(b"\x00\x00\x00\x20ftypisom but nothing else")


@needs_ffmpeg
async def test_video_thumbnail_is_the_first_frame(sample_video: Path) -> None:
    thumb = await media.make_thumbnail(sample_video, fmt="JPEG")
    assert (thumb.mime_type, thumb.width, thumb.height) == ("image/jpeg", 160, 120)


@needs_ffmpeg
async def test_run_ffmpeg_reports_increasing_progress(tmp_path: Path) -> None:
    seen: list[int] = []

    async def progress(percent: int, stage: str) -> None:
        seen.append(percent)

    out = tmp_path / "out.mp4"
    await media.run_ffmpeg(
        ["-f", "lavfi", "-i", "testsrc=size=128x96:rate=25", "-t", "2", "-c:v", "libx264",
         "-preset", "ultrafast", str(out)],
        duration=2.0,
        progress=progress,
    )  # fmt: skip
    assert seen == sorted(seen) and seen[-1] == 100
    assert (await media.probe(out)).duration == pytest.approx(2.0, abs=0.1)


@needs_ffmpeg
async def test_run_ffmpeg_failure_carries_stderr(tmp_path: Path) -> None:
    with pytest.raises(media.FFmpegError) as caught:
        await media.run_ffmpeg(["-i", str(tmp_path / "missing.png"), str(tmp_path / "o.mp4")])
    assert "missing.png" in caught.value.stderr


def _running_ffmpeg_writing(path: Path) -> bool:
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if str(path).encode() in cmdline.read_bytes():
                return True
        except OSError:
            continue
    return False


ENDLESS = ["-re", "-f", "lavfi", "-i", "testsrc=size=64x64:rate=10", "-c:v", "libx264"]


@needs_ffmpeg
async def test_run_ffmpeg_cancel_flag_kills_promptly(tmp_path: Path) -> None:
    out = tmp_path / "endless.mp4"
    flag = asyncio.Event()
    task = asyncio.create_task(
        media.run_ffmpeg([*ENDLESS, str(out)], is_cancelled=lambda: _flag(flag), duration=60)
    )
    await asyncio.sleep(0.3)
    assert _running_ffmpeg_writing(out)
    flag.set()
    started = time.perf_counter()
    with pytest.raises(media.FFmpegCancelledError):
        await task
    assert time.perf_counter() - started < 10  # the encode itself would take 60 s
    assert not _running_ffmpeg_writing(out)


async def _flag(event: asyncio.Event) -> bool:
    return event.is_set()


@needs_ffmpeg
async def test_run_ffmpeg_task_cancellation_and_time_limit_kill_it(tmp_path: Path) -> None:
    out = tmp_path / "cancelled.mp4"
    task = asyncio.create_task(media.run_ffmpeg([*ENDLESS, str(out)]))
    await asyncio.sleep(0.3)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not _running_ffmpeg_writing(out)
    slow = tmp_path / "slow.mp4"
    with pytest.raises(media.FFmpegTimeoutError):
        await media.run_ffmpeg([*ENDLESS, str(slow)], time_limit=0.3)
    assert not _running_ffmpeg_writing(slow)
