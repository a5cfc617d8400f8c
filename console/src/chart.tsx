/** A small time series chart (uPlot), drawn again when its data change. */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface Series {
  label: string;
  color: string;
  values: number[];
}

export function TimeChart({ times, series, title }: { times: number[]; series: Series[]; title: string }) {
  const element = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!element.current) return;
    const chart = new uPlot(
      {
        title,
        width: Math.min(720, element.current.clientWidth || 720),
        height: 200,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
        axes: [{}, { label: 'per minute' }],
      },
      [times, ...series.map((s) => s.values)],
      element.current,
    );
    return () => chart.destroy();
  }, [times, series, title]);
  return <div class="chart" ref={element} />;
}

/**
 * Every minute of the last hour, oldest first, with the rows' counts (the gateway lists only the
 * minutes that had any).
 */
export function lastHour<K extends string>(
  rows: readonly ({ minute: string } & Record<K, number>)[],
  series: readonly { key: K; label: string; color: string }[],
): [number[], Series[]] {
  const byMinute = new Map(rows.map((row) => [Date.parse(row.minute) / 1000, row]));
  const now = Math.floor(Date.now() / 60_000) * 60;
  const times = Array.from({ length: 60 }, (_, i) => now - (59 - i) * 60);
  return [
    times,
    series.map(({ key, label, color }) => ({
      label,
      color,
      values: times.map((time) => byMinute.get(time)?.[key] ?? 0),
    })),
  ];
}
