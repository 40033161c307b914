/**
 * A time-series chart drawn by uPlot (a small, fast canvas chart library; see web/README.md for
 * why this one). The chart is created once per set of series, resized with its container and
 * fed new data in place. Canvas is invisible to screen readers, so every chart carries a text
 * summary (`summary`) and the same figures are in the dashboard's tables.
 */
import { useEffect, useRef } from "react";
import uPlot from "uplot";

export interface ChartSeries {
  label: string;
  color: string;
  dash?: number[];
  /** Fill the area under the line (first series of a depth chart). */
  fill?: boolean;
}

export interface UplotChartProps {
  title: string;
  /** One sentence with the current figures, read by screen readers instead of the canvas. */
  summary: string;
  series: ChartSeries[];
  /** [x (seconds since the epoch), ...one array per series]. */
  data: (number | null)[][];
  yLabel: string;
  height?: number;
  testId?: string;
}

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value || fallback;
}

/** The chart with its own legend (uPlot's legend table is turned off). */
export function UplotChart(props: UplotChartProps) {
  const box = useRef<HTMLDivElement | null>(null);
  const plot = useRef<uPlot | null>(null);
  const seriesKey = props.series.map((s) => s.label).join("\u0000");
  const data = useRef(props.data);
  data.current = props.data;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axisColor = cssVar("--muted", "#525a68");
    const gridColor = cssVar("--border", "#d5d9e0");
    const axis = {
      stroke: axisColor,
      grid: { stroke: gridColor, width: 1 },
      ticks: { show: false },
    };
    const chart = new uPlot(
      {
        width: Math.max(240, el.clientWidth),
        height: props.height ?? 200,
        legend: { show: false },
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true }, y: { range: (_u, min, max) => [0, Math.max(1, max, min)] } },
        axes: [axis, { ...axis, label: props.yLabel, size: 56 }],
        series: [
          {},
          ...props.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            width: 2,
            dash: s.dash,
            fill: s.fill ? `${s.color}33` : undefined,
            spanGaps: false,
            points: { show: false },
          })),
        ],
      },
      data.current as uPlot.AlignedData,
      el,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => {
      chart.setSize({ width: Math.max(240, el.clientWidth), height: props.height ?? 200 });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
    // Re-created only when the set of series changes; data flows in below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [seriesKey, props.height, props.yLabel]);

  useEffect(() => {
    plot.current?.setData(props.data as uPlot.AlignedData);
  }, [props.data]);

  return (
    <figure className="chart" data-testid={props.testId}>
      <figcaption className="chart-title">{props.title}</figcaption>
      <ul className="chart-legend" aria-hidden="true">
        {props.series.map((s) => (
          <li key={s.label}>
            <span
              className={`chart-swatch ${s.dash ? "chart-swatch-dashed" : ""}`}
              style={{ borderColor: s.color }}
            />
            {s.label}
          </li>
        ))}
      </ul>
      <div ref={box} className="chart-canvas" role="img" aria-label={props.summary} />
    </figure>
  );
}
