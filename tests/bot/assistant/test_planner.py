"""The offline planner: one sentence per language → the right steps and durations."""

from __future__ import annotations

import pytest

from bot.assistant.planner import plan

DOG_CHAIN = ["image-generate", "video-from-image", "sound-effect", "video-add-audio"]


@pytest.mark.parametrize(
    ("sentence", "subject", "sound"),
    [
        (
            "draw a dog in space, turn it into a 5 second video and add space sounds",
            "dog in space",
            "space sounds",
        ),
        (
            "uzayda bir köpek çiz, onu 5 saniyelik bir videoya dönüştür ve uzay sesleri ekle",
            "uzayda köpek",
            "uzay sesleri",
        ),
        (
            "нарисуй собаку в космосе, сделай из него 5-секундное видео и добавь космические звуки",
            "собаку в космосе",
            "космические звуки",
        ),
        (
            "ارسم كلبا في الفضاء ثم حوله إلى فيديو مدته ٥ ثوان وأضف أصوات الفضاء",
            "كلبا في الفضاء",
            "أصوات الفضاء",
        ),
    ],
)
def test_the_dog_in_space_chain_in_four_languages(sentence: str, subject: str, sound: str) -> None:
    found = plan(sentence)
    assert found is not None
    assert [s["tool"] for s in found.steps] == DOG_CHAIN
    assert found.kinds == ["image", "video", "sound", "merge"]
    image, video, audio, merge = (s["params"] for s in found.steps)
    assert image == {"prompt": subject}
    assert video == {"image": "$steps.0.output", "duration": 5}
    assert audio == {"prompt": sound, "duration": 5}
    assert merge == {"video": "$steps.1.output", "audio": "$steps.2.output"}


@pytest.mark.parametrize(
    ("sentence", "tools", "seconds"),
    [
        ("animate a cat surfing for 3 seconds", ["video-from-text"], 3),
        ("compose calm piano music for 8 seconds", ["music-loop"], 8),
        ("make a picture of a red fox and upscale it", ["image-generate", "image-upscale"], None),
        ('say "good morning, friends"', ["text-to-speech"], None),
        ("скажи «доброе утро»", ["text-to-speech"], None),
        ("bana 7 saniyelik yağmur sesi yap", ["sound-effect"], 7),
        ("ارسم قطة", ["image-generate"], None),
    ],
)
def test_other_requests(sentence: str, tools: list[str], seconds: int | None) -> None:
    found = plan(sentence)
    assert found is not None
    assert [s["tool"] for s in found.steps] == tools
    if seconds is not None:
        assert found.steps[-1]["params"]["duration"] == seconds


def test_speech_keeps_the_quoted_words() -> None:
    found = plan('say "good morning, friends"')
    assert found is not None and found.steps[0]["params"] == {"text": "good morning, friends"}


@pytest.mark.parametrize("sentence", ["hello, how are you?", "merhaba", "привет", "مرحبا"])
def test_small_talk_is_not_a_plan(sentence: str) -> None:
    assert plan(sentence) is None


def test_a_keyword_glued_to_arabic_and_still_counts() -> None:
    """Arabic "و" ("and") is written onto the next word: its clause starts mid-word, so the quick
    "no media word at all" check must not look only at word starts."""
    found = plan("قطة وفيديو")
    assert found is not None
    assert [s["tool"] for s in found.steps] == ["video-from-text"]
    assert found.steps[0]["params"]["prompt"] == "قطة"
