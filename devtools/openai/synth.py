"""Tiny media for the fake OpenAI server: a PNG per prompt and speech-like WAV tones.

Deliberately separate from the product's offline provider (devtools must not import product
code); this only has to be valid media that the SDK and our adapter can carry.
"""

from __future__ import annotations

import array
import colorsys
import hashlib
import io
import math
import re
import struct
import sys

from PIL import Image, ImageDraw

__all__ = ["SPEECH_RATE", "png_for_prompt", "read_transcript", "speech_wav", "wav_duration"]

SPEECH_RATE = 24_000
_TAG = b"atelier-transcript:"


def png_for_prompt(prompt: str, width: int, height: int, fmt: str = "PNG") -> bytes:
    """A two-colour gradient with a few discs, colours from the prompt's hash."""
    digest = hashlib.sha256(prompt.encode()).digest()
    hue = digest[0] / 255

    def colour(shift: float, light: float) -> tuple[int, int, int]:
        r, g, b = colorsys.hls_to_rgb((hue + shift) % 1, light, 0.7)
        return round(r * 255), round(g * 255), round(b * 255)

    mask = Image.linear_gradient("L").resize((width, height))
    image = Image.composite(
        Image.new("RGB", (width, height), colour(0.1, 0.6)),
        Image.new("RGB", (width, height), colour(0.0, 0.3)),
        mask,
    )
    draw = ImageDraw.Draw(image)
    for i in range(4):
        x, y = digest[1 + i] / 255 * width, digest[5 + i] / 255 * height
        r = (0.05 + digest[9 + i] / 255 * 0.15) * min(width, height)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour(0.5, 0.55))
    draw.text((8, height - 20), prompt[:60], fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


def speech_pcm(text: str, voice: str, speed: float = 1.0) -> bytes:
    """Signed 16-bit mono PCM at 24 kHz: one tone burst per syllable-ish vowel group."""
    f0 = 100 + hashlib.sha256(voice.encode()).digest()[0] / 255 * 120
    samples: list[float] = [0.0] * int(0.1 * SPEECH_RATE)
    for word in re.findall(r"[\w']+", text) or ["..."]:
        for syllable in range(max(1, len(re.findall(r"[aeiouy]+", word, re.IGNORECASE)))):
            length = int(0.16 / speed * SPEECH_RATE)
            pitch = f0 * (1 + 0.05 * (syllable % 2))
            samples += [
                math.sin(math.pi * k / length) * math.sin(math.tau * pitch * k / SPEECH_RATE)
                for k in range(length)
            ]
        samples += [0.0] * int(0.07 / speed * SPEECH_RATE)
    samples += [0.0] * int(0.1 * SPEECH_RATE)
    pcm = array.array("h", (int(s * 20000) for s in samples))
    if sys.byteorder == "big":
        pcm.byteswap()
    return pcm.tobytes()


def speech_wav(text: str, voice: str, speed: float = 1.0) -> bytes:
    """A WAV whose LIST/INFO/ICMT chunk carries ``text``, so transcription can round-trip."""
    pcm = speech_pcm(text, voice, speed)
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, SPEECH_RATE, SPEECH_RATE * 2, 2, 16)
    data = struct.pack("<4sI", b"data", len(pcm)) + pcm
    comment = _TAG + text.encode() + b"\x00"
    if len(comment) % 2:
        comment += b"\x00"
    info = b"INFO" + struct.pack("<4sI", b"ICMT", len(comment)) + comment
    body = b"WAVE" + fmt + data + struct.pack("<4sI", b"LIST", len(info)) + info
    return struct.pack("<4sI", b"RIFF", len(body)) + body


def _chunks(data: bytes, start: int, end: int) -> list[tuple[bytes, bytes]]:
    found, pos = [], start
    while pos + 8 <= end:
        chunk_id, size = struct.unpack_from("<4sI", data, pos)
        found.append((chunk_id, data[pos + 8 : pos + 8 + size]))
        pos += 8 + size + size % 2
    return found


def read_transcript(data: bytes) -> str | None:
    """The text carried by a WAV made by :func:`speech_wav` (or the offline provider)."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    for chunk_id, body in _chunks(data, 12, len(data)):
        if chunk_id == b"LIST" and body[:4] == b"INFO":
            for sub_id, value in _chunks(body, 4, len(body)):
                value = value.rstrip(b"\x00")
                if sub_id == b"ICMT" and value.startswith(_TAG):
                    return value[len(_TAG) :].decode("utf-8", errors="replace")
    return None


def wav_duration(data: bytes) -> float | None:
    """Duration of a PCM WAV from its fmt/data chunks; None for anything else."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    byte_rate, frames_bytes = 0, 0
    for chunk_id, body in _chunks(data, 12, len(data)):
        if chunk_id == b"fmt " and len(body) >= 12:
            byte_rate = struct.unpack_from("<I", body, 8)[0]
        elif chunk_id == b"data":
            frames_bytes = len(body)
    return frames_bytes / byte_rate if byte_rate else None
