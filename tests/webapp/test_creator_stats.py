"""The creator panel's dashboard and stats in the browser: key numbers and the bot's status,
then hand-made SVG charts for 7, 30 and 90 days (a line with a point per day, a bar per day,
axes, a tooltip on tap), mirrored in Arabic. The daily rollups are seeded as the worker's
backfill would leave them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from core.db import session_scope
from core.models import TenantDailyStat
from tests.webapp.conftest import BROWSER, MiniApp, OpenApp

pytestmark = BROWSER

CHART = """(testId) => {
  const figure = document.querySelector(`[data-testid=${testId}]`);
  const lines = [...figure.querySelectorAll('path.line')].map((p) => p.getTotalLength());
  const first = figure.querySelector('g.series');
  return {
    lines,
    points: first ? first.querySelectorAll('circle').length : 0,
    bars: figure.querySelectorAll('[data-testid=bar]').length,
    axes: figure.querySelectorAll('[data-testid=x-axis], [data-testid=y-axis]').length,
  };
}"""

POINT_X = """(testId) => [...document.querySelector(`[data-testid=${testId}] g.series`)
  .querySelectorAll('circle')].map((c) => c.getBoundingClientRect().x)"""


async def seed_rollups(app: MiniApp, days: int = 90) -> None:
    today = datetime.now(UTC).date()
    async with session_scope(app.platform.session_factory) as session:
        for back in range(days):
            day = today - timedelta(days=back)
            values = {
                "users.new": 3 + back % 5,
                "users.active": 10 + (back * 7) % 13,
                "users.total": 400 - back * 3,
                "revenue.credits": (back % 4) * 50,
                "revenue.ppv": (back % 3) * 25,
                "jobs.created": 20 + back % 9,
            }
            for metric, value in values.items():
                session.add(
                    TenantDailyStat(
                        tenant_id=app.fan.tenant_id, day=day, metric=metric, value=value
                    )
                )


async def chart(page: Any, test_id: str) -> dict[str, Any]:
    result: dict[str, Any] = await page.evaluate(CHART, test_id)
    return result


async def test_dashboard_and_charts_for_7_30_90_days(open_app: OpenApp) -> None:
    app = await open_app(owner=True)
    await seed_rollups(app)
    page = app.page
    await page.get_by_test_id("tab-creator").click()
    dashboard = page.get_by_test_id("dashboard")
    await (
        dashboard.get_by_test_id("bot-status")
        .filter(has_text=f"@{app.fan.bot.username}")
        .wait_for()
    )
    await dashboard.get_by_test_id("kpi-users").filter(has_text="400").wait_for()
    await app.screenshot("creator-dashboard")

    await page.get_by_test_id("section-stats").click()
    for days in (7, 30, 90):
        await page.get_by_test_id(f"period-{days}").click()
        await page.locator(f"[data-testid=chart-fans][data-days='{days}']").wait_for()
        fans = await chart(page, "chart-fans")
        assert len(fans["lines"]) == 2 and all(length > 0 for length in fans["lines"]), fans
        assert fans["points"] == days and fans["axes"] == 2, fans
        revenue = await chart(page, "chart-revenue")
        assert revenue["bars"] == days and revenue["axes"] == 2, revenue
        jobs = await chart(page, "chart-jobs")
        assert jobs["points"] == days and jobs["lines"][0] > 0, jobs
        await app.screenshot(f"creator-stats-{days}")

    await page.get_by_test_id("period-7").click()
    await page.locator("[data-testid=chart-fans][data-days='7']").wait_for()
    svg = page.get_by_test_id("chart-revenue").locator("svg")
    box = await svg.bounding_box()
    assert box is not None
    await page.mouse.click(box["x"] + box["width"] - 20, box["y"] + box["height"] / 2)
    tooltip = page.get_by_test_id("chart-revenue").get_by_test_id("chart-tooltip")
    await tooltip.wait_for()
    today = datetime.now(UTC).date()
    assert "Total" in await tooltip.inner_text()
    assert str(today.day) in await tooltip.inner_text()  # the last bar is today
    xs = await page.evaluate(POINT_X, "chart-fans")
    assert xs == sorted(xs), "time runs left to right"
    await app.screenshot("creator-stats-tooltip")

    await page.get_by_test_id("language").select_option("ar")
    await page.get_by_test_id("chart-fans").filter(has_text="المعجبون يوميًا").wait_for()
    xs = await page.evaluate(POINT_X, "chart-fans")
    assert xs == sorted(xs, reverse=True), "in Arabic, time runs right to left"
    await app.screenshot("creator-stats-ar")
    assert not app.errors, app.errors
