// Grafana template variables: reading them from a dashboard's `templating.list`, their
// options (custom, constant, interval, datasource here; query variables' options come from the
// API), what is selected (the URL's var-NAME first, as Grafana keeps it), and interpolation of
// $var, ${var}, ${var:format} and [[var]] with Grafana's formats — by default the Prometheus
// data source's, which turns a multi-value or All selection into a regex alternation (a|b).
import type { VariableJSON } from './dashboard';
import { roundInterval, secondsToHms, intervalToMs } from './dashboard';

/** The value Grafana stores (and puts in the URL) for "All". */
export const ALL = '$__all';

export interface VarOption {
  text: string;
  value: string;
}

export interface Variable {
  name: string;
  type: string;
  label: string;
  /** 0 shown with its label, 1 without, 2 hidden. */
  hide: number;
  multi: boolean;
  includeAll: boolean;
  allValue: string | null;
  /** The query (query variables), the values (custom, interval), the value (constant). */
  query: string;
  regex: string;
  sort: number;
  /** 1: options loaded with the dashboard, 2: again whenever the time range changes. */
  refresh: number;
  /** Static options; null for a query variable (they come from the API). */
  options: VarOption[] | null;
  /** The selection saved in the file. */
  current: string[];
  auto: { count: number; min: string } | null;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** A custom variable's values: "a,b,c" or "text : value" pairs; "\," is a literal comma. */
export function customOptions(query: string): VarOption[] {
  const parts = query.match(/(?:\\,|[^,])+/g) ?? [];
  return parts
    .map((p) => p.trim().replace(/\\,/g, ','))
    .filter((p) => p !== '')
    .map((p) => {
      const m = /^(.+?)\s:\s(.+)$/.exec(p);
      return m ? { text: m[1].trim(), value: m[2].trim() } : { text: p, value: p };
    });
}

/** The variables of `templating.list`, those without a name left out. */
export function parseVariables(list: VariableJSON[] | undefined): Variable[] {
  const out: Variable[] = [];
  for (const v of Array.isArray(list) ? list : []) {
    if (!v || typeof v !== 'object' || typeof v.name !== 'string' || !v.name) continue;
    const type = str(v.type) || 'custom';
    const q = v.query;
    const query =
      typeof q === 'string'
        ? q
        : q && typeof q === 'object'
          ? str((q as { query?: unknown }).query)
          : str(v.definition);
    const cur = v.current?.value;
    const current = Array.isArray(cur) ? cur.map(str).filter((s) => s !== '') : str(cur) ? [str(cur)] : [];
    let options: VarOption[] | null = null;
    if (type === 'custom' || type === 'interval') options = customOptions(query);
    else if (type === 'constant' || type === 'textbox') options = [{ text: query, value: query }];
    else if (type === 'datasource') options = [{ text: 'breakwatch', value: 'breakwatch' }];
    else if (type !== 'query')
      options = (Array.isArray(v.options) ? v.options : []).map((o) => ({ text: str(o?.text), value: str(o?.value) }));
    const auto = type === 'interval' && v.auto ? { count: v.auto_count || 30, min: v.auto_min || '10s' } : null;
    if (auto && options) options.unshift({ text: 'auto', value: '$__auto_interval_' + v.name });
    out.push({
      name: v.name,
      type,
      label: str(v.label) || v.name,
      hide: type === 'constant' ? 2 : typeof v.hide === 'number' ? v.hide : 0,
      multi: !!v.multi && type !== 'constant' && type !== 'interval',
      includeAll: !!v.includeAll && type !== 'constant' && type !== 'interval',
      allValue: typeof v.allValue === 'string' && v.allValue !== '' ? v.allValue : null,
      query,
      regex: str(v.regex),
      sort: typeof v.sort === 'number' ? v.sort : 0,
      refresh: typeof v.refresh === 'number' ? v.refresh : 1,
      options,
      current,
      auto,
    });
  }
  return out;
}

export type VarQuery =
  | { kind: 'label_values'; metric: string | null; label: string }
  | { kind: 'label_names'; metric: string | null }
  | { kind: 'metrics'; regex: string }
  | { kind: 'query_result'; expr: string };

/** A query variable's query, as the Prometheus data source reads it. */
export function parseVarQuery(query: string): VarQuery | null {
  const q = query.trim();
  let m = /^label_values\(\s*(?:(.+?)\s*,\s*)?([a-zA-Z_][a-zA-Z0-9_]*)\s*\)$/s.exec(q);
  if (m) return { kind: 'label_values', metric: m[1] ?? null, label: m[2] };
  m = /^label_names\(\s*(.*?)\s*\)$/s.exec(q);
  if (m) return { kind: 'label_names', metric: m[1] || null };
  m = /^metrics\(\s*(.*?)\s*\)$/s.exec(q);
  if (m) return { kind: 'metrics', regex: m[1] };
  m = /^query_result\(\s*(.+)\s*\)$/s.exec(q);
  if (m) return { kind: 'query_result', expr: m[1] };
  return null;
}

/** The options from raw values: deduplicated, kept or rewritten by the variable's regex
 *  ("/re/flags": a value is kept if it matches; the first capture group, or the group named
 *  `value` with one named `text`, becomes the value), then sorted by `sort` (1/2 alphabetical,
 *  3/4 numerical, 5/6 case-insensitive; odd ascending). */
export function toOptions(values: string[], regex = '', sort = 0): VarOption[] {
  let re: RegExp | null = null;
  const rm = /^\/(.*)\/([gimsuy]*)$/s.exec(regex);
  if (rm) {
    try {
      re = new RegExp(rm[1], rm[2].replace('g', ''));
    } catch {
      re = null;
    }
  }
  const seen = new Set<string>();
  const out: VarOption[] = [];
  for (const raw of values) {
    let opt: VarOption = { text: raw, value: raw };
    if (re) {
      const m = re.exec(raw);
      if (!m) continue;
      const g = m.groups;
      if (g && (g.value !== undefined || g.text !== undefined))
        opt = { text: g.text ?? g.value ?? raw, value: g.value ?? g.text ?? raw };
      else if (m[1] !== undefined) opt = { text: m[1], value: m[1] };
    }
    if (seen.has(opt.value)) continue;
    seen.add(opt.value);
    out.push(opt);
  }
  if (sort > 0) {
    const kind = Math.ceil(sort / 2);
    const cmp =
      kind === 2
        ? (a: VarOption, b: VarOption) => (parseFloat(a.text) || 0) - (parseFloat(b.text) || 0)
        : kind === 3
          ? (a: VarOption, b: VarOption) => a.text.toLowerCase().localeCompare(b.text.toLowerCase())
          : (a: VarOption, b: VarOption) => (a.text < b.text ? -1 : a.text > b.text ? 1 : 0);
    out.sort(cmp);
    if (sort % 2 === 0) out.reverse();
  }
  return out;
}

/** What is selected, given the options and what was asked for (the URL's values, else the
 *  file's `current`): the asked values that exist (All when asked and allowed); else All if
 *  the variable has it, else the first option. Never more than one value unless multi. */
export function resolveSelection(v: Variable, options: VarOption[], wanted: string[]): string[] {
  if (wanted.includes(ALL) && v.includeAll) return [ALL];
  const known = new Set(options.map((o) => o.value));
  // A value the options do not list is kept for a textbox, or when there are no options yet.
  let keep = wanted.filter((w) => known.has(w) || v.type === 'textbox');
  if (!v.multi) keep = keep.slice(0, 1);
  if (keep.length) return keep;
  if (v.includeAll) return [ALL];
  return options.length ? [options[0].value] : [];
}

/** A click on `value` in a variable's list: for a single-value variable it becomes the
 *  selection; for a multi-value one it is added or removed, All excluding the others and an
 *  empty selection falling back to All (or to the first option). */
export function toggleValue(v: Variable, selected: string[], value: string, options: VarOption[]): string[] {
  if (!v.multi) return [value];
  if (value === ALL) return [ALL];
  const rest = selected.filter((s) => s !== ALL);
  const next = rest.includes(value) ? rest.filter((s) => s !== value) : [...rest, value];
  if (next.length) return next;
  return v.includeAll ? [ALL] : options.length ? [options[0].value] : [];
}

/** The interval an `auto` interval variable takes: the range over auto_count steps, rounded
 *  as Grafana rounds, at least auto_min. */
export function autoInterval(rangeMs: number, count: number, min: string): string {
  const ms = Math.max(roundInterval(rangeMs / Math.max(1, count)), intervalToMs(min) ?? 0);
  return secondsToHms(ms / 1000);
}

/** A variable's value for interpolation. */
export interface VarValue {
  /** The selected values (All already expanded into every option's value). */
  values: string[];
  /** The selected options' texts ("All" for All). */
  text: string;
  all: boolean;
  allValue: string | null;
  multi: boolean;
  includeAll: boolean;
}

/** The value of `v` with `selected` among `options` (an auto interval resolved with
 *  `rangeMs`). */
export function varValue(v: Variable, selected: string[], options: VarOption[], rangeMs: number): VarValue {
  const all = selected.includes(ALL);
  let values = all ? options.map((o) => o.value) : selected;
  if (v.auto) {
    const auto = '$__auto_interval_' + v.name;
    values = values.map((x) => (x === auto ? autoInterval(rangeMs, v.auto!.count, v.auto!.min) : x));
  }
  const text = all ? 'All' : selected.map((s) => options.find((o) => o.value === s)?.text ?? s).join(' + ');
  return { values, text, all, allValue: v.allValue, multi: v.multi, includeAll: v.includeAll };
}

// Grafana's escapes: regexes in general, and the Prometheus data source's two.
const escapeRegex = (s: string) => s.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
const promRegularEscape = (s: string) => s.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");
const promRegexEscape = (s: string) => s.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]'+?.()|]/g, '\\\\$&');

const alternation = (xs: string[]) => (xs.length === 1 ? xs[0] : '(' + xs.join('|') + ')');

/** One value (`multi`: a list even of one, as Grafana passes multi-value variables) in
 *  `format`; undefined for a format Grafana does not have. */
function formatValue(name: string, vv: VarValue, format: string | undefined): string | undefined {
  const list = vv.values;
  const isList = vv.multi || vv.all;
  switch (format) {
    case undefined: // the Prometheus data source's interpolateQueryExpr
      if (!vv.multi && !vv.includeAll) return promRegularEscape(list[0] ?? '');
      return alternation(list.map(promRegexEscape));
    case 'regex':
      return alternation(list.map(escapeRegex));
    case 'pipe':
      return list.join('|');
    case 'csv':
    case 'raw':
      return list.join(',');
    case 'json':
      return JSON.stringify(isList ? list : (list[0] ?? ''));
    case 'glob':
      return list.length > 1 ? '{' + list.join(',') + '}' : (list[0] ?? '');
    case 'singlequote':
      return list.map((x) => `'${x.replace(/'/g, "\\'")}'`).join(',');
    case 'doublequote':
      return list.map((x) => `"${x.replace(/"/g, '\\"')}"`).join(',');
    case 'sqlstring':
      return list.map((x) => `'${x.replace(/'/g, "''")}'`).join(',');
    case 'text':
      return vv.text;
    case 'percentencode':
      return encodeURIComponent(isList && list.length > 1 ? '{' + list.join(',') + '}' : (list[0] ?? ''));
    case 'queryparam':
      return list.map((x) => `var-${encodeURIComponent(name)}=${encodeURIComponent(x)}`).join('&');
    case 'lucene':
      return list.length > 1
        ? '(' + list.map((x) => `"${x.replace(/[\\"]/g, '\\$&')}"`).join(' OR ') + ')'
        : (list[0] ?? '').replace(/[+\-&|!(){}[\]^"~*?:\\/ ]/g, '\\$&');
    default:
      return undefined;
  }
}

// Grafana's variable syntax: $name, [[name]] or [[name:format]], ${name} or ${name:format}.
const VAR_RE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\$\{(\w+)(?:\.[^:}]+)?(?::([^}]+))?\}/g;

/** `text` with every variable replaced: built-ins ($__interval, $__range…) by their value as
 *  is, dashboard variables in their format (All with an allValue gives the allValue as is,
 *  unless the format is text or percentencode). An unknown variable stays as written. */
export function interpolate(
  text: string,
  vars: Record<string, VarValue>,
  builtins: Record<string, string> = {},
): string {
  return text.replace(VAR_RE, (whole, a?: string, b?: string, bf?: string, c?: string, cf?: string) => {
    const name = a ?? b ?? c ?? '';
    const format = bf ?? cf;
    if (name in builtins) return builtins[name];
    const vv = vars[name];
    if (!vv) return whole;
    if (vv.all && vv.allValue !== null && format !== 'text' && format !== 'percentencode') return vv.allValue;
    return formatValue(name, vv, format) ?? formatValue(name, vv, 'csv')!;
  });
}

/** The variables `text` refers to (by name), built-ins included. */
export function referencedVariables(text: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(VAR_RE)) out.add(m[1] ?? m[2] ?? m[4]);
  return [...out];
}

/** The URL's var-NAME values. */
export function urlVariables(search: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(search)) {
    if (!k.startsWith('var-')) continue;
    (out[k.slice(4)] ??= []).push(v);
  }
  return out;
}

/** `search` with var-NAME set to `values` (one parameter per value, as Grafana writes it). */
export function withUrlVariable(search: string, name: string, values: string[]): string {
  const p = new URLSearchParams(search);
  p.delete('var-' + name);
  for (const v of values) p.append('var-' + name, v);
  const s = p.toString();
  return s ? '?' + s : '';
}
