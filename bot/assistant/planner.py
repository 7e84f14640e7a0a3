"""The offline planner: plain words → a workflow, without an LLM (embedded mode, no key).

It handles the same kinds of request the LLM plans, in English, Turkish, Russian and Arabic:
pictures, video (from a picture, or straight from words), sounds and music, speech, adding
a sound track to a video, and upscaling. The sentence is cut into clauses ("…, turn it into a
5 second video and add space sounds"), each clause is matched to what it asks for by keyword
stems, and what remains of a clause once its keywords and filler verbs are gone becomes that
step's prompt. Durations ("5 second", "5 saniye", "5 секунд", "٥ ثوان") apply to video and
sound. Anything without a media keyword is not a plan (the assistant just chats).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SECONDS = 5
MAX_SECONDS = 10

# Stems matched at the start of a word (lower case). Order inside a list does not matter.
KEYWORDS: dict[str, tuple[str, ...]] = {
    "speech": (
        "say",
        "speak",
        "read aloud",
        "pronounce",
        "voiceover",
        "voice over",
        "narrate",
        "seslendir",
        "söyle",
        "sesli oku",
        "озвуч",
        "скажи",
        "произнеси",
        "прочитай",
        "зачитай",
        "قل",
        "انطق",
        "اقرأ",
        "اقرا",
    ),
    "upscale": (
        "upscale",
        "enlarge",
        "sharpen",
        "büyüt",
        "netleştir",
        "çözünürlü",
        "увелич",
        "апскейл",
        "улучши качество",
        "كبر",
        "تكبير",
        "وضوح",
    ),
    "video": (
        "video",
        "animat",
        "movie",
        "clip",
        "film",
        "canlandır",
        "animasyon",
        "видео",
        "аним",
        "оживи",
        "ролик",
        "клип",
        "فيديو",
        "فديو",
        "حرك",
        "تحريك",
        "متحرك",
    ),
    "sound": (
        "sound",
        "audio",
        "music",
        "noise",
        "soundtrack",
        "song",
        "melody",
        "ses",
        "müzik",
        "şarkı",
        "melodi",
        "звук",
        "музык",
        "аудио",
        "мелоди",
        "песн",
        "шум",
        "صوت",
        "أصوات",
        "اصوات",
        "موسيق",
        "لحن",
        "أغني",
    ),
    "image": (
        "draw",
        "image",
        "picture",
        "photo",
        "paint",
        "illustrat",
        "sketch",
        "portrait",
        "çiz",
        "resim",
        "görsel",
        "fotoğraf",
        "boya",
        "portre",
        "нарисуй",
        "рису",
        "картин",
        "изображ",
        "фото",
        "портрет",
        "ارسم",
        "رسم",
        "صورة",
        "صوره",
        "لوحة",
    ),
}

# Words that say how, not what: dropped from the prompts.
FILLER = (
    "please",
    "can you",
    "could you",
    "i want",
    "i'd like",
    "make me",
    "make",
    "create",
    "generate",
    "turn it into",
    "turn this into",
    "turn",
    "it into",
    "into",
    "add",
    "with",
    "a",
    "an",
    "the",
    "of",
    "me",
    "some",
    "it",
    "then",
    "also",
    "to it",
    "for it",
    "long",
    "compose",
    "for",
    "play",
    "lütfen",
    "bana",
    "bir",
    "yap",
    "oluştur",
    "üret",
    "ekle",
    "ona",
    "onu",
    "dönüştür",
    "saniyelik",
    "uzunluğunda",
    "ve",
    "sonra",
    "de",
    "da",
    "пожалуйста",
    "сделай",
    "создай",
    "сгенерируй",
    "добавь",
    "к нему",
    "из него",
    "его",
    "превратите",
    "преврати",
    "это",
    "мне",
    "и",
    "потом",
    "затем",
    "длиной",
    "секундное",
    "секундный",
    "секундную",
    "секундн",
    "من فضلك",
    "اصنع",
    "أنشئ",
    "انشئ",
    "حول",
    "حوله",
    "إلى",
    "الى",
    "أضف",
    "اضف",
    "له",
    "لي",
    "ثم",
    "مدته",
    "مدتها",
    "مع",
)

SPLIT = re.compile(
    r"\s*(?:[,;.!?،؛]|\band then\b|\bthen\b|\band\b|\bve\b|\bsonra\b|\bardından\b"
    r"|\bи\b|\bзатем\b|\bпотом\b|\bа также\b|(?<!\S)ثم(?!\S)|(?<!\S)و(?=\S))\s*",
    re.IGNORECASE,
)
DURATION = re.compile(
    r"(\d+(?:[.,]\d+)?)\s*-?\s*(?:seconds?|secs?|s\b|saniye\w*|сек\w*|ثوان\w*|ثانية|ثواني)",
    re.IGNORECASE,
)
QUOTED = re.compile(r"[\"“«„']([^\"”»“']+)[\"”»“']")
ARABIC_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


@dataclass(frozen=True, slots=True)
class Plan:
    """Steps for :func:`jobs.generation.workflows.start_workflow`, and what they are."""

    steps: list[dict[str, Any]]
    kinds: list[str] = field(default_factory=list)


def _at_word_start(stems: tuple[str, ...], tail: str = "") -> re.Pattern[str]:
    """One pattern for "a word starting with any of these stems" (``tail`` extends it)."""
    return re.compile(rf"(?<![\w])(?:{'|'.join(re.escape(stem) for stem in stems)}){tail}")


# Compiled once: the planner sees every free-text message, so its patterns must not be built
# per message (that cost most of a plain-text update). ``_ANY_STEM`` answers the common case —
# small talk with no media stem anywhere — with one search; it looks for stems anywhere (not
# only at word starts) because a clause may start mid-word (Arabic "و" is cut off its word).
_KIND = {kind: _at_word_start(stems) for kind, stems in KEYWORDS.items()}
_ANY_STEM = re.compile("|".join(re.escape(s) for stems in KEYWORDS.values() for s in stems))
_MUSIC = _at_word_start(("music", "müzik", "музык"))
# _strip removes stems one after another (each removal can expose a new word start), so it
# keeps one pattern per stem, in the order of KEYWORDS; fillers go longest first.
_STEM_WORDS = {
    kind: tuple(_at_word_start((stem,), r"\w*") for stem in stems)
    for kind, stems in KEYWORDS.items()
}
_FILLER_WORDS = tuple(
    _at_word_start((word,), r"(?![\w])") for word in sorted(FILLER, key=len, reverse=True)
)
_SPACES = re.compile(r"\s+")


def _has(clause: str, kind: str) -> bool:
    return _KIND[kind].search(clause) is not None


def _strip(clause: str, kinds: tuple[str, ...] = tuple(KEYWORDS)) -> str:
    """The clause without keywords (whole words starting with a stem), filler and numbers."""
    text = DURATION.sub(" ", clause)
    for kind in kinds:
        for pattern in _STEM_WORDS[kind]:
            text = pattern.sub(" ", text)
    for pattern in _FILLER_WORDS:
        text = pattern.sub(" ", text)
    return _SPACES.sub(" ", text).strip(" -–—:")


def seconds_in(text: str) -> int | None:
    match = DURATION.search(text.translate(ARABIC_DIGITS))
    if match is None:
        return None
    value = float(match.group(1).replace(",", "."))
    return max(1, min(MAX_SECONDS, round(value)))


def plan(text: str) -> Plan | None:
    """A plan for a media request, or None when the text asks for no media."""
    original = text.strip()
    lowered = original.translate(ARABIC_DIGITS).lower()
    if _ANY_STEM.search(lowered) is None:
        return None  # no media stem anywhere: no clause can ask for media
    clauses = [c for c in SPLIT.split(lowered) if c and c.strip()]
    wants = {kind: [c for c in clauses if _has(c, kind)] for kind in KEYWORDS}
    if not any(wants.values()):
        return None
    seconds = seconds_in(lowered) or DEFAULT_SECONDS
    if wants["speech"] and not (wants["image"] or wants["video"]):
        quoted = QUOTED.search(original)
        words = quoted.group(1) if quoted else _strip(wants["speech"][0], ("speech",))
        return Plan([_step("text-to-speech", text=words or original)], ["speech"])

    subject = _subject(wants, clauses)
    steps: list[dict[str, Any]] = []
    kinds: list[str] = []
    video_at: int | None = None
    if wants["image"] or (wants["upscale"] and not wants["video"]):
        steps.append(_step("image-generate", prompt=subject))
        kinds.append("image")
        if wants["upscale"]:
            steps.append(_step("image-upscale", image="$steps.0.output"))
            kinds.append("upscale")
        if wants["video"]:
            steps.append(
                _step("video-from-image", image=f"$steps.{len(steps) - 1}.output", duration=seconds)
            )
            kinds.append("video")
            video_at = len(steps) - 1
    elif wants["video"]:
        steps.append(_step("video-from-text", prompt=subject, duration=seconds))
        kinds.append("video")
        video_at = 0
    if wants["sound"]:
        sound = _strip(wants["sound"][0], ("video", "image")) or subject
        music = any(_MUSIC.search(clause) for clause in wants["sound"])
        tool = "music-loop" if music else "sound-effect"
        steps.append(_step(tool, prompt=sound, duration=seconds))
        kinds.append("sound")
        if video_at is not None:
            steps.append(
                _step(
                    "video-add-audio",
                    video=f"$steps.{video_at}.output",
                    audio=f"$steps.{len(steps) - 1}.output",
                )
            )
            kinds.append("merge")
    if not steps:
        return None
    return Plan(steps, kinds)


def _subject(wants: dict[str, list[str]], clauses: list[str]) -> str:
    """What to picture: the image clause (else the video clause) without its keywords."""
    for kind in ("image", "video", "upscale"):
        for clause in wants[kind]:
            words = _strip(clause)
            if words:
                return words
    return _strip(" ".join(clauses)) or "something beautiful"


def _step(tool: str, **params: Any) -> dict[str, Any]:
    return {"tool": tool, "params": params}
