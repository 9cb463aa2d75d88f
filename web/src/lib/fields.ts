// What a Grafana panel does with the numbers: the field config that applies to a series
// (defaults, then overrides by name, regex or query), units, decimals, thresholds, value
// mappings, reductions (lastNotNull, mean, max…), cumulative histogram buckets to per-bucket
// counts for heatmaps, and instant vectors as table rows.
import type { Labels, VectorSample } from '../api/types';
import type { FieldConfig, Override, Threshold, ValueMapping } from './dashboard';
import { DASH, DURATION_UNITS, fixed, formatBytes, formatCount, formatDurationMs, formatValue, sig } from './format';
import { sampleValue, type Band } from './series';

// --- field config --------------------------------------------------------------------------

function setPath(cfg: FieldConfig, id: string, value: unknown): FieldConfig {
  if (id.startsWith('custom.')) return { ...cfg, custom: { ...cfg.custom, [id.slice(7)]: value } };
  return { ...cfg, [id]: value };
}

/** The config for the series named `name` of query `refId`: the defaults, then every
 *  matching override's properties in order (byName, byRegexp, byFrameRefID). */
export function fieldConfigFor(
  defaults: FieldConfig | undefined,
  overrides: Override[] | undefined,
  name: string,
  refId?: string,
): FieldConfig {
  let cfg: FieldConfig = { ...defaults };
  for (const o of Array.isArray(overrides) ? overrides : []) {
    if (!o || typeof o !== 'object') continue;
    const id = o.matcher?.id;
    const opt = o.matcher?.options;
    let hit = false;
    if (id === 'byName' || id === 'byDisplayName') hit = opt === name;
    else if (id === 'byRegexp' && typeof opt === 'string') {
      try {
        hit = new RegExp('^(?:' + opt + ')$').test(name);
      } catch {
        hit = false;
      }
    } else if (id === 'byFrameRefID') hit = opt === refId;
    if (!hit) continue;
    for (const p of Array.isArray(o.properties) ? o.properties : [])
      if (p && typeof p.id === 'string') cfg = setPath(cfg, p.id, p.value);
  }
  return cfg;
}

// --- units ---------------------------------------------------------------------------------

const ok = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** x with `decimals` places when given, else three significant digits (the page's way). */
function num(x: number, decimals: number | undefined): string {
  return decimals !== undefined && decimals >= 0 ? fixed(x, Math.min(20, decimals)) : sig(x, 3);
}

/** A value scaled through `units` ([suffix, size] ascending): the largest unit it reaches. */
function scaled(x: number, units: [string, number][], decimals: number | undefined, sep = ' '): string {
  const a = Math.abs(x);
  let i = 0;
  while (i + 1 < units.length && a >= units[i + 1][1]) i++;
  return num(x / units[i][1], decimals) + sep + units[i][0];
}

const TIME_MS: Record<string, number> = { ns: 1e-6, µs: 1e-3, us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 };
const TIME_UNITS: [string, number][] = [['ns', 1e-6], ...DURATION_UNITS];
const IEC: [string, number][] = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'].map((u, i) => [u, 1024 ** i]);
const SI_BYTES: [string, number][] = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'].map((u, i) => [u, 1000 ** i]);
const SHORT: [string, number][] = [
  ['', 1],
  ['K', 1e3],
  ['Mil', 1e6],
  ['Bil', 1e9],
  ['Tri', 1e12],
];
const RATES: Record<string, string> = {
  ops: 'ops/s',
  reqps: 'req/s',
  rps: 'reads/s',
  wps: 'writes/s',
  iops: 'io/s',
  opm: 'ops/min',
  rpm: 'req/min',
  hertz: 'Hz',
  cps: 'c/s',
};

/** A value in a Grafana unit (fieldConfig.defaults.unit): percent (already ×100),
 *  percentunit (a fraction), time (ns, µs, ms, s, m, h, d: scaled to the unit that reads
 *  best), bytes (IEC), decbytes (SI), Bps, short (K, Mil, Bil), ops/reqps and the other
 *  rates, currencyUSD/EUR/GBP, none, "suffix:x" and "prefix:x"; any other unit is written
 *  after the number. `decimals` fixes the places; "—" for a missing value. */
export function formatUnit(x: number | null | undefined, unit: string | undefined, decimals?: number): string {
  if (!ok(x)) return DASH;
  const u = unit ?? '';
  if (u === '' || u === 'none') return decimals !== undefined ? fixed(x, decimals) : formatValue(x);
  if (u === 'short') return decimals === undefined ? formatCount(x) : scaled(x, SHORT, decimals).trim();
  if (u === 'percent') return num(x, decimals) + '%';
  if (u === 'percentunit') return num(x * 100, decimals) + '%';
  if (u in TIME_MS) {
    const ms = x * TIME_MS[u];
    return decimals === undefined ? formatDurationMs(ms) : scaled(ms, TIME_UNITS, decimals);
  }
  if (u === 'bytes') return decimals === undefined ? formatBytes(x) : scaled(x, IEC, decimals);
  if (u === 'decbytes') return scaled(x, SI_BYTES, decimals);
  if (u === 'Bps' || u === 'binBps') return (decimals === undefined ? formatBytes(x) : scaled(x, IEC, decimals)) + '/s';
  if (u === 'decBps') return scaled(x, SI_BYTES, decimals) + '/s';
  if (u in RATES) return num(x, decimals) + ' ' + RATES[u];
  const cur = /^currency(USD|EUR|GBP|JPY)$/.exec(u);
  if (cur) {
    const sym = { USD: '$', EUR: '€', GBP: '£', JPY: '¥' }[cur[1]]!;
    return (x < 0 ? '-' : '') + sym + fixed(Math.abs(x), decimals ?? 2);
  }
  if (u.startsWith('suffix:')) return num(x, decimals) + u.slice(7);
  if (u.startsWith('prefix:')) return u.slice(7) + num(x, decimals);
  if (u === 'locale') return fixed(x, decimals ?? (Number.isInteger(x) ? 0 : 2));
  return num(x, decimals) + ' ' + u;
}

// --- colours, thresholds, value mappings ---------------------------------------------------

/** Grafana's named colours (its dark theme); a CSS colour passes through. */
const NAMED: Record<string, string> = {
  green: '#73bf69',
  'dark-green': '#37872d',
  'semi-dark-green': '#56a64b',
  'light-green': '#96d98d',
  red: '#f2495c',
  'dark-red': '#c4162a',
  'semi-dark-red': '#e02f44',
  'light-red': '#ff7383',
  orange: '#ff9830',
  'dark-orange': '#fa6400',
  'semi-dark-orange': '#ff780a',
  'light-orange': '#ffb357',
  yellow: '#fade2a',
  'dark-yellow': '#e0b400',
  'semi-dark-yellow': '#f2cc0c',
  'light-yellow': '#ffee52',
  blue: '#5794f2',
  'dark-blue': '#1f60c4',
  'semi-dark-blue': '#3274d9',
  'light-blue': '#8ab8ff',
  purple: '#b877d9',
  'dark-purple': '#8f3bb8',
  'semi-dark-purple': '#a352cc',
  'light-purple': '#ca95e5',
  text: '#d8d9da',
  transparent: 'transparent',
};

export function grafanaColor(c: string | undefined | null): string | null {
  if (!c) return null;
  return NAMED[c] ?? NAMED[c.replace(/^super-light-/, 'light-')] ?? c;
}

/** The colour of the threshold step `x` falls in: the last step whose value is null (the
 *  base) or at most x. In percentage mode the steps are percents of min..max. */
export function thresholdColor(
  x: number | null,
  thresholds: FieldConfig['thresholds'],
  min = 0,
  max = 100,
): string | null {
  const steps: Threshold[] = Array.isArray(thresholds?.steps)
    ? thresholds.steps.filter((x) => x && typeof x === 'object')
    : [];
  if (!ok(x) || !steps.length) return null;
  const pct = thresholds?.mode === 'percentage';
  let color: string | null = null;
  for (const s of steps) {
    const at =
      s.value === null || s.value === undefined ? -Infinity : pct ? min + ((max - min) * s.value) / 100 : s.value;
    if (x >= at) color = s.color;
  }
  return grafanaColor(color);
}

export interface Mapped {
  text?: string;
  color?: string | null;
}

/** What the value mappings say of `x` (a number, or null for no value): value (exact
 *  match of its text), range (from ≤ x ≤ to), special (null, nan, null+nan, true, false,
 *  empty) and regex mappings, the first that matches; null when none does. */
export function applyMappings(x: number | null, mappings: ValueMapping[] | undefined): Mapped | null {
  for (const m of Array.isArray(mappings) ? mappings : []) {
    if (!m || typeof m !== 'object') continue;
    const o = (m?.options ?? {}) as Record<string, unknown>;
    let r: { text?: unknown; color?: unknown } | undefined;
    if (m.type === 'value' && x !== null) {
      const key = Object.keys(o).find((k) => k === String(x) || (k.trim() !== '' && Number(k) === x));
      r = key !== undefined ? (o[key] as typeof r) : undefined;
    } else if (m.type === 'range' && x !== null && Number.isFinite(x)) {
      const from = typeof o.from === 'number' ? o.from : -Infinity;
      const to = typeof o.to === 'number' ? o.to : Infinity;
      if (x >= from && x <= to) r = o.result as typeof r;
    } else if (m.type === 'special') {
      const match = o.match;
      const isNull = x === null;
      const isNaN = x !== null && Number.isNaN(x);
      if (
        (match === 'null' && isNull) ||
        (match === 'nan' && isNaN) ||
        (match === 'null+nan' && (isNull || isNaN)) ||
        (match === 'true' && x === 1) ||
        (match === 'false' && x === 0)
      )
        r = o.result as typeof r;
    } else if (m.type === 'regex' && x !== null && typeof o.pattern === 'string') {
      try {
        if (new RegExp(o.pattern).test(String(x))) r = o.result as typeof r;
      } catch {
        r = undefined;
      }
    }
    if (r && typeof r === 'object')
      return {
        text: typeof r.text === 'string' ? r.text : undefined,
        color: typeof r.color === 'string' ? grafanaColor(r.color) : undefined,
      };
  }
  return null;
}

// --- reductions ----------------------------------------------------------------------------

export const CALC_NAMES: Record<string, string> = {
  lastNotNull: 'Last *',
  last: 'Last',
  firstNotNull: 'First *',
  first: 'First',
  mean: 'Mean',
  max: 'Max',
  min: 'Min',
  sum: 'Total',
  count: 'Count',
  range: 'Range',
  delta: 'Delta',
  diff: 'Difference',
  changeCount: 'Change count',
  distinctCount: 'Distinct count',
  median: 'Median',
};

/** A series reduced to one number, as Grafana's reducers do (nulls ignored except by last
 *  and first): lastNotNull, last, firstNotNull, first, mean, max, min, sum, count (values
 *  present), range (max − min), delta (the increases, a drop counted as a counter reset),
 *  diff (last − first present), changeCount, distinctCount, median. Null when there is
 *  nothing to reduce or the calc is unknown. */
export function reduce(values: (number | null)[], calc: string): number | null {
  const present = values.filter(ok);
  switch (calc) {
    case 'last':
      return values.length ? (values[values.length - 1] ?? null) : null;
    case 'first':
      return values.length ? (values[0] ?? null) : null;
    case 'lastNotNull':
      return present.length ? present[present.length - 1] : null;
    case 'firstNotNull':
      return present.length ? present[0] : null;
    case 'count':
      return present.length;
  }
  if (!present.length) return null;
  switch (calc) {
    case 'mean':
    case 'avg':
      return present.reduce((a, b) => a + b, 0) / present.length;
    case 'sum':
    case 'total':
      return present.reduce((a, b) => a + b, 0);
    case 'max':
      return Math.max(...present);
    case 'min':
      return Math.min(...present);
    case 'range':
      return Math.max(...present) - Math.min(...present);
    case 'diff':
      return present[present.length - 1] - present[0];
    case 'delta': {
      let d = 0;
      for (let i = 1; i < present.length; i++)
        d += present[i] >= present[i - 1] ? present[i] - present[i - 1] : present[i];
      return d;
    }
    case 'changeCount': {
      let c = 0;
      for (let i = 1; i < present.length; i++) if (present[i] !== present[i - 1]) c++;
      return c;
    }
    case 'distinctCount':
      return new Set(present).size;
    case 'median': {
      const s = [...present].sort((a, b) => a - b);
      const m = s.length >> 1;
      return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
    }
    default:
      return null;
  }
}

// --- state timelines ---------------------------------------------------------------------

/** Bands from series (one lane each): every stretch of points whose mapped text (or value)
 *  stays the same is one band (merged as Grafana's mergeValues does, else one per point), in
 *  the mapping's colour, else the threshold's. */
export function timelineBands(
  x: number[],
  step: number,
  lanes: { name: string; values: (number | null)[]; cfg: FieldConfig }[],
  merge = true,
): Band[] {
  const out: Band[] = [];
  for (const lane of lanes) {
    let cur: (Band & { key: string }) | null = null;
    lane.values.forEach((v, i) => {
      if (v === null) {
        if (cur) out.push(cur);
        cur = null;
        return;
      }
      const m = applyMappings(v, lane.cfg.mappings);
      const key = m?.text ?? String(v);
      const color = m?.color ?? thresholdColor(v, lane.cfg.thresholds) ?? undefined;
      if (cur && merge && cur.key === key && cur.end === x[i]) {
        cur.end = x[i] + step;
        return;
      }
      if (cur) out.push(cur);
      cur = { state: lane.name, start: x[i], end: x[i] + step, color: color ?? undefined, key };
    });
    if (cur) out.push(cur);
  }
  return out.map(({ state, start, end, color }) => ({ state, start, end, ...(color ? { color } : {}) }));
}

// --- heatmaps ------------------------------------------------------------------------------

/** A bucket's bound as a number ("+Inf" → Infinity), NaN if it is not one. */
export function leValue(le: string | undefined): number {
  if (le === undefined) return NaN;
  if (/^\+?inf$/i.test(le)) return Infinity;
  return Number(le);
}

/** Cumulative histogram buckets (one row per `le`, values per time) → the count in each
 *  bucket: rows sorted by bound, each minus the one below it, as Grafana's Prometheus data
 *  source does for heatmaps (a missing value below counts as 0; a missing value stays
 *  missing). Returns the bounds, in order, with the rows. */
export function bucketsToCounts(rows: { le: string; values: (number | null)[] }[]): {
  le: string[];
  values: (number | null)[][];
} {
  const sorted = rows.filter((r) => !Number.isNaN(leValue(r.le))).sort((a, b) => leValue(a.le) - leValue(b.le));
  const values = sorted.map((r, i) =>
    r.values.map((v, j) => {
      if (v === null) return null;
      const below = i > 0 ? (sorted[i - 1].values[j] ?? 0) : 0;
      return v - below;
    }),
  );
  return { le: sorted.map((r) => r.le), values };
}

// --- tables --------------------------------------------------------------------------------

export interface TableData {
  columns: string[];
  /** Rows of cells: labels as text, the last column the value (a number or null). */
  rows: { cells: string[]; value: number | null; time: number }[];
}

/** An instant vector as Grafana's "table" format shows it: one row per series, a column
 *  per label (sorted, __name__ first when present), then Value. */
export function vectorTable(samples: VectorSample[]): TableData {
  const keys = new Set<string>();
  for (const s of samples) for (const k of Object.keys(s.metric)) keys.add(k);
  const labels = [...keys].sort((a, b) => (a === '__name__' ? -1 : b === '__name__' ? 1 : a.localeCompare(b)));
  return {
    columns: [...labels, 'Value'],
    rows: samples.map((s) => ({
      cells: labels.map((k) => (s.metric as Labels)[k] ?? ''),
      value: sampleValue(s.value[1]),
      time: s.value[0],
    })),
  };
}

/** Rows sorted by the column named `by` (Grafana's options.sortBy), when the table has it. */
export function sortTable(t: TableData, by: { displayName?: string; desc?: boolean }[] | undefined): TableData {
  const first = by?.[0];
  if (!first?.displayName) return t;
  const col = t.columns.indexOf(first.displayName);
  if (col < 0) return t;
  const isValue = col === t.columns.length - 1;
  const rows = [...t.rows].sort((a, b) => {
    const c = isValue ? (a.value ?? -Infinity) - (b.value ?? -Infinity) : a.cells[col].localeCompare(b.cells[col]);
    return first.desc ? -c : c;
  });
  return { ...t, rows };
}
