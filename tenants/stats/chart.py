"""The ``/stats`` chart: a PNG drawn with Pillow (no plotting library, no new dependency).

Two panels share the days axis: lines on top (new and active fans), bars below (revenue in
Stars). Labels are drawn with a TrueType font that covers Latin, Cyrillic and Arabic (DejaVu
Sans, looked up in the usual places or set with ``ATELIER_CHART_FONT``); Arabic is shaped only
when Pillow has libraqm (``PIL.features.check("raqm")``) — otherwise its letters are drawn
unjoined, which the text caption under the photo makes up for. Without any TrueType font,
Pillow's built-in one draws Latin labels; the caller then passes English labels.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont, features

FontT = ImageFont.FreeTypeFont | ImageFont.ImageFont

WIDTH, HEIGHT = 1200, 720
MARGIN_LEFT, MARGIN_RIGHT = 90, 40
LINES_TOP, LINES_BOTTOM = 130, 420
BARS_TOP, BARS_BOTTOM = 470, 640
BACKGROUND = (255, 255, 255)
GRID = (230, 232, 238)
AXIS = (120, 124, 135)
TEXT = (33, 37, 41)
COLORS = ((59, 130, 246), (16, 185, 129), (245, 158, 11), (239, 68, 68))
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/local/share/fonts/DejaVuSans.ttf",
    "/Library/Fonts/DejaVuSans.ttf",
)


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: Sequence[int]


def find_font(configured: str | None = None) -> str | None:
    """The TrueType font for labels: the configured one if it exists, else DejaVu Sans."""
    for candidate in (configured, *FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


@lru_cache(maxsize=16)
def _font(path: str | None, size: int) -> FontT:
    if path is None:
        return ImageFont.load_default(size)
    engine = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    return ImageFont.truetype(path, size, layout_engine=engine)


def has_scalable_font(configured: str | None = None) -> bool:
    return find_font(configured) is not None


GRID_LINES = 4


def nice_ceiling(value: int) -> int:
    """A round axis maximum at or above ``value`` whose quarters are round too: four grid
    steps of 1, 2, 2.5 or 5 × 10ⁿ (integers only)."""
    if value <= 0:
        return GRID_LINES
    needed = value / GRID_LINES
    exponent = 1
    while True:
        for step in (exponent, 2 * exponent, 5 * exponent // 2, 5 * exponent):
            if step >= needed:
                return GRID_LINES * step
        exponent *= 10


def render(
    *,
    title: str,
    days: Sequence[date],
    lines: Sequence[Series],
    bars: Series | None,
    font_path: str | None = None,
) -> bytes:
    """The chart as PNG bytes."""
    image = Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(image)
    path = find_font(font_path)
    draw.text((MARGIN_LEFT, 24), title, fill=TEXT, font=_font(path, 30))
    small = _font(path, 16)
    _legend(draw, [*lines, *([bars] if bars else [])], small)
    _line_panel(draw, days, lines, small)
    if bars is not None:
        _bar_panel(draw, days, bars, small)
    _x_labels(draw, days, small)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def _x(days: Sequence[date], index: int) -> float:
    """The centre of the day's slot (bars fit inside the plot at both ends)."""
    span = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    return MARGIN_LEFT + span * (index + 0.5) / max(len(days), 1)


def _legend(draw: ImageDraw.ImageDraw, series: Sequence[Series], font: FontT) -> None:
    x = MARGIN_LEFT
    for n, item in enumerate(series):
        color = COLORS[n % len(COLORS)]
        draw.rectangle((x, 82, x + 16, 98), fill=color)
        draw.text((x + 24, 80), item.label, fill=TEXT, font=font)
        x += 48 + int(draw.textlength(item.label, font=font))


def _grid(draw: ImageDraw.ImageDraw, top: int, bottom: int, maximum: int, font: FontT) -> None:
    for step in range(GRID_LINES + 1):
        value = maximum * step // GRID_LINES
        y = bottom - (bottom - top) * step / GRID_LINES
        draw.line((MARGIN_LEFT, y, WIDTH - MARGIN_RIGHT, y), fill=GRID, width=1)
        label = f"{value:,}"
        width = draw.textlength(label, font=font)
        draw.text((MARGIN_LEFT - 12 - width, y - 9), label, fill=AXIS, font=font)
    draw.line((MARGIN_LEFT, bottom, WIDTH - MARGIN_RIGHT, bottom), fill=AXIS, width=2)


def _line_panel(
    draw: ImageDraw.ImageDraw, days: Sequence[date], lines: Sequence[Series], font: FontT
) -> None:
    maximum = nice_ceiling(max((max(s.values, default=0) for s in lines), default=0))
    _grid(draw, LINES_TOP, LINES_BOTTOM, maximum, font)
    height = LINES_BOTTOM - LINES_TOP
    for n, series in enumerate(lines):
        color = COLORS[n % len(COLORS)]
        points = [
            (_x(days, i), LINES_BOTTOM - height * value / maximum)
            for i, value in enumerate(series.values)
        ]
        if len(points) > 1:
            draw.line(points, fill=color, width=4, joint="curve")
        for x, y in points:
            draw.ellipse((x - 4, y - 4, x + 4, y + 4), fill=color)


def _bar_panel(draw: ImageDraw.ImageDraw, days: Sequence[date], bars: Series, font: FontT) -> None:
    maximum = nice_ceiling(max(bars.values, default=0))
    _grid(draw, BARS_TOP, BARS_BOTTOM, maximum, font)
    span = (WIDTH - MARGIN_LEFT - MARGIN_RIGHT) / max(len(days), 1)
    half = max(span * 0.35, 1.5)
    color = COLORS[2]
    for i, value in enumerate(bars.values):
        if value <= 0:
            continue
        x = _x(days, i)
        top = BARS_BOTTOM - (BARS_BOTTOM - BARS_TOP) * value / maximum
        draw.rectangle((x - half, top, x + half, BARS_BOTTOM - 1), fill=color)


def _x_labels(draw: ImageDraw.ImageDraw, days: Sequence[date], font: FontT) -> None:
    if not days:
        return
    every = max(1, math.ceil(len(days) / 10))
    for i, day in enumerate(days):
        if i % every and i != len(days) - 1:
            continue
        label = f"{day:%m-%d}"
        width = draw.textlength(label, font=font)
        draw.text((_x(days, i) - width / 2, BARS_BOTTOM + 12), label, fill=AXIS, font=font)
