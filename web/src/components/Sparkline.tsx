import { useMemo } from 'react';
import type uPlot from 'uplot';
import { Chart } from './Chart';

/** The last values of a metric as a small line, oldest first. */
export function Sparkline({
  values,
  color = '#4fc3f7',
  label,
}: {
  values: (number | null)[] | undefined;
  color?: string;
  label: string;
}) {
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      scales: { x: { time: false } },
      axes: [{ show: false }, { show: false }],
      legend: { show: false },
      cursor: { show: false },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      padding: [2, 0, 2, 0],
      series: [{}, { stroke: color, width: 1.25, fill: color + '22', points: { show: false } }],
    }),
    [color],
  );
  const data = useMemo<uPlot.AlignedData>(() => {
    const ys = values ?? [];
    return [ys.map((_, i) => i), ys.map((v) => (v === null || Number.isFinite(v) ? v : null))];
  }, [values]);
  if (!values || values.filter((v) => v !== null).length < 2)
    return <div className="spark spark-empty" aria-hidden="true" />;
  return (
    <div className="spark">
      <Chart options={options} data={data} height={30} label={label} />
    </div>
  );
}
