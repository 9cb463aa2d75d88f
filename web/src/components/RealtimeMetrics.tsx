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
import { useNow } from '../lib/useNow';

function Tile({
  testId,
  label,
  value,
  sub,
  spark,
  color,
  tone,
}: {
  testId: string;
  label: string;
  value: string;
  sub?: ReactNode;
  spark?: (number | null)[];
  color?: string;
  tone?: 'good' | 'bad' | 'warn';
}) {
  return (
    <div className={`tile ${tone ? 'tone-' + tone : ''}`} data-testid={testId}>
      <div className="tile-label">{label}</div>
      <div className="tile-value" data-testid={`${testId}-value`}>
        {value}
      </div>
      <div className="tile-sub">{sub ?? '\u00a0'}</div>
      <Sparkline values={spark} color={color} label={`${label}, last minute`} />
    </div>
  );
}

const LATENCIES: [keyof Realtime, string][] = [
  ['cycle_time_ms', 'Engine cycle'],
  ['scan_ms', 'Market scan'],
  ['order_execution_ms', 'Order execution'],
  ['message_processing_ms', 'Message processing'],
];

function Updated({ ts }: { ts: number }) {
  const now = useNow();
  return <span className={`muted ${now - ts > 10_000 ? 'stale-text' : ''}`}> · updated {formatRelative(ts, now)}</span>;
}

export const RealtimeMetrics = memo(function RealtimeMetrics({ rt }: { rt: Realtime }) {
  const sp = rt.sparklines ?? {};
  const budget = rt.risk_budget_remaining;
  const pnl = rt.daily_pnl;
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
        <Tile
          testId="realtime-cpu"
          label="CPU"
          value={formatPercent(rt.cpu_percent)}
          spark={sp.cpu_percent}
          sub="of one core"
        />
        <Tile
          testId="realtime-memory"
          label="Memory"
          value={formatBytes(rt.memory_bytes)}
          sub={`${formatPercent(rt.memory_percent)} of RAM`}
          spark={sp.memory_bytes}
          color="#ba68c8"
        />
        <Tile
          testId="realtime-cycle-time"
          label="Cycle time p95"
          value={formatDurationMs(rt.cycle_time_ms?.p95)}
          sub={`p50 ${formatDurationMs(rt.cycle_time_ms?.p50)}`}
          spark={sp.cycle_time_p95_ms}
          color="#ffb74d"
        />
        <Tile
          testId="realtime-scan-rate"
          label="Scan rate"
          value={formatRate(rt.scan_rate)}
          spark={sp.scan_rate}
          color="#4db6ac"
        />
        <Tile
          testId="realtime-signal-rate"
          label="Signal rate"
          value={formatRate(rt.signal_rate)}
          spark={sp.signal_rate}
          color="#f06292"
          sub={rt.counts?.signals !== undefined ? `${rt.counts.signals} signals` : undefined}
        />
        <Tile
          testId="realtime-equity"
          label="Equity"
          value={formatMoney(rt.equity)}
          sub={<span className={pnl === null ? '' : pnl >= 0 ? 'pos' : 'neg'}>{formatMoney(pnl, true)} today</span>}
          spark={sp.equity}
          color="#81c784"
        />
        <Tile
          testId="realtime-positions"
          label="Open positions"
          value={rt.positions_open === null ? '—' : String(rt.positions_open)}
          spark={sp.positions_open}
          color="#90a4ae"
          sub={rt.counts?.trades !== undefined ? `${rt.counts.trades} trades closed` : undefined}
        />
        <Tile
          testId="realtime-risk-budget"
          label="Risk budget left"
          value={formatRatio(budget)}
          sub="of the daily loss limit"
          spark={sp.risk_budget_remaining}
          color="#e57373"
          tone={budget === null ? undefined : budget < 0.25 ? 'bad' : budget < 0.5 ? 'warn' : undefined}
        />
      </div>
      <table className="table latency" data-testid="realtime-latency">
        <caption>Latency percentiles, last minute</caption>
        <thead>
          <tr>
            <th scope="col">Operation</th>
            <th scope="col">P50</th>
            <th scope="col">P90</th>
            <th scope="col">P95</th>
            <th scope="col">P99</th>
          </tr>
        </thead>
        <tbody>
          {LATENCIES.map(([key, label]) => {
            const p = rt[key] as Percentiles | null | undefined;
            return (
              <tr key={key}>
                <th scope="row">{label}</th>
                <td>{formatDurationMs(p?.p50)}</td>
                <td>{formatDurationMs(p?.p90)}</td>
                <td>{formatDurationMs(p?.p95)}</td>
                <td>{formatDurationMs(p?.p99)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
});
