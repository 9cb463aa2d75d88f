import { useMemo, useState } from 'react';
import type uPlot from 'uplot';
import { Chart, timeAxis } from './Chart';
import { formatValue } from '../lib/format';
import { useLatest } from '../lib/useLatest';

export interface HeatmapProps {
  /** Timestamps in seconds; each cell covers (t - step, t]. */
  x: number[];
  rows: string[];
  /** values[row][col] */
  values: (number | null)[][];
  step: number;
  label: string;
  unit: string;
  testId?: string;
  sync?: string;
  onSelectRange?: (a: number, b: number) => void;
  /** Fixed height in px of the chart (default: by the number of rows). */
  height?: number;
}

const RGB = '79,195,247';

export function cellColor(v: number | null, max: number): string | null {
  if (v === null || v <= 0 || max <= 0) return null;
  const a = 0.15 + 0.85 * Math.sqrt(Math.min(1, v / max));
  return `rgba(${RGB},${a.toFixed(3)})`;
}

/** Rows × time, each cell coloured by its value (square-root scale), drawn on uPlot's canvas
 *  so it shares the time axis, the cursor and the drag-to-zoom of the other charts. */
export function Heatmap({
  x,
  rows,
  values,
  step,
  label,
  unit,
  testId,
  sync,
  onSelectRange,
  height: fixedHeight,
}: HeatmapProps) {
  const [hover, setHover] = useState<string | null>(null);
  const max = useMemo(() => Math.max(0, ...values.flat().map((v) => v ?? 0)), [values]);
  const latestRef = useLatest({ x, values, rows, step, max });

  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      legend: { show: false },
      cursor: { y: false, points: { show: false }, ...(sync ? { sync: { key: sync } } : {}) },
      scales: { x: { time: true }, y: { auto: false, range: [0, Math.max(1, rows.length)] } },
      axes: [
        timeAxis(),
        {
          stroke: '#8b97a8',
          grid: { show: false },
          ticks: { show: false },
          size: Math.min(140, 16 + 7 * Math.max(4, ...rows.map((r) => r.length))),
          splits: () => rows.map((_, i) => i + 0.5),
          values: (_u, splits) => splits.map((s) => rows[Math.floor(s)] ?? ''),
        },
      ],
      series: [{}, { show: false }],
      hooks: {
        draw: [
          (u) => {
            const { x: xs, values: vs, step: st, max: mx } = latestRef.current;
            const ctx = u.ctx;
            ctx.save();
            ctx.beginPath();
            ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
            ctx.clip();
            vs.forEach((row, r) => {
              const top = u.valToPos(r + 1, 'y', true);
              const bottom = u.valToPos(r, 'y', true);
              row.forEach((v, i) => {
                const c = cellColor(v, mx);
                if (!c) return;
                const l = u.valToPos(xs[i] - st, 'x', true);
                const rgt = u.valToPos(xs[i], 'x', true);
                ctx.fillStyle = c;
                ctx.fillRect(l, top + 1, Math.max(1, rgt - l - 1), bottom - top - 2);
              });
            });
            ctx.restore();
          },
        ],
        setCursor: [
          (u) => {
            const { left, top, idx } = u.cursor;
            const { x: xs, values: vs, rows: rs } = latestRef.current;
            if (idx === null || idx === undefined || left === undefined || left < 0 || top === undefined || top < 0) {
              setHover(null);
              return;
            }
            const r = Math.floor(u.posToVal(top, 'y'));
            if (r < 0 || r >= rs.length) return setHover(null);
            const v = vs[r]?.[idx];
            const t = new Date(xs[idx] * 1000).toLocaleTimeString();
            setHover(`${rs[r]} · ${t} · ${v === null || v === undefined ? 'no data' : formatValue(v) + ' ' + unit}`);
          },
        ],
      },
    }),
    // Rebuilt when the rows change; values are read through latestRef at draw time.
    [rows.join('\u0000'), sync, unit],
  );
  const data = useMemo<uPlot.AlignedData>(() => [x, x.map(() => null)], [x, values]);
  const height = fixedHeight ?? 48 + rows.length * (rows.length <= 6 ? 24 : 18);
  return (
    <div className="heatmap" data-testid={testId}>
      <Chart options={options} data={data} height={height} label={label} onSelectRange={onSelectRange} />
      <div className="heat-legend">
        <span className="heat-readout" aria-live="off">
          {hover ?? '\u00a0'}
        </span>
        <span className="heat-scale">
          0 <span className="heat-gradient" aria-hidden="true" /> {formatValue(max)} {unit}
        </span>
      </div>
    </div>
  );
}
