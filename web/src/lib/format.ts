// Formatting helpers: pure, locale-independent (the page reads the same everywhere), and each
// answers "—" for a value that is missing or not a finite number.

export const DASH = '—';

type Num = number | null | undefined;

const ok = (x: Num): x is number => typeof x === 'number' && Number.isFinite(x);

/** x to `digits` significant digits, without trailing zeros: 1.2 → "1.2", 152.4 → "152". */
export function sig(x: number, digits = 3): string {
  if (x === 0) return '0';
  return String(Number(x.toPrecision(digits)));
}

/** Rounds to `decimals` places and groups thousands with commas: 10012.4 → "10,012.40". */
export function fixed(x: number, decimals: number): string {
  const s = Math.abs(x).toFixed(decimals);
  const [int, frac] = s.split('.');
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const sign = x < 0 && Number(s) !== 0 ? '-' : '';
  return sign + grouped + (frac ? '.' + frac : '');
}

/** Duration units from µs up, [suffix, milliseconds]. */
export const DURATION_UNITS: [string, number][] = [
  ['µs', 1e-3],
  ['ms', 1],
  ['s', 1e3],
  ['min', 60e3],
  ['h', 3600e3],
  ['d', 86400e3],
];
const DURATION_LIMIT: Record<string, number> = { µs: 1000, ms: 1000, s: 60, min: 60, h: 24 };

/** A duration given in milliseconds: 0.004 → "4 µs", 152 → "152 ms", 1260 → "1.26 s",
 *  1260000 → "21 min", 5400000 → "1.5 h". */
export function formatDurationMs(ms: Num): string {
  if (!ok(ms)) return DASH;
  if (ms === 0) return '0 ms';
  const sign = ms < 0 ? '-' : '';
  const a = Math.abs(ms);
  for (let i = 0; i < DURATION_UNITS.length; i++) {
    const [unit, size] = DURATION_UNITS[i];
    const v = Number((a / size).toPrecision(3));
    const limit = DURATION_LIMIT[unit];
    if (limit === undefined || v < limit || i === DURATION_UNITS.length - 1) {
      if (unit === 'µs' && v < 1) return sign + sig(a * 1e6) + ' ns';
      return sign + sig(v) + ' ' + unit;
    }
  }
  return DASH;
}

/** A duration given in seconds (Prometheus histograms are in seconds). */
export function formatSeconds(s: Num): string {
  return ok(s) ? formatDurationMs(s * 1000) : DASH;
}

const BYTE_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Bytes in binary units: 512 → "512 B", 28311552 → "27.0 MiB". */
export function formatBytes(n: Num): string {
  if (!ok(n)) return DASH;
  let v = Math.abs(n);
  let u = 0;
  while (v >= 1024 && u < BYTE_UNITS.length - 1) {
    v /= 1024;
    u++;
  }
  const text = u === 0 ? String(Math.round(v)) : v >= 100 ? v.toFixed(0) : v.toFixed(1);
  return (n < 0 ? '-' : '') + text + ' ' + BYTE_UNITS[u];
}

/** A value already in percent: 3.2 → "3.2 %", 0.4 → "0.40 %", 64.2 → "64 %". */
export function formatPercent(p: Num): string {
  if (!ok(p)) return DASH;
  if (p === 0) return '0 %';
  const a = Math.abs(p);
  const decimals = a >= 10 ? 0 : a >= 1 ? 1 : 2;
  return p.toFixed(decimals) + ' %';
}

/** A fraction shown as percent: 0.64 → "64 %", 0.0167 → "1.7 %". */
export function formatRatio(f: Num): string {
  return ok(f) ? formatPercent(f * 100) : DASH;
}

/** A per-second rate, in the unit that keeps it readable: 2.5 → "2.5/s", 0.05 → "3/min",
 *  0.0001 → "0.36/h". */
export function formatRate(perSecond: Num): string {
  if (!ok(perSecond)) return DASH;
  const a = Math.abs(perSecond);
  if (a === 0) return '0/s';
  if (a >= 1) return sig(perSecond) + '/s';
  if (a * 60 >= 1) return sig(perSecond * 60) + '/min';
  return sig(perSecond * 3600) + '/h';
}

/** A count, compact once it is large: 1234 → "1,234", 120000 → "120k", 2500000 → "2.5M". */
export function formatCount(n: Num): string {
  if (!ok(n)) return DASH;
  const a = Math.abs(n);
  if (a < 10000) return fixed(n, Number.isInteger(n) ? 0 : 2);
  if (a < 1e6) return sig(n / 1e3) + 'k';
  if (a < 1e9) return sig(n / 1e6) + 'M';
  return sig(n / 1e9) + 'G';
}

/** Money with two decimals: 10012.4 → "10,012.40"; signed adds "+" to gains. */
export function formatMoney(x: Num, signed = false): string {
  if (!ok(x)) return DASH;
  return (signed && x > 0 ? '+' : '') + fixed(x, 2);
}

/** How long ago `ms` was at `nowMs`: "just now", "12 s ago", "3 min ago", "in 5 s". */
export function formatRelative(ms: Num, nowMs: number): string {
  if (!ok(ms)) return DASH;
  const d = nowMs - ms;
  const a = Math.abs(d);
  if (a < 5000) return 'just now';
  let text: string;
  if (a < 60e3) text = Math.floor(a / 1e3) + ' s';
  else if (a < 3600e3) text = Math.floor(a / 60e3) + ' min';
  else if (a < 86400e3) text = Math.floor(a / 3600e3) + ' h';
  else text = Math.floor(a / 86400e3) + ' d';
  return d >= 0 ? text + ' ago' : 'in ' + text;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** A UTC time of day, "16:01:05" (simulated market time is UTC). */
export function formatClockUTC(ms: Num): string {
  if (!ok(ms)) return DASH;
  const d = new Date(ms);
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** A UTC date and time, "2025-12-05 16:01:05". */
export function formatDateTimeUTC(ms: Num): string {
  if (!ok(ms)) return DASH;
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${formatClockUTC(ms)}`;
}

/** A number for a chart axis or table: 3 significant digits, compact when large. */
export function formatValue(x: Num): string {
  if (!ok(x)) return DASH;
  const a = Math.abs(x);
  if (a >= 1e4) return formatCount(x);
  if (a === 0) return '0';
  if (a < 1e-3) return x.toExponential(2);
  return sig(x, 4);
}
