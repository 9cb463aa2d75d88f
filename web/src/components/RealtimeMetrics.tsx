import { memo } from 'react';
import type { ReactNode } from 'react';
import type { Percentiles, Realtime } from '../api/types';
import {
  formatBytes,
  formatDateTimeUTC,
  formatDurationMs,
  formatMoney,
  formatPercent,
  formatRate,
  formatRatio,
  formatRelative,
} from '../lib/format';
import { Sparkline } from './Sparkline';
import { TableHead } from './TableHead';
import { useNow } from '../lib/useNow';

type Tone = 'good' | 'bad' | 'warn';

/** One metric tile: what it shows of the real-time answer, and its sparkline. */
interface TileSpec {
  /** data-testid of the tile; its value is `${testId}-value`. */
  testId: string;
  label: string;
  value: (rt: Realtime) => string;
  sub?: (rt: Realtime) => ReactNode;
  /** The key of its sparkline in `rt.sparklines`. */
  spark: string;
  color?: string;
  tone?: (rt: Realtime) => Tone | undefined;
}

const countOf = (rt: Realtime, key: string, what: string) =>
  rt.counts?.[key] !== undefined ? `${rt.counts[key]} ${what}` : undefined;

const TILES: TileSpec[] = [
  {
    testId: 'realtime-cpu',
    label: 'CPU',
    value: (rt) => formatPercent(rt.cpu_percent),
    sub: () => 'of one core',
    spark: 'cpu_percent',
  },
  {
    testId: 'realtime-memory',
    label: 'Memory',
    value: (rt) => formatBytes(rt.memory_bytes),
    sub: (rt) => `${formatPercent(rt.memory_percent)} of RAM`,
    spark: 'memory_bytes',
    color: '#ba68c8',
  },
  {
    testId: 'realtime-cycle-time',
    label: 'Cycle time p95',
    value: (rt) => formatDurationMs(rt.cycle_time_ms?.p95),
    sub: (rt) => `p50 ${formatDurationMs(rt.cycle_time_ms?.p50)}`,
    spark: 'cycle_time_p95_ms',
    color: '#ffb74d',
  },
  {
    testId: 'realtime-scan-rate',
    label: 'Scan rate',
    value: (rt) => formatRate(rt.scan_rate),
    spark: 'scan_rate',
    color: '#4db6ac',
  },
  {
    testId: 'realtime-signal-rate',
    label: 'Signal rate',
    value: (rt) => formatRate(rt.signal_rate),
    sub: (rt) => countOf(rt, 'signals', 'signals'),
    spark: 'signal_rate',
    color: '#f06292',
  },
  {
    testId: 'realtime-equity',
    label: 'Equity',
    value: (rt) => formatMoney(rt.equity),
    sub: ({ daily_pnl: pnl }) => (
      <span className={pnl === null ? '' : pnl >= 0 ? 'pos' : 'neg'}>{formatMoney(pnl, true)} today</span>
    ),
    spark: 'equity',
    color: '#81c784',
  },
  {
    testId: 'realtime-positions',
    label: 'Open positions',
    value: (rt) => (rt.positions_open === null ? '—' : String(rt.positions_open)),
    sub: (rt) => countOf(rt, 'trades', 'trades closed'),
    spark: 'positions_open',
    color: '#90a4ae',
  },
  {
    testId: 'realtime-risk-budget',
    label: 'Risk budget left',
    value: (rt) => formatRatio(rt.risk_budget_remaining),
    sub: () => 'of the daily loss limit',
    spark: 'risk_budget_remaining',
    color: '#e57373',
    tone: ({ risk_budget_remaining: b }) => (b === null ? undefined : b < 0.25 ? 'bad' : b < 0.5 ? 'warn' : undefined),
  },
];

function Tile({ spec, rt }: { spec: TileSpec; rt: Realtime }) {
  const { testId, label, color } = spec;
  const tone = spec.tone?.(rt);
  return (
    <div className={`tile ${tone ? 'tone-' + tone : ''}`} data-testid={testId}>
      <div className="tile-label">{label}</div>
      <div className="tile-value" data-testid={`${testId}-value`}>
        {spec.value(rt)}
      </div>
      <div className="tile-sub">{spec.sub?.(rt) ?? '\u00a0'}</div>
      <Sparkline values={rt.sparklines?.[spec.spark]} color={color} label={`${label}, last minute`} />
    </div>
  );
}

const LATENCIES: [keyof Realtime, string][] = [
  ['cycle_time_ms', 'Engine cycle'],
  ['scan_ms', 'Market scan'],
  ['order_execution_ms', 'Order execution'],
  ['message_processing_ms', 'Message processing'],
];

const PERCENTILES: (keyof Percentiles)[] = ['p50', 'p90', 'p95', 'p99'];

function Updated({ ts }: { ts: number }) {
  const now = useNow();
  return <span className={`muted ${now - ts > 10_000 ? 'stale-text' : ''}`}> · updated {formatRelative(ts, now)}</span>;
}

export const RealtimeMetrics = memo(function RealtimeMetrics({ rt }: { rt: Realtime }) {
  return (
    <div className="realtime">
      <p className="realtime-status" data-testid="realtime-status">
        Engine <strong className={`engine-${rt.engine}`}>{rt.engine}</strong>
        {rt.state && (
          <>
            {' '}
            in <strong>{rt.state}</strong>
          </>
        )}
        {rt.sim_time_ms !== null && <> · market time {formatDateTimeUTC(rt.sim_time_ms)} UTC</>}
        <Updated ts={rt.ts_ms} />
      </p>
      <div className="tiles">
        {TILES.map((spec) => (
          <Tile key={spec.testId} spec={spec} rt={rt} />
        ))}
      </div>
      <table className="table latency" data-testid="realtime-latency">
        <caption>Latency percentiles, last minute</caption>
        <TableHead columns={['Operation', ...PERCENTILES.map((q) => q.toUpperCase())]} />
        <tbody>
          {LATENCIES.map(([key, label]) => {
            const p = rt[key] as Percentiles | null | undefined;
            return (
              <tr key={key}>
                <th scope="row">{label}</th>
                {PERCENTILES.map((q) => (
                  <td key={q}>{formatDurationMs(p?.[q])}</td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
});
