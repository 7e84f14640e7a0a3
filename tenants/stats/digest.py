"""The stats report in words and as a chart, in the reader's language (``t`` is their Texts)."""

from __future__ import annotations

from tenants.stats import chart
from tenants.stats.service import StatsReport
from tenants.tasks.levels import Translate

LATIN_SCRIPT_LANGUAGES = frozenset({"en", "tr"})


def summary(t: Translate, report: StatsReport, *, days: int) -> str:
    key = report.key
    return t(
        "stats.summary",
        days=days,
        new_users=key.new_users,
        total_users=key.total_users,
        active_today=key.active_today,
        active_average=key.active_average,
        revenue=key.revenue,
        jobs=key.jobs,
        credits_spent=key.credits_spent,
        tasks_completed=key.tasks_completed,
    )


def chart_png(t: Translate, report: StatsReport, *, days: int, font: str | None) -> bytes:
    """New and active fans as lines, revenue (every kind of sale) as bars."""
    revenue = [0] * len(report.days)
    for metric, values in report.series.items():
        if metric.startswith("revenue."):
            revenue = [a + b for a, b in zip(revenue, values, strict=True)]
    return chart.render(
        title=t("stats.chart_title", days=days),
        days=report.days,
        lines=[
            chart.Series(t("stats.legend_new"), report.values("users.new")),
            chart.Series(t("stats.legend_active"), report.values("users.active")),
        ],
        bars=chart.Series(t("stats.legend_revenue"), revenue),
        font_path=font,
    )


def chart_language(language: str, font: str | None) -> str:
    """The language the chart's labels can be drawn in: the reader's, unless only Pillow's
    built-in Latin font is available and their script is not Latin (then English)."""
    if language in LATIN_SCRIPT_LANGUAGES or chart.has_scalable_font(font):
        return language
    return "en"
