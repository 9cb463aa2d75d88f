import { useMemo } from 'react';
import type uPlot from 'uplot';
import { Chart, timeAxis } from './Chart';
import { stateColor } from './StateMachine';
import type { Band } from '../lib/series';
import { useLatest } from '../lib/useLatest';

/** One lane per state, a coloured band wherever the engine was in it. */
export function StateTimeline({
  x,
  states,
  bands,
  label,
  sync,
  onSelectRange,
  height,
}: {
  x: number[];
  states: string[];
  bands: Band[];
  label: string;
  sync?: string;
  onSelectRange?: (a: number, b: number) => void;
  /** Fixed height in px (default: 28 px a state). */
  height?: number;
}) {
  const latest = useLatest({ bands, states });
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      legend: { show: false },
      cursor: { y: false, points: { show: false }, ...(sync ? { sync: { key: sync } } : {}) },
      scales: { x: { time: true }, y: { auto: false, range: [0, Math.max(1, states.length)] } },
      axes: [
        timeAxis(),
        {
          stroke: '#8b97a8',
          grid: { show: false },
          ticks: { show: false },
          size: 96,
          splits: () => states.map((_, i) => i + 0.5),
          values: (_u, splits) => splits.map((s) => states[states.length - 1 - Math.floor(s)] ?? ''),
        },
      ],
      series: [{}, { show: false }],
      hooks: {
        draw: [
          (u) => {
            const { bands: bs, states: ss } = latest.current;
            const ctx = u.ctx;
            ctx.save();
            ctx.beginPath();
            ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
            ctx.clip();
            for (const b of bs) {
              const lane = ss.length - 1 - ss.indexOf(b.state);
              if (lane < 0 || lane >= ss.length) continue;
              const l = u.valToPos(b.start, 'x', true);
              const r = u.valToPos(b.end, 'x', true);
              const top = u.valToPos(lane + 0.85, 'y', true);
              const bottom = u.valToPos(lane + 0.15, 'y', true);
              if (b.color === 'transparent') continue;
              ctx.fillStyle = b.color ?? stateColor(b.state, ss.indexOf(b.state));
              ctx.fillRect(l, top, Math.max(1, r - l), bottom - top);
            }
            ctx.restore();
          },
        ],
      },
    }),
    [states.join('\u0000'), sync],
  );
  const data = useMemo<uPlot.AlignedData>(() => [x, x.map(() => null)], [x, bands]);
  return (
    <Chart
      options={options}
      data={data}
      height={height ?? 48 + Math.max(1, states.length) * 28}
      label={label}
      onSelectRange={onSelectRange}
    />
  );
}
