"""The /stats chart: a decodable PNG for any data (empty, one day, 90 days, any script), with
round axis maxima."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from PIL import Image

from tenants.stats import chart


@pytest.mark.parametrize(
    ("value", "maximum"),
    [(0, 4), (3, 4), (5, 8), (12, 20), (40, 40), (99, 100), (225, 400), (900, 1000)],
)
def test_axis_maxima_are_round_in_quarters(value: int, maximum: int) -> None:
    assert chart.nice_ceiling(value) == maximum


@pytest.mark.parametrize("length", [0, 1, 7, 90])
def test_every_shape_of_data_renders(length: int) -> None:
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(length)]
    png = chart.render(
        title="آخر 90 يومًا · последние дни",
        days=days,
        lines=[chart.Series("Новые", [n % 7 for n in range(length)])],
        bars=chart.Series("الإيرادات", [n * 10 for n in range(length)]),
    )
    image = Image.open(io.BytesIO(png))
    image.load()
    assert (image.format, image.size) == ("PNG", (chart.WIDTH, chart.HEIGHT))
    # Something was drawn besides the background.
    assert len(image.convert("RGB").getcolors(maxcolors=100_000) or []) > 3
