// uPlot, the way every chart on the page uses it: sized to its container, rebuilt only when
// its options change (series added or removed), otherwise fed new data in place.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatValue } from '../lib/format';

export const PALETTE = [
  '#4fc3f7',
  '#ffb74d',
  '#81c784',
  '#e57373',
  '#ba68c8',
  '#f06292',
  '#aed581',
  '#90a4ae',
  '#ffd54f',
  '#4db6ac',
];

const AXIS = '#8b97a8';
const GRID = 'rgba(139,151,168,0.14)';

export function timeAxis(): uPlot.Axis {
  return { stroke: AXIS, grid: { stroke: GRID, width: 1 }, ticks: { stroke: GRID, width: 1 } };
}

export function valueAxis(
  fmt: (v: number) => string = formatValue,
  side: 'left' | 'right' = 'left',
  scale = 'y',
): uPlot.Axis {
  return {
    scale,
    side: side === 'left' ? 3 : 1,
    stroke: AXIS,
    grid: side === 'left' ? { stroke: GRID, width: 1 } : { show: false },
    ticks: { stroke: GRID, width: 1 },
    // Wide enough for the longest label.
    size: (_u, values) => 16 + 7 * Math.max(3, ...(values ?? []).map((v) => String(v).length)),
    values: (_u, splits) => splits.map((v) => (v === null || v === undefined ? '' : fmt(v))),
  };
}

export function lineSeries(label: string, color: string, extra: Partial<uPlot.Series> = {}): uPlot.Series {
  return { label, stroke: color, width: 1.5, points: { show: false }, spanGaps: false, ...extra };
}

export interface ChartProps {
  options: Omit<uPlot.Options, 'width' | 'height'>;
  data: uPlot.AlignedData;
  height?: number;
  /** What the chart shows, for screen readers. */
  label: string;
  testId?: string;
  /** Drag-select across the chart: called with the selected range in seconds. */
  onSelectRange?: (fromS: number, toS: number) => void;
}

export function Chart({ options, data, height = 220, label, testId, onSelectRange }: ChartProps) {
  const ref = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef({ data, onSelectRange });
  latest.current = { data, onSelectRange };

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const zoomable = !!latest.current.onSelectRange;
    const opts: uPlot.Options = {
      ...options,
      width: Math.max(160, el.clientWidth),
      height,
      cursor: { ...options.cursor, drag: { x: zoomable, y: false, setScale: false } },
      hooks: {
        ...options.hooks,
        setSelect: [
          ...(options.hooks?.setSelect ?? []),
          (u) => {
            const sel = u.select;
            const cb = latest.current.onSelectRange;
            if (!cb || sel.width < 4) return;
            const from = u.posToVal(sel.left, 'x');
            const to = u.posToVal(sel.left + sel.width, 'x');
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            cb(from, to);
          },
        ],
      },
    };
    const u = new uPlot(opts, latest.current.data, el);
    plot.current = u;
    const ro = new ResizeObserver(() => {
      const w = Math.max(160, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height });
    });
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
  }, [options, height]);

  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);

  return <div ref={ref} className="chart" role="img" aria-label={label} data-testid={testId} />;
}
