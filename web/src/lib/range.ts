// Time ranges, query steps and PromQL durations for the charts.

export type TimeRange = { kind: 'relative'; ms: number } | { kind: 'absolute'; startMs: number; endMs: number };

export const MINUTE = 60e3;
export const HOUR = 3600e3;

export const PRESETS: { label: string; ms: number }[] = [
  { label: '5m', ms: 5 * MINUTE },
  { label: '15m', ms: 15 * MINUTE },
  { label: '1h', ms: HOUR },
  { label: '6h', ms: 6 * HOUR },
  { label: '24h', ms: 24 * HOUR },
];

/** Steps a chart may use: round numbers a reader recognizes. */
export const NICE_STEPS_MS = [
  1e3,
  2e3,
  5e3,
  10e3,
  15e3,
  30e3,
  60e3,
  2 * 60e3,
  5 * 60e3,
  10 * 60e3,
  15 * 60e3,
  30 * 60e3,
  HOUR,
  2 * HOUR,
  6 * HOUR,
  12 * HOUR,
  24 * HOUR,
];

/** The smallest nice step (at least `minStepMs`, the recording interval) that keeps a range
 *  of `rangeMs` within `maxPoints` points (both ends included). */
export function stepFor(rangeMs: number, maxPoints = 500, minStepMs = 1000): number {
  const need = Math.max(minStepMs, rangeMs / Math.max(1, maxPoints - 1));
  for (const s of NICE_STEPS_MS) if (s >= need) return s;
  return Math.ceil(need / (24 * HOUR)) * 24 * HOUR;
}

/** How many points a range query over `rangeMs` at `stepMs` answers. */
export function pointCount(rangeMs: number, stepMs: number): number {
  return Math.floor(rangeMs / stepMs) + 1;
}

export function rangeMs(r: TimeRange): number {
  return r.kind === 'relative' ? r.ms : r.endMs - r.startMs;
}

/** The window a range query asks for, in seconds as the API wants them. The end is aligned
 *  down to the step, so that successive refreshes land on the same grid and points keep
 *  their timestamps. */
export function queryWindow(
  r: TimeRange,
  nowMs: number,
  maxPoints = 500,
): { start: number; end: number; step: number } {
  const len = rangeMs(r);
  const stepMs = stepFor(len, maxPoints);
  const endRaw = r.kind === 'relative' ? nowMs : r.endMs;
  const endMs = Math.floor(endRaw / stepMs) * stepMs;
  const startMs = r.kind === 'relative' ? endMs - len : Math.ceil(r.startMs / stepMs) * stepMs;
  return { start: startMs / 1000, end: endMs / 1000, step: stepMs / 1000 };
}

/** A PromQL duration: 60000 → "1m", 90000 → "1m30s", 3600000 → "1h", 500 → "1s" (whole
 *  seconds; never below one). */
export function promDuration(ms: number): string {
  let s = Math.max(1, Math.round(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (s >= size) {
      parts.push(Math.floor(s / size) + unit);
      s %= size;
    }
  }
  return parts.join('');
}

/** The rate window for a chart at `stepMs`: the step itself, so that no sample falls between
 *  two points, but never less than `minMs` (a minute by default, as the spec's queries use). */
export function rateWindow(stepMs: number, minMs = MINUTE): string {
  return promDuration(Math.max(stepMs, minMs));
}

/** A label for a range: "Last 15m", or its two ends. */
export function rangeLabel(r: TimeRange, fmt: (ms: number) => string): string {
  if (r.kind === 'relative') {
    const p = PRESETS.find((x) => x.ms === r.ms);
    return 'Last ' + (p ? p.label : promDuration(r.ms));
  }
  return `${fmt(r.startMs)} – ${fmt(r.endMs)}`;
}

/** A datetime-local input's value ("2025-12-05T16:01") as local epoch ms, or null. */
export function parseLocalDateTime(value: string): number | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)) return null;
  const t = new Date(value).getTime();
  return Number.isFinite(t) ? t : null;
}

/** Epoch ms as a datetime-local input's value, in local time. */
export function toLocalDateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}
