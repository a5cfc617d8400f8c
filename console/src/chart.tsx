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
