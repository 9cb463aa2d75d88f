// The spec's four key visualizations, each from the Prometheus-compatible API.
import { useMemo, type ReactNode } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import type uPlot from 'uplot';
import { useInstantQuery, useRangeQuery } from '../api/hooks';
import type { RangeResult } from '../api/prom';
import type { PromData, VectorSample } from '../api/types';
import { Chart, PALETTE, lineSeries, timeAxis, valueAxis } from './Chart';
import { Heatmap } from './Heatmap';
import { StateTimeline } from './StateTimeline';
import { stateColor } from './StateMachine';
import { Panel, QueryView } from './Panel';
import { TableHead } from './TableHead';
import { formatDurationMs, formatPercent, formatRate, formatSeconds, formatValue } from '../lib/format';
import { alignMatrix, linearFit, stateBands } from '../lib/series';
import { rangeMs, type TimeRange } from '../lib/range';
import {
  LATENCY_METRICS,
  MEMORY_MIB_QUERY,
  MEMORY_PERCENT_QUERY,
  QUANTILES,
  STATE_QUERY,
  activityQuery,
  latencyQuery,
  signalHeatmapQuery,
  transitionsQuery,
} from '../lib/queries';

export interface DashProps {
  range: TimeRange;
  onZoom: (fromS: number, toS: number) => void;
}

const SYNC = 'dashboards';
const KNOWN_STATES = ['idle', 'scanning', 'signal_wait', 'managing', 'halted'];
const noSeries = (r: RangeResult) => r.series.length === 0;

/** A range query's body: its loading, error or `empty` state (no series), else `children`
 *  of the view made from its answer. */
function SeriesView<V>({
  query,
  view,
  empty,
  children,
}: {
  query: UseQueryResult<RangeResult>;
  view: V | null;
  empty: string;
  children: (view: V) => ReactNode;
}) {
  return (
    <QueryView query={query} isEmpty={noSeries} empty={empty}>
      {() => (view === null ? null : children(view))}
    </QueryView>
  );
}

type Opts = Omit<uPlot.Options, 'width' | 'height'>;

function baseOptions(series: uPlot.Series[], axes: uPlot.Axis[], scales: uPlot.Scales = {}): Opts {
  return {
    cursor: { sync: { key: SYNC } },
    scales: { x: { time: true }, ...scales },
    axes: [timeAxis(), ...axes],
    series: [{}, ...series],
    legend: { live: true },
  };
}

// --- engine state transition timeline ----------------------------------------------------

function vectorOf(d: PromData | undefined): VectorSample[] {
  return d && d.resultType === 'vector' ? d.result : [];
}

export function StateTimelinePanel({ range, onZoom }: DashProps) {
  const q = useRangeQuery(STATE_QUERY, range);
  const at = range.kind === 'absolute' ? range.endMs / 1000 : undefined;
  const transitions = useInstantQuery(transitionsQuery(rangeMs(range)), true, at);
  const unexpected = useInstantQuery(transitionsQuery(rangeMs(range), 'engine_unexpected_transitions_total'), true, at);

  const view = useMemo(() => {
    if (!q.data) return null;
    const r = q.data;
    const names = r.series.map((s) => s.metric.state ?? '?');
    const states = [
      ...KNOWN_STATES.filter((s) => names.includes(s)),
      ...names.filter((s) => !KNOWN_STATES.includes(s)).sort(),
    ];
    const ordered = states.map((st) => r.series[names.indexOf(st)]);
    const a = alignMatrix(ordered, r.start, r.end, r.step);
    const bands = stateBands(a.x, a.ys, states, r.step);
    const time = new Map<string, number>();
    for (const b of bands) time.set(b.state, (time.get(b.state) ?? 0) + b.end - b.start);
    return { x: a.x, states, bands, time };
  }, [q.data]);

  const rows = useMemo(() => {
    const bad = new Set(
      vectorOf(unexpected.data)
        .filter((s) => Number(s.value[1]) >= 0.5)
        .map((s) => `${s.metric.from}>${s.metric.to}`),
    );
    return vectorOf(transitions.data)
      .map((s) => ({ from: s.metric.from, to: s.metric.to, count: Math.round(Number(s.value[1])) }))
      .filter((r) => r.count > 0)
      .sort((a, b) => b.count - a.count || a.from.localeCompare(b.from))
      .map((r) => ({ ...r, unexpected: bad.has(`${r.from}>${r.to}`) }));
  }, [transitions.data, unexpected.data]);

  return (
    <Panel title="Engine state timeline" testId="dashboard-state-timeline">
      <SeriesView query={q} view={view} empty="No engine state recorded in this range.">
        {(v) => (
          <>
            <StateTimeline
              x={v.x}
              states={v.states}
              bands={v.bands}
              label="Engine state over time"
              sync={SYNC}
              onSelectRange={onZoom}
            />
            <ul className="legend-inline" aria-label="Time in each state">
              {v.states.map((s, i) => (
                <li key={s}>
                  <span className="swatch" style={{ background: stateColor(s, i) }} aria-hidden="true" />
                  {s} <span className="muted">{formatDurationMs((v.time.get(s) ?? 0) * 1000)}</span>
                </li>
              ))}
            </ul>
          </>
        )}
      </SeriesView>
      <h3 className="sub">Transitions in this range</h3>
      {rows.length === 0 ? (
        <p className="state state-empty">
          {transitions.isPending
            ? 'Loading…'
            : transitions.isError
              ? 'Transition counts unavailable.'
              : 'No transitions in this range.'}
        </p>
      ) : (
        <table className="table compact" data-testid="state-transition-counts">
          <TableHead columns={['From → to', 'Count']} />
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.from}>${r.to}`} className={r.unexpected ? 'row-bad' : ''}>
                <td>
                  {r.from} → {r.to}
                  {r.unexpected && <span className="badge badge-bad">unexpected</span>}
                </td>
                <td className="num">{r.count}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Panel>
  );
}

// --- signal generation heatmaps ----------------------------------------------------------

function SignalHeatmap({ by, range, onZoom }: DashProps & { by: 'symbol' | 'regime' }) {
  const q = useRangeQuery((step) => signalHeatmapQuery(by, step), range, 120);
  const view = useMemo(() => {
    if (!q.data) return null;
    const r = q.data;
    const sorted = [...r.series].sort((a, b) => (a.metric[by] ?? '').localeCompare(b.metric[by] ?? ''));
    const a = alignMatrix(sorted, r.start, r.end, r.step);
    return { x: a.x, rows: sorted.map((s) => s.metric[by] ?? '(none)'), values: a.ys, step: r.step };
  }, [q.data, by]);
  return (
    <SeriesView query={q} view={view} empty="No signals generated in this range.">
      {(v) => (
        <Heatmap
          x={v.x}
          rows={v.rows}
          values={v.values}
          step={v.step}
          label={`Signals generated per ${by} over time`}
          unit="signals"
          testId={`heatmap-${by}`}
          sync={SYNC}
          onSelectRange={onZoom}
        />
      )}
    </SeriesView>
  );
}

export function SignalHeatmapPanel(p: DashProps) {
  return (
    <Panel title="Signal generation" testId="dashboard-signal-heatmap">
      <h3 className="sub">By symbol</h3>
      <SignalHeatmap by="symbol" {...p} />
      <h3 className="sub">By market regime</h3>
      <SignalHeatmap by="regime" {...p} />
    </Panel>
  );
}

// --- latency percentiles -----------------------------------------------------------------

const Q_COLORS = ['#81c784', '#4fc3f7', '#ffb74d', '#e57373'];

function LatencyChart({ metric, title, range, onZoom }: DashProps & { metric: string; title: string }) {
  const q = useRangeQuery((step) => latencyQuery(metric, step), range);
  const options = useMemo(
    () =>
      baseOptions(
        QUANTILES.map((qq, i) =>
          lineSeries(`P${Math.round(qq * 100)}`, Q_COLORS[i], { value: (_u, v) => formatSeconds(v) }),
        ),
        [valueAxis((v) => formatSeconds(v))],
      ),
    [],
  );
  const data = useMemo<uPlot.AlignedData | null>(() => {
    if (!q.data) return null;
    const r = q.data;
    const ordered = QUANTILES.map(
      (qq) => r.series.find((s) => Number(s.metric.quantile) === qq) ?? { metric: {}, values: [] },
    );
    const a = alignMatrix(ordered, r.start, r.end, r.step);
    return [a.x, ...a.ys] as uPlot.AlignedData;
  }, [q.data]);
  const hasData = (r: RangeResult) => r.series.some((s) => s.values.some(([, v]) => Number.isFinite(Number(v))));
  return (
    <div className="chart-cell" data-testid={`latency-${metric}`}>
      <h3 className="sub">{title}</h3>
      <QueryView query={q} isEmpty={(r) => !hasData(r)} empty="No observations in this range.">
        {() =>
          data && (
            <Chart
              options={options}
              data={data}
              height={180}
              label={`${title}: P50, P90, P95 and P99`}
              onSelectRange={onZoom}
            />
          )
        }
      </QueryView>
    </div>
  );
}

export function LatencyPanel(p: DashProps) {
  return (
    <Panel title="Latency percentiles" testId="dashboard-latency">
      <div className="grid-2 tight">
        {LATENCY_METRICS.map((m) => (
          <LatencyChart key={m.metric} metric={m.metric} title={m.title} {...p} />
        ))}
      </div>
    </Panel>
  );
}

// --- memory usage trends -----------------------------------------------------------------

/** The first series of `r` on the grid of `grid` (queries run a moment apart may end a step
 *  apart: the points they share line up, the others are gaps). */
function onGrid(r: RangeResult | undefined, grid: RangeResult): (number | null)[] {
  return alignMatrix(r?.series.slice(0, 1) ?? [], grid.start, grid.end, grid.step).ys[0] ?? [];
}

export function MemoryPanel({ range, onZoom }: DashProps) {
  const mib = useRangeQuery(MEMORY_MIB_QUERY, range);
  const pct = useRangeQuery(MEMORY_PERCENT_QUERY, range);
  const cycles = useRangeQuery((step) => activityQuery('engine_cycles_total', step), range);
  const orders = useRangeQuery((step) => activityQuery('orders_total', step), range);

  const memOptions = useMemo(
    () =>
      baseOptions(
        [
          lineSeries('Resident (MiB)', PALETTE[4], { value: (_u, v) => (v === null ? '—' : v.toFixed(1) + ' MiB') }),
          lineSeries('Trend (MiB)', '#ce93d8', {
            dash: [6, 4],
            width: 1,
            value: (_u, v) => (v === null ? '—' : v.toFixed(1) + ' MiB'),
          }),
          lineSeries('Memory (%)', PALETTE[0], { scale: '%', value: (_u, v) => formatPercent(v) }),
        ],
        [valueAxis((v) => `${formatValue(v)} MiB`), valueAxis((v) => formatPercent(v), 'right', '%')],
      ),
    [],
  );
  const actOptions = useMemo(
    () =>
      baseOptions(
        [
          lineSeries('Resident (MiB)', PALETTE[4], { value: (_u, v) => (v === null ? '—' : v.toFixed(1) + ' MiB') }),
          lineSeries('Engine cycles/s', PALETTE[6], { scale: 'rate', value: (_u, v) => formatRate(v) }),
          lineSeries('Orders/s', PALETTE[1], { scale: 'rate', value: (_u, v) => formatRate(v) }),
        ],
        [valueAxis((v) => `${formatValue(v)} MiB`), valueAxis((v) => formatRate(v), 'right', 'rate')],
      ),
    [],
  );

  const view = useMemo(() => {
    const r = mib.data;
    if (!r) return null;
    const base = alignMatrix(r.series.slice(0, 1), r.start, r.end, r.step);
    const x = base.x;
    const mem = base.ys[0] ?? x.map(() => null);
    const fit = linearFit(x, mem);
    // The trend line spans the samples it was fitted to, not the whole range.
    const first = mem.findIndex((v) => v !== null);
    const last = mem.length - 1 - [...mem].reverse().findIndex((v) => v !== null);
    const trend = x.map((t, i) =>
      fit && first >= 0 && i >= first && i <= last ? fit.intercept + fit.slope * t : null,
    );
    const other = (o: RangeResult | undefined) => (o?.series.length ? onGrid(o, r) : x.map(() => null));
    return {
      slopePerHour: fit ? fit.slope * 3600 : null,
      mem: [x, mem, trend, other(pct.data)] as uPlot.AlignedData,
      act: [x, mem, other(cycles.data), other(orders.data)] as uPlot.AlignedData,
    };
  }, [mib.data, pct.data, cycles.data, orders.data]);

  const growth =
    view?.slopePerHour === null || view?.slopePerHour === undefined
      ? '—'
      : `${view.slopePerHour >= 0 ? '+' : ''}${view.slopePerHour.toFixed(Math.abs(view.slopePerHour) < 1 ? 2 : 1)} MiB/h`;

  return (
    <Panel
      title="Memory usage"
      testId="dashboard-memory"
      actions={
        <span
          className="note"
          data-testid="memory-growth"
          title="Slope of a least-squares line through resident memory over the range"
        >
          Growth trend: <strong>{growth}</strong>
        </span>
      }
    >
      <SeriesView query={mib} view={view} empty="No memory samples in this range.">
        {(v) => (
          <div className="grid-2 tight">
            {[
              {
                title: 'Resident memory, percent and trend',
                options: memOptions,
                data: v.mem,
                label: 'Resident memory in MiB with its linear trend, and memory percent',
              },
              {
                title: 'Memory against trading activity',
                options: actOptions,
                data: v.act,
                label: 'Resident memory against engine cycles and orders per second',
              },
            ].map((c) => (
              <div className="chart-cell" key={c.title}>
                <h3 className="sub">{c.title}</h3>
                <Chart options={c.options} data={c.data} height={200} label={c.label} onSelectRange={onZoom} />
              </div>
            ))}
          </div>
        )}
      </SeriesView>
    </Panel>
  );
}
