/**
 * Hand-made SVG charts (a chart library would outweigh the whole panel): a line chart and a
 * stacked bar chart over days, with a y axis of round ticks, a few date labels, and a tooltip
 * on tap or hover. Right-to-left languages run time from right to left and put the y axis on
 * the right, as their readers expect; the geometry does the mirroring, so the SVG itself stays
 * `direction="ltr"` (otherwise `text-anchor` start/end would flip a second time).
 */

import { useId, useMemo, useRef, useState, type PointerEvent } from "react";
import { useI18n } from "../../i18n";

export interface Series {
  key: string;
  label: string;
  values: number[];
}

export const PALETTE = ["var(--tg-theme-button-color)", "#2e9e4f", "#e8a317", "#c2185b", "#7b61ff", "#00897b"];

const W = 360;
const H = 190;
const PAD = { top: 12, bottom: 24, axis: 34, end: 8 };
const PLOT_H = H - PAD.top - PAD.bottom;

/** A round maximum (1, 2, 2.5, 5 × 10^n) so the ticks read well. */
export function niceMax(value: number): number {
  if (value <= 0) return 4;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * power >= value) return step * power;
  }
  return 10 * power;
}

interface Geometry {
  x: (index: number) => number;
  y: (value: number) => number;
  step: number;
  max: number;
  axisX: number;
  rtl: boolean;
}

function geometry(count: number, max: number, rtl: boolean, bars: boolean): Geometry {
  const start = rtl ? W - PAD.axis : PAD.axis;
  const width = W - PAD.axis - PAD.end;
  const step = bars ? width / Math.max(count, 1) : width / Math.max(count - 1, 1);
  const offset = bars ? step / 2 : 0;
  const top = niceMax(max);
  return {
    x: (i) => (rtl ? start - offset - i * step : start + offset + i * step),
    y: (v) => PAD.top + PLOT_H - (v / top) * PLOT_H,
    step,
    max: top,
    axisX: start,
    rtl,
  };
}

function Axes({ g, dates }: { g: Geometry; dates: string[] }) {
  const { number, lang } = useI18n();
  const format = useMemo(() => new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", timeZone: "UTC" }), [lang]);
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * g.max);
  const end = g.rtl ? PAD.end : W - PAD.end;
  const labelled = dates.length > 2 ? [0, Math.floor((dates.length - 1) / 2), dates.length - 1] : dates.map((_, i) => i);
  return (
    <g className="axes">
      {ticks.map((tick) => (
        <g key={tick}>
          <line x1={g.axisX} x2={end} y1={g.y(tick)} y2={g.y(tick)} className="grid" />
          <text x={g.rtl ? g.axisX + 4 : g.axisX - 4} y={g.y(tick) + 3} textAnchor={g.rtl ? "start" : "end"} className="tick">
            {number(Math.round(tick * 10) / 10)}
          </text>
        </g>
      ))}
      <line x1={g.axisX} x2={g.axisX} y1={PAD.top} y2={PAD.top + PLOT_H} className="axis" data-testid="y-axis" />
      <line x1={g.axisX} x2={end} y1={PAD.top + PLOT_H} y2={PAD.top + PLOT_H} className="axis" data-testid="x-axis" />
      {labelled.map((i) => (
        <text key={i} x={g.x(i)} y={H - 6} textAnchor={i === 0 ? (g.rtl ? "end" : "start") : i === dates.length - 1 ? (g.rtl ? "start" : "end") : "middle"} className="tick">
          {format.format(new Date(`${dates[i]}T00:00:00Z`))}
        </text>
      ))}
    </g>
  );
}

/** The index under the pointer, from the SVG's own coordinates. */
function useActiveIndex(count: number, g: Geometry) {
  const ref = useRef<SVGSVGElement>(null);
  const [active, setActive] = useState<number | null>(null);
  const locate = (event: PointerEvent<SVGSVGElement>) => {
    const svg = ref.current;
    if (!svg || count === 0) return;
    const box = svg.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * W;
    let best = 0;
    for (let i = 1; i < count; i += 1) if (Math.abs(g.x(i) - x) < Math.abs(g.x(best) - x)) best = i;
    setActive(best);
  };
  return { ref, active, locate, clear: () => setActive(null) };
}

function Tooltip(props: { dates: string[]; series: Series[]; index: number; g: Geometry; total?: boolean }) {
  const { number, lang, t } = useI18n();
  const date = props.dates[props.index] ?? "";
  const format = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeZone: "UTC" });
  const left = (props.g.x(props.index) / W) * 100;
  const sum = props.series.reduce((acc, s) => acc + (s.values[props.index] ?? 0), 0);
  return (
    <div className="chart-tooltip" style={{ insetInlineStart: `${props.g.rtl ? 100 - left : left}%` }} data-testid="chart-tooltip" role="status">
      <strong>{format.format(new Date(`${date}T00:00:00Z`))}</strong>
      {props.series.map((s, i) => (
        <span key={s.key} className="row">
          <i className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} />
          {s.label}: <bdi>{number(s.values[props.index] ?? 0)}</bdi>
        </span>
      ))}
      {props.total && props.series.length > 1 && (
        <span>
          {t("stats.total")}: <bdi>{number(sum)}</bdi>
        </span>
      )}
    </div>
  );
}

function Legend({ series }: { series: Series[] }) {
  return (
    <div className="legend">
      {series.map((s, i) => (
        <span key={s.key} className="row">
          <i className="swatch" style={{ background: PALETTE[i % PALETTE.length] }} />
          {s.label}
        </span>
      ))}
    </div>
  );
}

export function LineChart(props: { title: string; dates: string[]; series: Series[]; testId: string }) {
  const { dir } = useI18n();
  const titleId = useId();
  const max = Math.max(0, ...props.series.flatMap((s) => s.values));
  const g = geometry(props.dates.length, max, dir === "rtl", false);
  const pointer = useActiveIndex(props.dates.length, g);
  return (
    <figure className="chart card" data-testid={props.testId} data-kind="line" data-days={props.dates.length}>
      <figcaption id={titleId}>{props.title}</figcaption>
      <div className="chart-box">
        <svg ref={pointer.ref} viewBox={`0 0 ${W} ${H}`} direction="ltr" role="img" aria-labelledby={titleId} onPointerDown={pointer.locate} onPointerMove={pointer.locate} onPointerLeave={pointer.clear}>
          <Axes g={g} dates={props.dates} />
          {props.series.map((s, si) => {
            const d = s.values.map((v, i) => `${i === 0 ? "M" : "L"}${g.x(i).toFixed(1)},${g.y(v).toFixed(1)}`).join("");
            const color = PALETTE[si % PALETTE.length];
            return (
              <g key={s.key} data-series={s.key} className="series">
                <path d={d} fill="none" stroke={color} strokeWidth={2} strokeLinejoin="round" strokeLinecap="round" className="line" />
                {s.values.map((v, i) => (
                  <circle key={i} cx={g.x(i)} cy={g.y(v)} r={pointer.active === i ? 4 : props.dates.length > 31 ? 1.2 : 2.2} fill={color} className="point" />
                ))}
              </g>
            );
          })}
          {pointer.active !== null && <line x1={g.x(pointer.active)} x2={g.x(pointer.active)} y1={PAD.top} y2={PAD.top + PLOT_H} className="guide" />}
        </svg>
        {pointer.active !== null && <Tooltip dates={props.dates} series={props.series} index={pointer.active} g={g} />}
      </div>
      {props.series.length > 1 && <Legend series={props.series} />}
    </figure>
  );
}

export function BarChart(props: { title: string; dates: string[]; series: Series[]; testId: string }) {
  const { dir } = useI18n();
  const titleId = useId();
  const totals = props.dates.map((_, i) => props.series.reduce((acc, s) => acc + (s.values[i] ?? 0), 0));
  const g = geometry(props.dates.length, Math.max(0, ...totals), dir === "rtl", true);
  const pointer = useActiveIndex(props.dates.length, g);
  const width = Math.max(1, g.step * 0.7);
  return (
    <figure className="chart card" data-testid={props.testId} data-kind="bar" data-days={props.dates.length}>
      <figcaption id={titleId}>{props.title}</figcaption>
      <div className="chart-box">
        <svg ref={pointer.ref} viewBox={`0 0 ${W} ${H}`} direction="ltr" role="img" aria-labelledby={titleId} onPointerDown={pointer.locate} onPointerMove={pointer.locate} onPointerLeave={pointer.clear}>
          <Axes g={g} dates={props.dates} />
          {props.dates.map((date, i) => {
            let base = 0;
            return (
              <g key={date} className={pointer.active === i ? "bar active" : "bar"} data-testid="bar">
                {props.series.map((s, si) => {
                  const value = s.values[i] ?? 0;
                  const y0 = g.y(base);
                  base += value;
                  const y1 = g.y(base);
                  return <rect key={s.key} x={g.x(i) - width / 2} y={y1} width={width} height={Math.max(0, y0 - y1)} fill={PALETTE[si % PALETTE.length]} />;
                })}
              </g>
            );
          })}
        </svg>
        {pointer.active !== null && <Tooltip dates={props.dates} series={props.series} index={pointer.active} g={g} total />}
      </div>
      {props.series.length > 1 && <Legend series={props.series} />}
    </figure>
  );
}
