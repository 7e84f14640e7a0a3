/** Stats over 7, 30 or 90 days: key numbers against the period before, fans (line), revenue
 * by kind of sale (stacked bars) and generations (line). Read from the server's daily rollups. */

import { useState } from "react";
import * as creator from "../../api/creator";
import type { KeyNumbers, Period } from "../../api/creator";
import { useI18n, type Key } from "../../i18n";
import { ErrorView, Loading } from "../../ui/states";
import { useResource } from "../../ui/useResource";
import { BarChart, LineChart, type Series } from "./charts";
import { Stat, Stats } from "./common";
import "./creator.css";

const PERIODS: Period[] = [7, 30, 90];

const REVENUE_KEYS: Record<string, Key> = {
  "revenue.credits": "stats.revenue_credits",
  "revenue.ppv": "stats.revenue_ppv",
  "revenue.vip": "stats.revenue_vip",
  "revenue.ton": "stats.revenue_ton",
};

function Delta({ now, before }: { now: number; before: number }) {
  const { number } = useI18n();
  if (now === before) return null;
  const up = now > before;
  return (
    <span className={up ? "delta up" : "delta down"}>
      <bdi>
        {up ? "▲" : "▼"} {number(Math.abs(now - before))}
      </bdi>
    </span>
  );
}

function KeyNumbersGrid({ now, before }: { now: KeyNumbers; before: KeyNumbers }) {
  const { t } = useI18n();
  const items: [Key, keyof KeyNumbers][] = [
    ["stats.total_users", "total_users"],
    ["stats.new_users", "new_users"],
    ["stats.active_average", "active_average"],
    ["stats.revenue", "revenue"],
    ["stats.jobs", "jobs"],
    ["stats.tasks_completed", "tasks_completed"],
  ];
  return (
    <Stats>
      {items.map(([label, field]) => (
        <Stat key={field} label={t(label)} value={now[field]} testId={`kpi-${field}`} delta={<Delta now={now[field]} before={before[field]} />} />
      ))}
    </Stats>
  );
}

export default function StatsScreen() {
  const i18n = useI18n();
  const { t } = i18n;
  const [days, setDays] = useState<Period>(7);
  const data = useResource((signal) => creator.stats(days, signal), [days]);
  const report = data.data;
  const zeros = report ? report.dates.map(() => 0) : [];
  const series = (key: string, label: Key): Series => ({ key, label: t(label), values: report?.series[key] ?? zeros });
  const revenue: Series[] = report
    ? Object.keys(report.series)
        .filter((key) => key.startsWith("revenue."))
        .map((key) => ({ key, label: REVENUE_KEYS[key] ? t(REVENUE_KEYS[key] as Key) : key.slice(8), values: report.series[key] ?? zeros }))
    : [];
  return (
    <section className="stats stack" data-testid="stats">
      <div className="chips" role="tablist" aria-label={t("stats.period")}>
        {PERIODS.map((period) => (
          <button key={period} type="button" role="tab" className="chip" aria-selected={period === days} onClick={() => setDays(period)} data-testid={`period-${period}`}>
            {t("stats.days", { days: period })}
          </button>
        ))}
      </div>
      {data.error ? (
        <ErrorView error={data.error} onRetry={data.reload} />
      ) : !report || report.days !== days ? (
        <Loading />
      ) : (
        <>
          <KeyNumbersGrid now={report.key_numbers} before={report.previous} />
          <LineChart title={t("stats.fans_chart")} dates={report.dates} series={[series("users.active", "stats.active"), series("users.new", "stats.new_users")]} testId="chart-fans" />
          <BarChart title={t("stats.revenue_chart")} dates={report.dates} series={revenue.length ? revenue : [{ key: "revenue", label: t("stats.revenue"), values: zeros }]} testId="chart-revenue" />
          <LineChart title={t("stats.jobs_chart")} dates={report.dates} series={[series("jobs.created", "stats.jobs")]} testId="chart-jobs" />
          {report.updated_at && <span className="muted small">{t("stats.updated", { date: i18n.date(report.updated_at) })}</span>}
        </>
      )}
    </section>
  );
}
