"""The pieces on their own: Telegram HTML and buttons, the Redis limits of one bot and the
daily quota (real Redis, and the in-process stand-in of ``atelier dev``)."""

from __future__ import annotations

import pytest
from arq.connections import ArqRedis

from core.redis import create_memory_redis
from jobs.broadcasts.formatting import InvalidContentError, check_buttons, check_text
from jobs.broadcasts.ratelimit import Limiter, Limits, today


@pytest.mark.parametrize(
    "html",
    [
        "<b>bold</b> <i>it</i> <u>u</u> <s>s</s> <tg-spoiler>x</tg-spoiler>",
        '<span class="tg-spoiler">x</span> <a href="https://e.example/a?b=1&amp;c=2">l</a>',
        '<pre><code class="language-python">print(1 &lt; 2)</code></pre> &#128512; &quot;q&quot;',
        '<blockquote expandable>quote</blockquote> tg link <a href="tg://user?id=1">me</a>',
    ],
)
def test_telegram_html_is_accepted(html: str) -> None:
    assert check_text(html, caption=False) == html


@pytest.mark.parametrize(
    ("html", "reason"),
    [
        ("<script>x</script>", "not supported"),
        ("<b>open", "never closed"),
        ("<b><i>x</b></i>", "does not close"),
        ("a < b", "&lt;"),
        ("fish & chips", "&amp;"),
        ("&nbsp;", "&amp;"),
        ('<a href="javascript:alert(1)">x</a>', "http"),
        ('<span class="red">x</span>', "tg-spoiler"),
        ('<b style="x">x</b>', "attribute"),
        ("<br/>", "not supported"),
        ("   ", "empty"),
        ("x" * 4097, "4096"),
    ],
)
def test_what_telegram_would_refuse_is_refused(html: str, reason: str) -> None:
    with pytest.raises(InvalidContentError, match=reason):
        check_text(html, caption=False)


def test_limits_count_visible_text_in_utf16() -> None:
    check_text("<b>" + "x" * 4096 + "</b>", caption=False)
    check_text("😀" * 512, caption=True)  # two UTF-16 units each: exactly 1024
    with pytest.raises(InvalidContentError, match="1024"):
        check_text("😀" * 513, caption=True)
    assert check_text("", caption=True) == ""  # a photo may go without a caption


def test_buttons() -> None:
    rows = check_buttons([[("Shop", "https://shop.example"), ("Me", "tg://user?id=5")], []])
    assert rows == [
        [{"text": "Shop", "url": "https://shop.example"}, {"text": "Me", "url": "tg://user?id=5"}]
    ]
    for bad in (
        [[("", "https://a.example")]],
        [[("x" * 65, "https://a.example")]],
        [[("ok", "ftp://a.example")]],
        [[("ok", "https://")]],
        [[("ok", "https://a.example")] * 5],
        [[("ok", "https://a.example")]] * 9,
    ):
        with pytest.raises(InvalidContentError):
            check_buttons(bad)


@pytest.fixture(params=["redis", "memory"])
async def redis(request: pytest.FixtureRequest, arq_redis: ArqRedis) -> ArqRedis:
    if request.param == "redis":
        return arq_redis
    return create_memory_redis()


async def test_a_429_pauses_that_bot_only(redis: ArqRedis) -> None:
    limiter = Limiter(redis, Limits(rate=10, burst=2, chat_interval=0))
    assert await limiter.try_acquire(1, 100) == 0
    await limiter.pause(1, 2.0)
    assert 1.5 < await limiter.try_acquire(1, 101) <= 2.0
    await limiter.pause(1, 0.5)  # a shorter pause never shortens a longer one
    assert await limiter.paused_for(1) > 1.5
    assert await limiter.try_acquire(2, 100) == 0  # another tenant's bot: untouched


async def test_the_bucket_paces_a_bot_and_spaces_a_chat(redis: ArqRedis) -> None:
    limiter = Limiter(redis, Limits(rate=10, burst=2, chat_interval=1.0))
    assert await limiter.try_acquire(7, 1) == 0
    assert await limiter.try_acquire(7, 2) == 0
    wait = await limiter.try_acquire(7, 3)
    assert 0 < wait <= 0.1  # the burst is spent: one more every 1/10 s
    assert 0.5 < await limiter.try_acquire(7, 1) <= 1.0  # this chat got one just now


async def test_daily_quota(redis: ArqRedis) -> None:
    limiter = Limiter(redis, Limits())
    day = today()
    assert [await limiter.reserve(5, 2, day) for _ in range(3)] == [True, True, False]
    await limiter.refund(5, day)
    assert await limiter.reserve(5, 2, day)
    assert await limiter.used(5) == 2
    assert await limiter.reserve(6, None, day)  # unlimited plan
