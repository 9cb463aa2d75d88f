// Grafana dashboard JSON (monitoring/grafana/dashboards/*.json) as the page reads it: the
// shapes it uses, the 24-column grid (with rows), the dashboard's default time and refresh,
// Grafana's built-in variables ($__interval, $__rate_interval, $__range…) computed the way
// Grafana and its Prometheus data source compute them, and legendFormat.
import type { Labels } from '../api/types';
import type { TimeRange } from './range';

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface Target {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  format?: string;
  interval?: string;
  intervalFactor?: number;
  hide?: boolean;
}

export interface Threshold {
  color: string;
  value: number | null;
}

export interface ValueMapping {
  type: string;
  options: Record<string, unknown>;
}

export interface FieldConfig {
  unit?: string;
  decimals?: number;
  min?: number;
  max?: number;
  displayName?: string;
  thresholds?: { mode?: string; steps?: Threshold[] };
  mappings?: ValueMapping[];
  color?: { mode?: string; fixedColor?: string };
  custom?: Record<string, unknown>;
}

export interface Override {
  matcher?: { id?: string; options?: unknown };
  properties?: { id: string; value?: unknown }[];
}

export interface PanelJSON {
  id?: number;
  type?: string;
  title?: string;
  description?: string;
  gridPos?: Partial<GridPos>;
  targets?: Target[];
  fieldConfig?: { defaults?: FieldConfig; overrides?: Override[] };
  options?: Record<string, unknown>;
  maxDataPoints?: number;
  interval?: string;
  collapsed?: boolean;
  panels?: PanelJSON[];
}

export interface VariableJSON {
  name?: string;
  type?: string;
  label?: string;
  query?: unknown;
  definition?: string;
  regex?: string;
  sort?: number;
  hide?: number;
  refresh?: number;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string | null;
  current?: { text?: unknown; value?: unknown };
  options?: { text?: unknown; value?: unknown; selected?: boolean }[];
  auto?: boolean;
  auto_count?: number;
  auto_min?: string;
}

export interface DashboardJSON {
  uid?: string;
  title?: string;
  description?: string;
  tags?: string[];
  time?: { from?: string; to?: string };
  refresh?: string | false;
  graphTooltip?: number;
  templating?: { list?: VariableJSON[] };
  panels?: PanelJSON[];
}

// --- what a file says, whatever its shape ---------------------------------------------------

/** A title, description or uid as text: a string as written, a number or boolean as its
 *  text, anything else (an object, a list, null) empty. */
export function text(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}

/** The dashboard's tags: its strings, when `tags` is a list. */
export function tagsOf(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((t): t is string => typeof t === 'string') : [];
}

/** The uid in a /d/{uid}[/{slug}] path, percent-decoded; a malformed escape (/d/%zz) is left
 *  as written. */
export function uidFromPath(path: string): string {
  const seg = path.slice(3).split('/')[0];
  try {
    return decodeURIComponent(seg);
  } catch {
    return seg;
  }
}

// --- the grid ------------------------------------------------------------------------------

export const GRID_COLUMNS = 24;
/** Grafana's row height and the vertical gap between rows, in px. */
export const GRID_ROW_PX = 30;
export const GRID_GAP_PX = 8;

/** A panel's height in px for `h` grid rows: h rows and the h-1 gaps between them. */
export function gridHeightPx(h: number): number {
  return h * GRID_ROW_PX + (h - 1) * GRID_GAP_PX;
}

export interface Cell extends GridPos {
  panel: PanelJSON;
  /** A unique key (panel ids may be missing). */
  key: string;
  /** For a row: whether its panels are hidden. */
  collapsed?: boolean;
}

function clampPos(p: Partial<GridPos> | undefined, fallbackY: number): GridPos {
  const num = (v: unknown, d: number) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : d);
  const w = Math.min(GRID_COLUMNS, Math.max(1, num(p?.w, 12)));
  const x = Math.min(GRID_COLUMNS - w, Math.max(0, num(p?.x, 0)));
  return { x, y: Math.max(0, num(p?.y, fallbackY)), w, h: Math.max(1, num(p?.h, 8)) };
}

/** The cells to draw, top to bottom. A row panel takes one grid row; the panels under an open
 *  row are the top-level ones after it (until the next row), those of a collapsed row are its
 *  own `panels`. `toggled` holds the keys of rows the reader opened or closed: a collapsed
 *  row then shows its panels (the rest moves down by their height), an open one hides them
 *  (the rest moves up). */
export function layoutPanels(panels: PanelJSON[] | undefined, toggled: ReadonlySet<string> = new Set()): Cell[] {
  const list = (Array.isArray(panels) ? panels : []).filter((p): p is PanelJSON => !!p && typeof p === 'object');
  let bottom = 0;
  const placed = list.map((p, i) => {
    const pos = clampPos(p.gridPos, bottom);
    bottom = Math.max(bottom, pos.y + pos.h);
    return { p, pos, key: `${p.id ?? 'i'}-${i}` };
  });
  placed.sort((a, b) => a.pos.y - b.pos.y || a.pos.x - b.pos.x);
  const out: Cell[] = [];
  let dy = 0;
  for (let i = 0; i < placed.length; i++) {
    const { p, pos, key } = placed[i];
    if (p.type === 'row') {
      const collapsed = !!p.collapsed !== toggled.has(key);
      const y = pos.y + dy;
      out.push({ panel: p, key, x: 0, y, w: GRID_COLUMNS, h: 1, collapsed });
      if (p.collapsed && !collapsed) {
        // Its own panels, placed from the row down.
        const inner = layoutPanels(p.panels).map((c) => ({ ...c, key: `${key}/${c.key}` }));
        const top = Math.min(...inner.map((c) => c.y));
        const height = inner.length ? Math.max(...inner.map((c) => c.y + c.h)) - top : 0;
        for (const c of inner) out.push({ ...c, y: y + 1 + c.y - top });
        dy += height;
      } else if (!p.collapsed && collapsed) {
        // Hide the panels up to the next row: everything after moves up by their height.
        let end = placed.length;
        for (let j = i + 1; j < placed.length; j++)
          if (placed[j].p.type === 'row') {
            end = j;
            break;
          }
        const under = placed.slice(i + 1, end);
        const height = under.length ? Math.max(...under.map((u) => u.pos.y + u.pos.h)) - (pos.y + pos.h) : 0;
        dy -= Math.max(0, height);
        i = end - 1;
      }
      continue;
    }
    out.push({ panel: p, key, ...pos, y: pos.y + dy });
  }
  return out;
}

/** Every panel that is drawn or could be (the panels of collapsed rows included), rows not. */
export function allPanels(panels: PanelJSON[] | undefined): PanelJSON[] {
  const out: PanelJSON[] = [];
  for (const p of Array.isArray(panels) ? panels : []) {
    if (!p || typeof p !== 'object') continue;
    if (p.type === 'row') out.push(...allPanels(p.panels));
    else out.push(p);
  }
  return out;
}

// --- time, refresh and Grafana's intervals -------------------------------------------------

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1e3,
  m: 60e3,
  h: 3600e3,
  d: 86400e3,
  w: 7 * 86400e3,
  M: 30 * 86400e3,
  y: 365 * 86400e3,
};

/** A Grafana interval ("15s", "1m", "100ms", "2h") in ms, or null. */
export function intervalToMs(s: string | undefined | null): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w|M|y)\s*$/.exec(s ?? '');
  return m ? Number(m[1]) * UNIT_MS[m[2]] : null;
}

/** The dashboard's `time` as a range: "now-1h" … "now" is the last hour; absolute times (ms
 *  or ISO) an absolute range; anything else null. */
export function parseDashboardTime(from: unknown, to: unknown, nowMs = Date.now()): TimeRange | null {
  const rel = (v: unknown) => {
    if (v === 'now') return 0;
    const m = typeof v === 'string' ? /^now-(\d+(?:\.\d+)?(?:ms|s|m|h|d|w|M|y))$/.exec(v) : null;
    return m ? intervalToMs(m[1]) : null;
  };
  const abs = (v: unknown) => {
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v !== 'string' || v.startsWith('now')) return null;
    const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
    return Number.isFinite(n) ? n : null;
  };
  const rf = rel(from);
  if (rf !== null && rel(to) === 0 && rf > 0) return { kind: 'relative', ms: rf };
  const af = abs(from) ?? (rf !== null ? nowMs - rf : null);
  const at = abs(to) ?? (rel(to) !== null ? nowMs - (rel(to) as number) : null);
  if (af !== null && at !== null && at > af) return { kind: 'absolute', startMs: af, endMs: at };
  return null;
}

/** Grafana's rangeUtil.roundInterval: the interval (ms) a raw one rounds to. */
export function roundInterval(ms: number): number {
  const table: [number, number][] = [
    [15, 10],
    [35, 20],
    [75, 50],
    [150, 100],
    [350, 200],
    [750, 500],
    [1500, 1000],
    [3500, 2000],
    [7500, 5000],
    [12500, 10000],
    [17500, 15000],
    [25000, 20000],
    [45000, 30000],
    [90000, 60000],
    [210000, 120000],
    [450000, 300000],
    [750000, 600000],
    [1050000, 900000],
    [1500000, 1200000],
    [2700000, 1800000],
    [5400000, 3600000],
    [9000000, 7200000],
    [16200000, 10800000],
    [32400000, 21600000],
    [86400000, 43200000],
    [604800000, 86400000],
    [1814400000, 604800000],
    [3628800000, 2592000000],
  ];
  for (const [below, to] of table) if (ms < below) return to;
  return 31536000000;
}

/** Grafana's rangeUtil.secondsToHms: the largest whole unit only ("1m", "15s", "500ms"). */
export function secondsToHms(seconds: number): string {
  const y = Math.floor(seconds / 31536000);
  if (y) return y + 'y';
  const d = Math.floor((seconds % 31536000) / 86400);
  if (d) return d + 'd';
  const h = Math.floor((seconds % 86400) / 3600);
  if (h) return h + 'h';
  const m = Math.floor((seconds % 3600) / 60);
  if (m) return m + 'm';
  const s = Math.floor(seconds % 60);
  if (s) return s + 's';
  const ms = Math.floor(seconds * 1000);
  return ms ? ms + 'ms' : 'less than a millisecond';
}

/** breakwatch's data source's minimum interval (its timeInterval: it records every second). */
export const SCRAPE_INTERVAL_MS = 1000;

export interface QueryPlan {
  /** Seconds, aligned to the step as Grafana's Prometheus data source aligns them. */
  start: number;
  end: number;
  step: number;
  /** The built-in variables' values for this query. */
  builtins: Record<string, string>;
}

/** What Grafana sends for one target of a panel `widthPx` wide over [fromMs, toMs]:
 *  the panel's interval is the range over maxDataPoints (the panel's own, or its width in
 *  px) rounded by roundInterval, at least the panel's `interval` or the data source's
 *  minimum; the Prometheus data source then raises it to the target's own interval (Min
 *  step) and to range/11000, and $__rate_interval is max($__interval + scrape, 4 × scrape);
 *  $__from and $__to are the range's ends in epoch ms. */
export function planQuery(
  fromMs: number,
  toMs: number,
  panel: Pick<PanelJSON, 'maxDataPoints' | 'interval'>,
  widthPx: number,
  target: Pick<Target, 'interval' | 'intervalFactor'> = {},
  scrapeMs = SCRAPE_INTERVAL_MS,
): QueryPlan {
  const rangeMsv = Math.max(1, toMs - fromMs);
  const resolution = panel.maxDataPoints && panel.maxDataPoints > 0 ? panel.maxDataPoints : Math.max(1, widthPx);
  const low = intervalToMs(panel.interval) ?? scrapeMs;
  const intervalMs = Math.max(low, roundInterval(rangeMsv / resolution));
  const intervalText = secondsToHms(intervalMs / 1000);
  const interval = intervalMs / 1000;
  const minInterval = (intervalToMs(target.interval) ?? intervalMs) / 1000;
  const scrape = (intervalToMs(target.interval) ?? scrapeMs) / 1000;
  let safe = Math.ceil(rangeMsv / 1000) / 11000;
  if (safe > 1) safe = Math.ceil(safe);
  const step = Math.max(interval * (target.intervalFactor || 1), minInterval, safe);
  const rate = Math.max(step + scrape, 4 * scrape);
  const sRange = Math.round(rangeMsv / 1000);
  const adjusted = step !== interval;
  const builtins: Record<string, string> = {
    __interval: adjusted ? `${step}s` : intervalText,
    __interval_ms: String(adjusted ? step * 1000 : intervalMs),
    __rate_interval: `${rate}s`,
    __range: `${sRange}s`,
    __range_s: String(sRange),
    __range_ms: String(rangeMsv),
    __from: String(Math.round(fromMs)),
    __to: String(Math.round(toMs)),
  };
  const start = Math.floor(fromMs / 1000 / step) * step;
  const end = Math.floor(toMs / 1000 / step) * step;
  return { start, end, step, builtins };
}

// --- legendFormat --------------------------------------------------------------------------

/** A series' name: legendFormat with each {{label}} replaced by the label's value (empty when
 *  the series lacks it); without a legendFormat (or "__auto"), Prometheus's own name. */
export function legendName(format: unknown, metric: Labels): string {
  if (typeof format !== 'string' || !format || format === '__auto') {
    const { __name__: name = '', ...rest } = metric;
    const inner = Object.keys(rest)
      .sort()
      .map((k) => `${k}="${rest[k]}"`)
      .join(', ');
    return inner ? `${name}{${inner}}` : name || 'Value';
  }
  return format.replace(/\{\{\s*(.+?)\s*\}\}/g, (_m, k: string) => metric[k] ?? '');
}
