"""Sounds for the offline provider: effects, music and speech-like tones in pure Python.

No numpy and no ffmpeg needed, so audio works everywhere ``atelier dev`` runs. Durations are
exact to the sample. Speech WAVs carry their text in a RIFF ``LIST/INFO/ICMT`` chunk, which
lets the offline speech-to-text give back the words that were "spoken".
"""

from __future__ import annotations

import array
import hashlib
import math
import random
import re
import struct
import sys

__all__ = [
    "SAMPLE_RATE",
    "read_wav_transcript",
    "render_effect",
    "render_music",
    "render_speech",
    "wav_bytes",
]

SAMPLE_RATE = 22050
_TRANSCRIPT_TAG = b"atelier-transcript:"
_WORD = re.compile(r"[\w']+|[.!?;,:]")
_VOWEL_GROUPS = re.compile(r"[aeiouyаеёиоуыэюя]+", re.IGNORECASE)
_PENTATONIC = (0, 2, 4, 7, 9)


def _rng(*parts: str | int) -> random.Random:
    return random.Random(hashlib.sha256("\x00".join(map(str, parts)).encode()).digest())


def _to_pcm16(samples: list[float]) -> bytes:
    peak = max(1e-9, max((abs(s) for s in samples), default=0.0))
    gain = 0.85 * 32767 / peak if peak > 0.001 else 0.0
    pcm = array.array("h", (int(s * gain) for s in samples))
    if sys.byteorder == "big":
        pcm.byteswap()
    return pcm.tobytes()


def wav_bytes(pcm: bytes, *, rate: int = SAMPLE_RATE, comment: str | None = None) -> bytes:
    """Build a mono 16-bit WAV; ``comment`` goes into a LIST/INFO/ICMT chunk after the data."""
    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 1, rate, rate * 2, 2, 16)
    data = struct.pack("<4sI", b"data", len(pcm)) + pcm + (b"\x00" if len(pcm) % 2 else b"")
    extra = b""
    if comment is not None:
        text = comment.encode() + b"\x00"
        if len(text) % 2:
            text += b"\x00"
        info = b"INFO" + struct.pack("<4sI", b"ICMT", len(text)) + text
        extra = struct.pack("<4sI", b"LIST", len(info)) + info
    body = b"WAVE" + fmt + data + extra
    return struct.pack("<4sI", b"RIFF", len(body)) + body


def read_wav_transcript(data: bytes) -> str | None:
    """Return the text a speech WAV of ours carries, or None for any other file."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    pos = 12
    while pos + 8 <= len(data):
        chunk_id, size = struct.unpack_from("<4sI", data, pos)
        body = data[pos + 8 : pos + 8 + size]
        if chunk_id == b"LIST" and body[:4] == b"INFO":
            sub = 4
            while sub + 8 <= len(body):
                sub_id, sub_size = struct.unpack_from("<4sI", body, sub)
                value = body[sub + 8 : sub + 8 + sub_size].rstrip(b"\x00")
                if sub_id == b"ICMT" and value.startswith(_TRANSCRIPT_TAG):
                    return value[len(_TRANSCRIPT_TAG) :].decode("utf-8", errors="replace")
                sub += 8 + sub_size + sub_size % 2
        pos += 8 + size + size % 2
    return None


def render_effect(prompt: str, *, seed: int, duration: float) -> bytes:
    """A sound effect: filtered noise under a pitch sweep, with a pulse for rhythmic prompts."""
    rng = _rng("effect", seed, prompt)
    count = round(duration * SAMPLE_RATE)
    start_hz, end_hz = rng.uniform(80, 900), rng.uniform(80, 1800)
    smoothing = rng.uniform(0.02, 0.3)
    pulse_hz = rng.choice([0.0, 2.0, 4.0, 6.0])
    noise_gain, tone_gain = rng.uniform(0.3, 0.8), rng.uniform(0.3, 0.8)
    noise = random.Random(rng.random())
    samples: list[float] = []
    append = samples.append
    low = 0.0
    phase = 0.0
    ratio = math.log(end_hz / start_hz)
    fade = max(1, min(count // 10, SAMPLE_RATE // 20))
    for i in range(count):
        t = i / count
        low += smoothing * (noise.uniform(-1, 1) - low)
        phase += math.tau * start_hz * math.exp(ratio * t) / SAMPLE_RATE
        value = noise_gain * low + tone_gain * math.sin(phase) * (1 - t)
        if pulse_hz:
            value *= 0.55 + 0.45 * math.sin(math.tau * pulse_hz * i / SAMPLE_RATE)
        envelope = min(1.0, i / fade, (count - i) / fade)
        append(value * envelope)
    return wav_bytes(_to_pcm16(samples))


def render_music(prompt: str, *, seed: int, duration: float) -> bytes:
    """A little pentatonic tune with a bass line; tempo and key come from the prompt."""
    rng = _rng("music", seed, prompt)
    count = round(duration * SAMPLE_RATE)
    beat = round(SAMPLE_RATE * 60 / rng.randint(84, 140) / 2)
    root = 220 * 2 ** (rng.randint(-5, 5) / 12)
    melody = [
        root * 2 ** ((_PENTATONIC[rng.randrange(5)] + 12 * rng.randint(0, 1)) / 12)
        for _ in range(16)
    ]
    samples = [0.0] * count
    for note_index, start in enumerate(range(0, count, beat)):
        freq = melody[note_index % len(melody)]
        bass = root / 2 * (1.5 if (note_index // 8) % 2 else 1.0)
        end = min(count, start + beat)
        for i in range(start, end):
            k = i - start
            env = math.exp(-4.0 * k / beat)
            t = i / SAMPLE_RATE
            samples[i] = env * (
                0.6 * math.sin(math.tau * freq * t) + 0.15 * math.sin(math.tau * 2 * freq * t)
            ) + 0.3 * math.sin(math.tau * bass * t)
    fade = max(1, min(count // 10, SAMPLE_RATE // 10))
    for i in range(min(fade, count)):
        samples[i] *= i / fade
        samples[count - 1 - i] *= i / fade
    return wav_bytes(_to_pcm16(samples))


def _syllables(word: str) -> int:
    return max(1, len(_VOWEL_GROUPS.findall(word)))


def speech_plan(text: str, *, speed: float = 1.0) -> list[tuple[float, int]]:
    """Split text into ``(seconds, syllables)`` segments; syllables 0 means a pause."""
    plan: list[tuple[float, int]] = [(0.12, 0)]
    for word in _WORD.findall(text):
        if word in ".!?;":
            plan.append((0.32 / speed, 0))
        elif word in ",:":
            plan.append((0.16 / speed, 0))
        else:
            syllables = _syllables(word)
            plan.append((0.17 * syllables / speed, syllables))
            plan.append((0.07 / speed, 0))
    plan.append((0.12, 0))
    return plan


def render_speech(
    text: str, *, voice: str = "alloy", speed: float = 1.0, duration: float | None = None
) -> tuple[bytes, float]:
    """Speech-like tone bursts, one per syllable, pitch from the voice; returns (WAV, seconds).

    With ``duration`` the same plan is stretched to fit exactly.
    """
    plan = speech_plan(text, speed=speed)
    natural = sum(seconds for seconds, _ in plan)
    stretch = duration / natural if duration else 1.0
    total = round((duration or natural) * SAMPLE_RATE)
    rng = _rng("voice", voice)
    f0 = rng.uniform(95, 230)
    weights = [1.0, rng.uniform(0.3, 0.8), rng.uniform(0.2, 0.6), 0.25, 0.15]
    question = text.rstrip().endswith("?")
    samples = [0.0] * total
    position = 0
    for seconds, syllables in plan:
        length = round(seconds * stretch * SAMPLE_RATE)
        if syllables:
            per = max(1, length // syllables)
            for s in range(syllables):
                start = position + s * per
                progress = start / max(1, total)
                pitch = f0 * (1.0 - 0.15 * progress + (0.25 * progress**4 if question else 0.0))
                pitch *= 1 + 0.06 * ((s % 2) - 0.5)
                for k in range(per):
                    i = start + k
                    if i >= total:
                        break
                    env = math.sin(math.pi * k / per) ** 1.5
                    t = i / SAMPLE_RATE
                    samples[i] = env * sum(
                        w * math.sin(math.tau * pitch * (h + 1) * t) for h, w in enumerate(weights)
                    )
        position += length
    wav = wav_bytes(_to_pcm16(samples), comment=_TRANSCRIPT_TAG.decode() + text)
    return wav, total / SAMPLE_RATE
