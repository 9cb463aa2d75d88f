// Turning Prometheus answers into what the charts draw.
import type { Labels, MatrixSeries } from '../api/types';

/** A sample value as a number; NaN and ±Inf (which a chart cannot place) become null. */
export function sampleValue(s: string): number | null {
  const v = Number(s);
  return Number.isFinite(v) ? v : null;
}

/** A series' name as Prometheus prints it: `name{a="1", b="2"}`, or `{}` for none. */
export function seriesName(metric: Labels, keep?: string[]): string {
  const { __name__: name = '', ...rest } = metric;
  const keys = Object.keys(rest)
    .filter((k) => !keep || keep.includes(k))
    .sort();
  if (keep) return keys.map((k) => rest[k]).join(' ') || name || '{}';
  const inner = keys.map((k) => `${k}="${rest[k]}"`).join(', ');
  return inner ? `${name}{${inner}}` : name || '{}';
}

export interface Aligned {
  /** Timestamps in seconds, every `step` from start to end. */
  x: number[];
  /** One row per series, a value (or null: no sample) per timestamp. */
  ys: (number | null)[][];
  metrics: Labels[];
}

/** Places every series of a range query on the query's grid, start..end every step
 *  (seconds), so that uPlot can draw them together; samples off the grid (by more than the API's
 *  millisecond precision) are dropped. */
export function alignMatrix(series: MatrixSeries[], start: number, end: number, step: number): Aligned {
  const n = Math.max(0, Math.floor((end - start) / step + 1e-9) + 1);
  const x = Array.from({ length: n }, (_, i) => start + i * step);
  const ys = series.map((s) => {
    const row: (number | null)[] = new Array(n).fill(null);
    for (const [t, v] of s.values) {
      const i = Math.round((t - start) / step);
      if (i >= 0 && i < n && Math.abs(start + i * step - t) < 0.0015) row[i] = sampleValue(v);
    }
    return row;
  });
  return { x, ys, metrics: series.map((s) => s.metric) };
}

/** Least-squares line through the points that have a value: y = intercept + slope·x. Null
 *  with fewer than two points or no spread in x. x is centred first: timestamps (≈1.8e9 s)
 *  squared would lose the slope to rounding. */
export function linearFit(xs: number[], ys: (number | null)[]): { slope: number; intercept: number } | null {
  const pts: [number, number][] = [];
  for (let i = 0; i < xs.length; i++) {
    const y = ys[i];
    if (y !== null && y !== undefined && Number.isFinite(y)) pts.push([xs[i], y]);
  }
  if (pts.length < 2) return null;
  const mx = pts.reduce((a, p) => a + p[0], 0) / pts.length;
  const my = pts.reduce((a, p) => a + p[1], 0) / pts.length;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of pts) {
    sxx += (x - mx) * (x - mx);
    sxy += (x - mx) * (y - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

export interface Band {
  state: string;
  /** Seconds: the band covers [start, end). */
  start: number;
  end: number;
  /** Its colour, when not the state's own (Grafana value mappings); "transparent" is not drawn. */
  color?: string;
}

/** From engine_state{state} series (1 for the current state, 0 otherwise) on the grid
 *  `x` (seconds, one step apart): one band per stretch of consecutive points where a state
 *  was 1, each extending one step past its last point. Sorted by start, then state. */
export function stateBands(x: number[], ys: (number | null)[][], states: string[], step: number): Band[] {
  const out: Band[] = [];
  ys.forEach((row, si) => {
    let from = -1;
    for (let i = 0; i <= x.length; i++) {
      const on = i < x.length && row[i] !== null && (row[i] as number) >= 0.5;
      if (on && from < 0) from = i;
      if (!on && from >= 0) {
        out.push({ state: states[si], start: x[from], end: x[i - 1] + step });
        from = -1;
      }
    }
  });
  return out.sort((a, b) => a.start - b.start || a.state.localeCompare(b.state));
}

/** The largest finite value of a grid of rows, or 0. */
export function maxValue(rows: (number | null)[][]): number {
  let m = 0;
  for (const r of rows) for (const v of r) if (v !== null && v > m) m = v;
  return m;
}
