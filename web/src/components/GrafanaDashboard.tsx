// A Grafana dashboard file drawn by the page: its toolbar (title, tags, the time range with
// zoom, the refresh), its template variables (selection in the URL as var-NAME, like
// Grafana), and its panels on Grafana's 24-column grid, rows included.
import { useEffect, useMemo, useState } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { variableValues } from '../api/dashboards';
import { RangeBar, useZoomableRange } from './RangePicker';
import { GrafanaPanel, PanelBoundary, type PanelContext } from './GrafanaPanel';
import { layoutPanels, intervalToMs, parseDashboardTime, tagsOf, text, type DashboardJSON } from '../lib/dashboard';
import {
  ALL,
  interpolate,
  parseVarQuery,
  parseVariables,
  referencedVariables,
  resolveSelection,
  toOptions,
  toggleValue,
  urlVariables,
  varValue,
  withUrlVariable,
  type VarOption,
  type VarValue,
  type Variable,
} from '../lib/variables';
import { HOUR, rangeMs, type TimeRange } from '../lib/range';
import { getSearchParam, setSearchParam } from '../router';
import { useSettings } from '../settings';

interface VarState {
  v: Variable;
  options: VarOption[];
  selected: string[];
  error: string | null;
}

/** Every variable's options (query variables' from the API, in order, each query
 *  interpolated with the selections before it) and selection. */
function useVariables(vars: Variable[], range: TimeRange, refreshMs: number | null) {
  const { autoRefresh } = useSettings();
  const [wanted, setWanted] = useState<Record<string, string[]>>(() => {
    const url = urlVariables(window.location.search);
    return Object.fromEntries(vars.map((v) => [v.name, url[v.name] ?? v.current]));
  });
  const queryVars = vars.filter((v) => v.type === 'query');
  // The selections the queries depend on, and the range when a variable refreshes with it.
  const deps = queryVars.flatMap((v) => referencedVariables(v.query)).filter((n) => n in wanted);
  const byRange = queryVars.some((v) => v.refresh === 2);
  const len = rangeMs(range);
  const loaded = useQuery({
    queryKey: [
      'grafana-vars',
      queryVars.map((v) => v.name + '=' + v.query + '/' + v.regex + '/' + v.sort),
      deps.map((n) => wanted[n]),
      byRange ? (range.kind === 'relative' ? `last:${range.ms}` : `abs:${range.startMs}-${range.endMs}`) : null,
    ],
    enabled: queryVars.length > 0,
    placeholderData: keepPreviousData,
    // As in Grafana, a variable that refreshes with the time range is queried again on every
    // refresh of a relative range (new label values show up, as new symbols do).
    refetchInterval: byRange && range.kind === 'relative' && autoRefresh && refreshMs ? refreshMs : false,
    retry: false,
    queryFn: async ({ signal }) => {
      const end = range.kind === 'relative' ? Date.now() : range.endMs;
      const window = { start: (end - len) / 1000, end: end / 1000 };
      const out: Record<string, { options: VarOption[]; error: string | null }> = {};
      const values: Record<string, VarValue> = {};
      for (const v of vars) {
        let options = v.options ?? [];
        let error: string | null = null;
        if (v.type === 'query') {
          const q = parseVarQuery(interpolate(v.query, values));
          if (!q) error = `cannot read the query ${JSON.stringify(v.query)}`;
          else {
            try {
              options = toOptions(await variableValues(q, window, signal), v.regex, v.sort);
            } catch (e) {
              error = e instanceof Error ? e.message : String(e);
            }
          }
          out[v.name] = { options, error };
        }
        values[v.name] = varValue(v, resolveSelection(v, options, wanted[v.name] ?? []), options, len);
      }
      return out;
    },
  });
  const ready = queryVars.length === 0 || loaded.data !== undefined || loaded.isError;
  const states: VarState[] = vars.map((v) => {
    const l = v.type === 'query' ? loaded.data?.[v.name] : undefined;
    const options = v.type === 'query' ? (l?.options ?? []) : (v.options ?? []);
    const error = v.type === 'query' ? (l?.error ?? (loaded.isError ? String(loaded.error) : null)) : null;
    return { v, options, selected: resolveSelection(v, options, wanted[v.name] ?? []), error };
  });
  const values = useMemo(
    () => Object.fromEntries(states.map((s) => [s.v.name, varValue(s.v, s.selected, s.options, len)])),
    [JSON.stringify(states.map((s) => [s.selected, s.options])), len],
  );
  // The URL says what is shown, as Grafana's does.
  const key = JSON.stringify(states.map((s) => [s.v.name, s.selected]));
  useEffect(() => {
    if (!ready) return;
    let search = window.location.search;
    for (const s of states) if (s.v.type !== 'constant') search = withUrlVariable(search, s.v.name, s.selected);
    if (search !== window.location.search) window.history.replaceState(null, '', window.location.pathname + search);
  }, [key, ready]);
  const select = (name: string, next: string[]) => setWanted((w) => ({ ...w, [name]: next }));
  return { states, values, ready, loading: loaded.isFetching, select };
}

function VariableControl({ s, onChange }: { s: VarState; onChange: (values: string[]) => void }) {
  const { v, options, selected } = s;
  const all = v.includeAll ? [{ text: 'All', value: ALL }, ...options] : options;
  const id = `var-${v.name}`;
  const text = selected.includes(ALL)
    ? 'All'
    : selected.map((x) => options.find((o) => o.value === x)?.text ?? x).join(' + ');
  return (
    <label className="field gvar" data-testid={`gvar-${v.name}`}>
      {v.hide !== 1 && <span className="field-label">{v.label}</span>}
      {v.multi ? (
        <details className="gvar-multi" data-testid={id}>
          <summary data-testid={`${id}-current`}>{text || 'None'}</summary>
          <div className="gvar-list" role="group" aria-label={v.label}>
            {all.map((o) => (
              <label key={o.value} className="gvar-option">
                <input
                  type="checkbox"
                  checked={selected.includes(o.value)}
                  onChange={() => onChange(toggleValue(v, selected, o.value, options))}
                  data-testid={`${id}-option`}
                  data-value={o.value}
                />
                {o.text}
              </label>
            ))}
          </div>
        </details>
      ) : (
        <select
          value={selected[0] ?? ''}
          onChange={(e) => onChange([e.target.value])}
          disabled={all.length <= 1}
          data-testid={id}
        >
          {all.map((o) => (
            <option key={o.value} value={o.value}>
              {o.text}
            </option>
          ))}
        </select>
      )}
      {s.error && (
        <span className="gvar-error" role="alert" data-testid={`${id}-error`}>
          {s.error}
        </span>
      )}
    </label>
  );
}

const REFRESH_CHOICES = ['', '5s', '10s', '30s', '1m', '5m', '15m', '1h'];

/** The range from the URL's from/to (Grafana's: "now-6h" or epoch ms), else the file's. */
function initialRange(dash: DashboardJSON): TimeRange {
  const from = getSearchParam('from');
  const to = getSearchParam('to');
  return (
    (from && to ? parseDashboardTime(from, to) : null) ??
    parseDashboardTime(dash.time?.from, dash.time?.to) ?? { kind: 'relative', ms: HOUR }
  );
}

/** Grafana's "now-1h" for the last `ms`. */
function relativeText(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s % 86400 === 0) return `now-${s / 86400}d`;
  if (s % 3600 === 0) return `now-${s / 3600}h`;
  return s % 60 === 0 ? `now-${s / 60}m` : `now-${s}s`;
}

/** The range in the URL as Grafana writes it: from=now-1h&to=now, or epoch ms. */
function rangeToUrl(r: TimeRange) {
  setSearchParam('from', r.kind === 'relative' ? relativeText(r.ms) : String(r.startMs));
  setSearchParam('to', r.kind === 'relative' ? 'now' : String(r.endMs));
}

export function GrafanaDashboard({ dash }: { dash: DashboardJSON }) {
  const r = useZoomableRange(() => initialRange(dash));
  const range = r.range;
  const [refresh, setRefresh] = useState<string>(
    () => getSearchParam('refresh') ?? (typeof dash.refresh === 'string' ? dash.refresh : ''),
  );
  const vars = useMemo(() => parseVariables(dash.templating?.list), [dash]);
  const v = useVariables(vars, range, intervalToMs(refresh));
  const [toggled, setToggled] = useState<Set<string>>(new Set());
  const cells = useMemo(() => layoutPanels(dash.panels, toggled), [dash, toggled]);
  useEffect(() => rangeToUrl(range), [JSON.stringify(range)]);
  const ctx = useMemo<PanelContext>(
    () => ({
      range,
      vars: v.values,
      ready: v.ready,
      refreshMs: intervalToMs(refresh),
      onZoom: r.onZoom,
      sync: dash.graphTooltip ? `gdash-${text(dash.uid)}` : undefined,
    }),
    [range, v.values, v.ready, refresh, dash],
  );
  const shownVars = v.states.filter((s) => s.v.hide !== 2);
  const uid = text(dash.uid);
  return (
    <div className="page gdash" data-testid="grafana-dashboard" data-uid={uid}>
      <div className="toolbar">
        <h1 data-testid="gdash-title" title={text(dash.description) || undefined}>
          {text(dash.title) || uid}
        </h1>
        {tagsOf(dash.tags).map((t) => (
          <span key={t} className="badge">
            {t}
          </span>
        ))}
        <RangeBar r={r} />
        <label className="field gdash-refresh">
          <span className="field-label">Refresh</span>
          <select
            value={refresh}
            onChange={(e) => {
              setRefresh(e.target.value);
              setSearchParam('refresh', e.target.value || null);
            }}
            data-testid="gdash-refresh"
          >
            {[...new Set([refresh, ...REFRESH_CHOICES])].map((r) => (
              <option key={r} value={r}>
                {r || 'Off'}
              </option>
            ))}
          </select>
        </label>
      </div>
      {shownVars.length > 0 && (
        <div className="gvars" data-testid="gdash-variables">
          {shownVars.map((s) => (
            <VariableControl key={s.v.name} s={s} onChange={(vals) => v.select(s.v.name, vals)} />
          ))}
        </div>
      )}
      <p className="hint">
        From <code>{uid}</code>'s file, as Grafana shows it. Drag across a chart to zoom every panel.
      </p>
      <div className="gdash-grid" data-testid="gdash-grid">
        {cells.map((c) => (
          <div
            key={c.key}
            className={c.panel.type === 'row' ? 'gcell grow' : 'gcell'}
            style={{ gridColumn: `${c.x + 1} / span ${c.w}`, gridRow: `${c.y + 1} / span ${c.h}` }}
          >
            {c.panel.type === 'row' ? (
              <button
                type="button"
                className="grow-btn"
                aria-expanded={!c.collapsed}
                data-testid="grow"
                onClick={() =>
                  setToggled((t) => {
                    const n = new Set(t);
                    if (n.has(c.key)) n.delete(c.key);
                    else n.add(c.key);
                    return n;
                  })
                }
              >
                {c.collapsed ? '▸' : '▾'} {text(c.panel.title)}
              </button>
            ) : (
              <PanelBoundary title={text(c.panel.title)}>
                <GrafanaPanel panel={c.panel} h={c.h} ctx={ctx} />
              </PanelBoundary>
            )}
          </div>
        ))}
      </div>
    </div>
  );
}
