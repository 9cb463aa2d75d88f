// One panel of a Grafana dashboard file: its queries (each target interpolated with the
// dashboard's variables and Grafana's built-ins for this panel's width, then sent to the
// Prometheus-compatible API), and its body by type — timeseries, stat, gauge, heatmap,
// state-timeline, table — with the page's own charts. Any other type says so in the panel.
import { useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import uPlot from 'uplot';
import { queryInstant, queryRange } from '../api/prom';
import type { MatrixSeries, VectorSample } from '../api/types';
import { useSettings } from '../settings';
import { Chart, PALETTE, lineSeries, timeAxis, valueAxis } from './Chart';
import { ErrorBoundary } from './ErrorBoundary';
import { Heatmap } from './Heatmap';
import { StateTimeline } from './StateTimeline';
import { Sparkline } from './Sparkline';
import { Empty, QueryView } from './Panel';
import { TableHead } from './TableHead';
import {
  gridHeightPx,
  legendName,
  planQuery,
  text,
  type FieldConfig,
  type PanelJSON,
  type Target,
} from '../lib/dashboard';
import { interpolate, type VarValue } from '../lib/variables';
import {
  CALC_NAMES,
  applyMappings,
  bucketsToCounts,
  fieldConfigFor,
  formatUnit,
  grafanaColor,
  reduce,
  sortTable,
  thresholdColor,
  timelineBands,
  vectorTable,
  type TableData,
} from '../lib/fields';
import { alignMatrix } from '../lib/series';
import { formatDateTimeUTC } from '../lib/format';
import { rangeMs, type TimeRange } from '../lib/range';

export const SUPPORTED_TYPES = ['timeseries', 'stat', 'gauge', 'heatmap', 'state-timeline', 'table'];

export interface PanelContext {
  range: TimeRange;
  vars: Record<string, VarValue>;
  /** False while a variable's options are still loading: no query is sent yet. */
  ready: boolean;
  refreshMs: number | null;
  onZoom: (fromS: number, toS: number) => void;
  sync?: string;
}

/** One series of a range query, named and on the query's grid. */
interface NamedSeries {
  name: string;
  refId: string;
  target: Target;
  metric: Record<string, string>;
  values: (number | null)[];
}

interface PanelData {
  /** Range targets, on one grid (the first target's: targets share the step). */
  x: number[];
  step: number;
  series: NamedSeries[];
  /** Instant targets, as answered. */
  vectors: { refId: string; target: Target; samples: VectorSample[] }[];
}

/** What the API answered for a panel's queries, in their order, before any naming: panels
 *  sending the same queries share it (one request), each naming the series its own way. */
interface RawData {
  x: number[];
  step: number;
  answers: (
    | { instant: true; samples: VectorSample[] }
    | { instant: false; series: { metric: Record<string, string>; values: (number | null)[] }[] }
  )[];
}

const isInstant = (t: Target) => (t.instant === true && t.range !== true) || t.format === 'table';

/** The queries this panel sends for `width` px over `range` (built-ins and variables
 *  interpolated), with the window each runs over at `nowMs`. */
export function panelQueries(
  panel: PanelJSON,
  ctx: Pick<PanelContext, 'range' | 'vars'>,
  width: number,
  nowMs: number,
) {
  const len = rangeMs(ctx.range);
  const toMs = ctx.range.kind === 'relative' ? nowMs : ctx.range.endMs;
  const fromMs = toMs - len;
  return (Array.isArray(panel.targets) ? panel.targets : [])
    .filter((t) => t && typeof t === 'object' && !t.hide && typeof t.expr === 'string' && t.expr.trim() !== '')
    .map((t, i) => {
      const plan = planQuery(fromMs, toMs, panel, width, t);
      return {
        target: t,
        refId: typeof t.refId === 'string' && t.refId ? t.refId : String.fromCharCode(65 + i),
        expr: interpolate(t.expr!, ctx.vars, plan.builtins),
        instant: isInstant(t),
        plan,
        timeS: toMs / 1000,
      };
    });
}

async function runPanel(
  panel: PanelJSON,
  ctx: Pick<PanelContext, 'range' | 'vars'>,
  width: number,
  signal: AbortSignal,
): Promise<RawData> {
  const qs = panelQueries(panel, ctx, width, Date.now());
  const grid = qs.find((q) => !q.instant)?.plan;
  const x = grid ? alignMatrix([], grid.start, grid.end, grid.step).x : [];
  const answers = await Promise.all(
    qs.map(async (q): Promise<RawData['answers'][number]> => {
      if (q.instant) {
        const d = await queryInstant(q.expr, q.timeS, signal);
        const samples: VectorSample[] =
          d.resultType === 'vector'
            ? d.result
            : d.resultType === 'scalar'
              ? [{ metric: {}, value: d.result }]
              : d.resultType === 'matrix'
                ? d.result.map((s: MatrixSeries) => ({
                    metric: s.metric,
                    value: s.values[s.values.length - 1] ?? [0, 'NaN'],
                  }))
                : [];
        return { instant: true, samples };
      }
      const r = await queryRange(q.expr, q.plan, signal);
      if (!grid) return { instant: false, series: [] };
      const al = alignMatrix(r.series, grid.start, grid.end, grid.step);
      return { instant: false, series: r.series.map((s, i) => ({ metric: s.metric, values: al.ys[i] })) };
    }),
  );
  return { x, step: grid?.step ?? 1, answers };
}

/** The answers named for this panel: each series by its target's legendFormat, with the
 *  target's refId (the queries are this panel's, in the order they were sent). */
function nameData(raw: RawData, qs: ReturnType<typeof panelQueries>): PanelData {
  const out: PanelData = { x: raw.x, step: raw.step, series: [], vectors: [] };
  raw.answers.forEach((a, i) => {
    const q = qs[i];
    if (!q) return;
    if (a.instant) out.vectors.push({ refId: q.refId, target: q.target, samples: a.samples });
    else
      for (const s of a.series)
        out.series.push({
          name: legendName(q.target.legendFormat, s.metric),
          refId: q.refId,
          target: q.target,
          metric: s.metric,
          values: s.values,
        });
  });
  return out;
}

/** The size of an element, followed as it changes. */
function useSize<T extends HTMLElement>(): [React.RefObject<T>, { w: number; h: number }] {
  const ref = useRef<T>(null);
  const [size, setSize] = useState({ w: 0, h: 0 });
  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const read = () =>
      setSize((s) =>
        s.w === el.clientWidth && s.h === el.clientHeight ? s : { w: el.clientWidth, h: el.clientHeight },
      );
    read();
    const ro = new ResizeObserver(read);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);
  return [ref, size];
}

const hasData = (d: RawData) =>
  d.answers.some((a) => (a.instant ? a.samples.length > 0 : a.series.some((s) => s.values.some((v) => v !== null))));

/** A panel whose file has a shape the renderer did not expect says so in its box, instead of
 *  taking the dashboard down with it. */
export function PanelBoundary({ title, children }: { title?: string; children: ReactNode }) {
  return (
    <ErrorBoundary
      fallback={(error) => (
        <section className="panel gpanel" data-state="error" aria-label={title || 'Untitled panel'}>
          <div className="state state-error" role="alert" data-testid="state-error">
            <strong>This panel could not be drawn</strong>
            <span>{error}</span>
          </div>
        </section>
      )}
    >
      {children}
    </ErrorBoundary>
  );
}

export function GrafanaPanel({ panel, h, ctx }: { panel: PanelJSON; h: number; ctx: PanelContext }) {
  const type = text(panel.type) || '(none)';
  const title = text(panel.title);
  const description = text(panel.description);
  const supported = SUPPORTED_TYPES.includes(type);
  const [bodyRef, size] = useSize<HTMLDivElement>();
  // The width in px rounded to 10: a few pixels of resizing should not change every query.
  const width = Math.round(size.w / 10) * 10;
  const { autoRefresh, intervalMs } = useSettings();
  const qs = useMemo(() => (width > 0 ? panelQueries(panel, ctx, width, 0) : []), [panel, ctx.vars, ctx.range, width]);
  // The key is what is sent, not how it is named: panels with the same queries share one answer.
  const exprs = qs.map((q) => q.expr + (q.instant ? '@i' : '@r' + q.plan.step));
  const stepMs = (qs[0]?.plan.step ?? 1) * 1000;
  // At the dashboard's refresh, but no faster than the step (a point a minute is fetched once a
  // minute), except while there is no data yet: then at the refresh, to show the first point soon.
  const every =
    autoRefresh && ctx.refreshMs && ctx.range.kind === 'relative' ? Math.max(ctx.refreshMs, intervalMs) : null;
  const rk = ctx.range.kind === 'relative' ? `last:${ctx.range.ms}` : `abs:${ctx.range.startMs}-${ctx.range.endMs}`;
  const query = useQuery({
    queryKey: ['grafana-panel', exprs, rk],
    queryFn: ({ signal }) => runPanel(panel, ctx, width, signal),
    enabled: supported && ctx.ready && width > 0 && exprs.length > 0,
    refetchInterval: (q) =>
      every === null ? false : q.state.data && hasData(q.state.data) ? Math.max(every, stepMs) : every,
    placeholderData: keepPreviousData,
  });
  const named = useMemo(() => (query.data ? nameData(query.data, qs) : undefined), [query.data, qs]);
  const state = !supported
    ? 'unsupported'
    : query.data !== undefined
      ? hasData(query.data)
        ? 'data'
        : 'empty'
      : query.isError
        ? 'error'
        : 'loading';
  const bodyHeight = Math.max(40, gridHeightPx(h) - 34);
  return (
    <section
      className="panel gpanel"
      data-testid={`gpanel-${panel.id ?? ''}`}
      data-panel-id={panel.id}
      data-panel-type={type}
      data-state={query.isError && supported ? 'error' : state}
      aria-label={title || 'Untitled panel'}
    >
      <header className="panel-head gpanel-head">
        <h2 data-testid="gpanel-title">{title}</h2>
        {description && (
          <span className="gpanel-info" title={description} aria-label={description} data-testid="gpanel-description">
            i
          </span>
        )}
        {query.isFetching && supported && <span className="spinner small" aria-hidden="true" />}
      </header>
      <div className="gpanel-body" ref={bodyRef} style={{ height: bodyHeight }}>
        {!supported ? (
          <div className="state state-error gpanel-unsupported" role="note" data-testid="gpanel-unsupported">
            <strong>panel type {type} is not supported</strong>
            <span>This page draws {SUPPORTED_TYPES.join(', ')}.</span>
          </div>
        ) : !Array.isArray(panel.targets) || panel.targets.length === 0 ? (
          <Empty>This panel has no queries.</Empty>
        ) : !ctx.ready ? (
          <Empty>Waiting for the variables…</Empty>
        ) : (
          <QueryView query={query} isEmpty={(d) => !hasData(d)} empty="No data" loading="Loading">
            {() =>
              named && <PanelBody panel={panel} data={named} ctx={ctx} width={size.w} height={size.h || bodyHeight} />
            }
          </QueryView>
        )}
      </div>
    </section>
  );
}

/** What a panel type's body draws from: the panel, its answered data, the dashboard's context
 *  and the height it has. */
type BodyProps = { panel: PanelJSON; data: PanelData; ctx: PanelContext; height: number };

function PanelBody(p: BodyProps & { width: number }) {
  switch (p.panel.type) {
    case 'timeseries':
      return <TimeseriesBody {...p} />;
    case 'stat':
    case 'gauge':
      return <StatBody {...p} />;
    case 'heatmap':
      return <HeatmapBody {...p} />;
    case 'state-timeline':
      return <StateTimelineBody {...p} />;
    case 'table':
      return <TableBody {...p} />;
    default:
      return null;
  }
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

const cfgOf = (panel: PanelJSON, name: string, refId?: string): FieldConfig => {
  const fc = isObject(panel.fieldConfig) ? panel.fieldConfig : {};
  return fieldConfigFor(isObject(fc.defaults) ? fc.defaults : undefined, fc.overrides, name, refId);
};

const opt = <T,>(panel: PanelJSON, key: string): T | undefined =>
  isObject(panel.options) ? (panel.options[key] as T | undefined) : undefined;

// --- timeseries ----------------------------------------------------------------------------

interface LegendOpts {
  showLegend?: boolean;
  displayMode?: string;
  placement?: string;
  calcs?: string[];
}

function TimeseriesBody({ panel, data, ctx, height }: BodyProps) {
  const legend = opt<LegendOpts>(panel, 'legend') ?? {};
  const calcs = (Array.isArray(legend.calcs) ? legend.calcs : []).filter((c) => c in CALC_NAMES);
  const showLegend = legend.showLegend !== false && legend.displayMode !== 'hidden';
  const right = legend.placement === 'right';
  const series = data.series;
  const view = useMemo(() => {
    const cfgs = series.map((s) => cfgOf(panel, s.name, s.refId));
    // One scale (and axis) per unit and side.
    const scales: { key: string; unit?: string; right: boolean; cfg: FieldConfig }[] = [];
    const scaleOf = cfgs.map((c) => {
      const side = c.custom?.axisPlacement === 'right';
      const key = `${c.unit ?? ''}|${side}`;
      let i = scales.findIndex((s) => s.key === key);
      if (i < 0) i = scales.push({ key, unit: c.unit, right: side, cfg: c }) - 1;
      return i === 0 ? 'y' : `y${i}`;
    });
    const colors = cfgs.map((c, i) =>
      c.color?.mode === 'fixed' && c.color.fixedColor ? grafanaColor(c.color.fixedColor)! : PALETTE[i % PALETTE.length],
    );
    const options: Omit<uPlot.Options, 'width' | 'height'> = {
      cursor: ctx.sync ? { sync: { key: ctx.sync } } : {},
      legend: { show: false },
      scales: {
        x: { time: true },
        // min/max from the field config; the other end (or both) padded as uPlot pads, so that
        // a line at the data's extreme is not cut by the plot's edge.
        ...Object.fromEntries(
          scales.map((s, i) => {
            const { min, max } = s.cfg;
            const range = (_u: uPlot, dmin: number, dmax: number): uPlot.Range.MinMax => {
              const [lo, hi] = uPlot.rangeNum(min ?? dmin, max ?? dmax, 0.1, true);
              return [min ?? lo, max ?? hi];
            };
            return [i === 0 ? 'y' : `y${i}`, min === undefined && max === undefined ? {} : { range }];
          }),
        ),
      },
      axes: [
        timeAxis(),
        ...scales.map((s, i) =>
          valueAxis((v) => formatUnit(v, s.unit, s.cfg.decimals), s.right ? 'right' : 'left', i === 0 ? 'y' : `y${i}`),
        ),
      ],
      series: [
        {},
        ...series.map((s, i) =>
          lineSeries(s.name, colors[i], {
            scale: scaleOf[i],
            value: (_u, v) => formatUnit(v, cfgs[i].unit, cfgs[i].decimals),
          }),
        ),
      ],
    };
    return { options, cfgs, colors };
  }, [panel, series.map((s) => s.name + '\u0000' + s.refId).join('\u0001'), ctx.sync]);
  const chartData = useMemo(() => [data.x, ...series.map((s) => s.values)] as uPlot.AlignedData, [data]);
  const legendRows = showLegend && !right ? Math.min(series.length, 6) : 0;
  const legendH = legendRows ? (calcs.length ? 20 : 0) + legendRows * 20 + 6 : 0;
  const chartH = Math.max(60, height - legendH);
  const legendEl = showLegend ? (
    <div
      className={`glegend ${right ? 'glegend-right' : ''}`}
      style={right ? { maxHeight: height } : { maxHeight: legendH }}
    >
      <table className="table compact">
        {calcs.length > 0 && <TableHead columns={['', ...calcs.map((c) => CALC_NAMES[c])]} />}
        <tbody>
          {series.map((s, i) => (
            <tr key={s.name + i} data-testid="glegend-item">
              <td>
                <span className="swatch" style={{ background: view.colors[i] }} aria-hidden="true" />
                {s.name}
              </td>
              {calcs.map((c) => (
                <td key={c} className="num">
                  {formatUnit(reduce(s.values, c), view.cfgs[i].unit, view.cfgs[i].decimals)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  ) : null;
  return (
    <div className={right ? 'gts gts-right' : 'gts'}>
      <div className="gts-chart">
        <Chart
          options={view.options}
          data={chartData}
          height={chartH}
          label={`${text(panel.title) || 'Chart'}: ${series.map((s) => s.name).join(', ')}`}
          onSelectRange={ctx.onZoom}
        />
      </div>
      {legendEl}
    </div>
  );
}

// --- stat and gauge ------------------------------------------------------------------------

interface ReduceOpts {
  calcs?: string[];
}

export interface StatItem {
  name: string;
  value: number | null;
  text: string;
  color: string | null;
  cfg: FieldConfig;
  spark: (number | null)[] | null;
}

/** One item per series: its values reduced by the panel's first calc, then mapped or
 *  formatted in its unit, coloured by its mapping or thresholds. */
function statItems(panel: PanelJSON, data: PanelData): StatItem[] {
  const calcs = opt<ReduceOpts>(panel, 'reduceOptions')?.calcs;
  const calc = Array.isArray(calcs) && typeof calcs[0] === 'string' ? calcs[0] : 'lastNotNull';
  const rows = [
    ...data.series.map((s) => ({ name: s.name, refId: s.refId, value: reduce(s.values, calc), spark: s.values })),
    ...data.vectors.flatMap((v) =>
      v.samples.map((s) => ({
        name: legendName(v.target.legendFormat, s.metric),
        refId: v.refId,
        value: Number.isFinite(Number(s.value[1])) ? Number(s.value[1]) : null,
        spark: null,
      })),
    ),
  ];
  return rows.map((r) => {
    const cfg = cfgOf(panel, r.name, r.refId);
    const mapped = applyMappings(r.value, cfg.mappings);
    const fixed = cfg.color?.mode === 'fixed' ? grafanaColor(cfg.color.fixedColor) : null;
    return {
      name: cfg.displayName ?? r.name,
      value: r.value,
      text: mapped?.text ?? formatUnit(r.value, cfg.unit, cfg.decimals),
      color: mapped?.color ?? fixed ?? thresholdColor(r.value, cfg.thresholds, cfg.min ?? 0, cfg.max ?? 100),
      cfg,
      spark: r.spark,
    };
  });
}

function StatBody({ panel, data, height }: { panel: PanelJSON; data: PanelData; height: number }) {
  const items = statItems(panel, data);
  const gauge = panel.type === 'gauge';
  const textMode = opt<string>(panel, 'textMode') ?? 'auto';
  const colorMode = opt<string>(panel, 'colorMode') ?? 'value';
  const graph = opt<string>(panel, 'graphMode') !== 'none';
  const many = items.length > 1;
  return (
    <div className={`gstats ${many ? 'gstats-many' : ''}`}>
      {items.map((it, i) => {
        const showName = textMode === 'name' || textMode === 'value_and_name' || (textMode === 'auto' && many);
        const showValue = textMode !== 'name' && textMode !== 'none';
        const bg = colorMode === 'background' && it.color && !gauge ? it.color : undefined;
        const fg = !bg && it.color && colorMode !== 'none' ? it.color : undefined;
        return (
          <div
            key={it.name + i}
            className={`gstat ${bg ? 'gstat-bg' : ''}`}
            style={{ background: bg }}
            data-testid="gstat"
            data-name={it.name}
            data-value={it.value ?? ''}
          >
            {gauge ? (
              <Gauge item={it} size={Math.max(60, Math.min(height / Math.max(1, items.length), 220))} />
            ) : (
              <>
                {showName && <div className="gstat-name">{it.name}</div>}
                {showValue && (
                  <div className="gstat-value" style={{ color: fg }} data-testid="gstat-value">
                    {it.text}
                  </div>
                )}
                {!showValue && !showName && <div className="gstat-value">&nbsp;</div>}
                {graph && !many && it.spark && (
                  <Sparkline values={it.spark} color={it.color ?? PALETTE[0]} label={it.name} />
                )}
              </>
            )}
          </div>
        );
      })}
    </div>
  );
}

/** A 240° arc from min to max, its filled part the value's threshold colour. */
function Gauge({ item, size }: { item: StatItem; size: number }) {
  const min = item.cfg.min ?? 0;
  const max = item.cfg.max ?? 100;
  const frac = item.value === null ? 0 : Math.max(0, Math.min(1, (item.value - min) / (max - min || 1)));
  const r = 40;
  const a0 = (150 * Math.PI) / 180;
  const sweep = (240 * Math.PI) / 180;
  const pt = (a: number) => `${50 + r * Math.cos(a)} ${55 + r * Math.sin(a)}`;
  const arc = (f: number) => `M ${pt(a0)} A ${r} ${r} 0 ${f * sweep > Math.PI ? 1 : 0} 1 ${pt(a0 + f * sweep)}`;
  return (
    <svg
      viewBox="0 0 100 90"
      width={size}
      height={size * 0.9}
      role="img"
      aria-label={`${item.name}: ${item.text}`}
      data-testid="ggauge"
    >
      <path d={arc(1)} className="ggauge-track" fill="none" strokeWidth="9" />
      {frac > 0 && <path d={arc(frac)} fill="none" stroke={item.color ?? PALETTE[0]} strokeWidth="9" />}
      <text
        x="50"
        y="60"
        textAnchor="middle"
        className="ggauge-text"
        fill={item.color ?? 'currentColor'}
        data-testid="gstat-value"
      >
        {item.text}
      </text>
    </svg>
  );
}

// --- heatmap -------------------------------------------------------------------------------

function HeatmapBody({ panel, data, ctx, height }: BodyProps) {
  const view = useMemo(() => {
    // As Grafana's Prometheus data source: a target of format "heatmap" is cumulative
    // buckets (by `le`), turned into the count in each; any other format is drawn as named.
    const buckets = data.series.filter((s) => s.target.format === 'heatmap' && s.metric.le !== undefined);
    if (buckets.length > 0 && buckets.length === data.series.length) {
      const c = bucketsToCounts(buckets.map((s) => ({ le: s.metric.le, values: s.values })));
      return { rows: c.le, values: c.values };
    }
    const sorted = [...data.series].sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }));
    return { rows: sorted.map((s) => s.name || '(none)'), values: sorted.map((s) => s.values) };
  }, [data]);
  const defaults = panel.fieldConfig?.defaults;
  const unit = isObject(defaults) ? text(defaults.unit) : '';
  return (
    <div data-rows={view.rows.join(',')}>
      <Heatmap
        x={data.x}
        rows={view.rows}
        values={view.values}
        step={data.step}
        label={text(panel.title) || 'Heatmap'}
        unit={unit}
        sync={ctx.sync}
        onSelectRange={ctx.onZoom}
        height={Math.max(60, height - 26)}
        testId="gheatmap"
      />
    </div>
  );
}

// --- state timeline ------------------------------------------------------------------------

function StateTimelineBody({ panel, data, ctx, height }: BodyProps) {
  const view = useMemo(() => {
    const lanes = data.series.map((s) => ({ name: s.name, values: s.values, cfg: cfgOf(panel, s.name, s.refId) }));
    return {
      states: lanes.map((l) => l.name),
      bands: timelineBands(data.x, data.step, lanes, opt<boolean>(panel, 'mergeValues') !== false),
    };
  }, [panel, data]);
  return (
    <StateTimeline
      x={data.x}
      states={view.states}
      bands={view.bands}
      label={text(panel.title) || 'State timeline'}
      sync={ctx.sync}
      onSelectRange={ctx.onZoom}
      height={height}
    />
  );
}

// --- table ---------------------------------------------------------------------------------

function TableBody({ panel, data }: { panel: PanelJSON; data: PanelData }) {
  const tables = useMemo(() => {
    const out: { refId: string; t: TableData }[] = data.vectors.map((v) => ({
      refId: v.refId,
      t: vectorTable(v.samples),
    }));
    // Range targets: one row per series, its last value (a series with none has no time: —).
    const byRef = new Map<string, VectorSample[]>();
    for (const s of data.series) {
      const i = s.values.map((v) => v !== null).lastIndexOf(true);
      const list = byRef.get(s.refId) ?? [];
      list.push({ metric: s.metric, value: i >= 0 ? [data.x[i], String(s.values[i])] : [NaN, 'NaN'] });
      byRef.set(s.refId, list);
    }
    for (const [refId, samples] of byRef) out.push({ refId, t: vectorTable(samples) });
    const sortBy = opt<{ displayName?: string; desc?: boolean }[]>(panel, 'sortBy');
    return out.map((x) => ({ ...x, t: sortTable(x.t, sortBy) }));
  }, [panel, data]);
  return (
    <div className="gtable-wrap">
      {tables.map(({ refId, t }) => {
        const cfg = cfgOf(panel, 'Value', refId);
        // Grafana colours a cell only when its cell type asks for it.
        const cell = cfg.custom?.cellOptions as { type?: string } | undefined;
        const colored = cell?.type === 'color-text' || cfg.custom?.displayMode === 'color-text';
        return (
          <table className="table compact gtable" key={refId} data-testid="gtable">
            <TableHead columns={['Time', ...t.columns]} />
            <tbody>
              {t.rows.map((r, i) => (
                <tr key={i} data-testid="gtable-row">
                  <td className="muted" data-column="Time">
                    {formatDateTimeUTC(r.time * 1000)}
                  </td>
                  {r.cells.map((c, j) => (
                    <td key={j} data-column={t.columns[j]}>
                      {c}
                    </td>
                  ))}
                  <td
                    className="num"
                    data-column="Value"
                    style={{ color: colored ? (thresholdColor(r.value, cfg.thresholds) ?? undefined) : undefined }}
                  >
                    {applyMappings(r.value, cfg.mappings)?.text ?? formatUnit(r.value, cfg.unit, cfg.decimals)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        );
      })}
    </div>
  );
}
