import { memo, useMemo } from 'react';
import type { StateMachine as SM } from '../api/types';
import { edgePath, layoutStateMachine } from '../lib/stateLayout';
import { formatClockUTC, formatCount, formatSeconds } from '../lib/format';
import { TableHead } from './TableHead';

export const STATE_COLORS: Record<string, string> = {
  idle: '#90a4ae',
  scanning: '#4fc3f7',
  signal_wait: '#ffb74d',
  managing: '#81c784',
  halted: '#e57373',
};

export function stateColor(name: string, i = 0): string {
  return STATE_COLORS[name] ?? ['#ba68c8', '#f06292', '#4db6ac', '#ffd54f'][i % 4];
}

/** The arrowheads of declared and of unexpected edges. */
const ARROWS = [
  { id: 'arrow', className: 'sm-arrow' },
  { id: 'arrow-bad', className: 'sm-arrow-bad' },
];

/** States as nodes, declared edges with their counts, unexpected transitions in red and
 *  dashed, the current state highlighted. */
export const StateMachine = memo(function StateMachine({ sm, ended = false }: { sm: SM; ended?: boolean }) {
  const layout = useMemo(
    () =>
      layoutStateMachine(
        sm.states.map((s) => s.name),
        sm.edges,
      ),
    [sm.states, sm.edges],
  );
  const byName = new Map(sm.states.map((s) => [s.name, s]));
  const maxCount = Math.max(1, ...sm.edges.map((e) => e.count));
  const unexpected = sm.edges.filter((e) => !e.declared);
  return (
    <div className="sm">
      <p className="sm-current">
        {sm.current ? (
          <>
            {ended ? 'Ended in' : 'Now in'} <strong style={{ color: stateColor(sm.current) }}>{sm.current}</strong>
            {sm.since_sim_ms !== null && <> since {formatClockUTC(sm.since_sim_ms)} UTC</>}
          </>
        ) : (
          'No current state'
        )}
        {unexpected.length > 0 && (
          <span className="badge badge-bad" data-testid="unexpected-count">
            {unexpected.reduce((n, e) => n + e.count, 0)} unexpected
          </span>
        )}
      </p>
      <div className="sm-canvas">
        <svg
          viewBox={`0 0 ${layout.width} ${layout.height}`}
          width={layout.width}
          height={layout.height}
          role="img"
          aria-label={`State machine: ${sm.states.length} states, current ${sm.current ?? 'none'}`}
        >
          <defs>
            {ARROWS.map(({ id, className }) => (
              <marker
                key={id}
                id={id}
                viewBox="0 0 10 10"
                refX="9"
                refY="5"
                markerUnits="userSpaceOnUse"
                markerWidth="9"
                markerHeight="9"
                orient="auto-start-reverse"
              >
                <path d="M0,0 L10,5 L0,10 z" className={className} />
              </marker>
            ))}
          </defs>
          {layout.edges.map((le) => {
            const e = le.edge;
            const w = 1 + (3 * Math.log10(1 + e.count)) / Math.log10(1 + maxCount);
            return (
              <g
                key={`${e.from}>${e.to}`}
                className={`sm-edge ${e.declared ? '' : 'unexpected'} ${e.count ? '' : 'unused'}`}
                data-testid={`state-edge-${e.from}-${e.to}`}
              >
                <title>
                  {`${e.from} → ${e.to}: ${e.count} × ${e.declared ? (e.meaning ?? '') : 'unexpected (not in the declared graph)'}`}
                </title>
                <path d={edgePath(le)} strokeWidth={w} markerEnd={`url(#${e.declared ? 'arrow' : 'arrow-bad'})`} />
                <g transform={`translate(${le.label.x},${le.label.y})`}>
                  <rect x={-16} y={-9} width={32} height={18} rx={9} />
                  <text textAnchor="middle" dominantBaseline="central">
                    {formatCount(e.count)}
                  </text>
                </g>
              </g>
            );
          })}
          {layout.nodes.map((n, i) => {
            const s = byName.get(n.name);
            const current = n.name === sm.current;
            return (
              <g
                key={n.name}
                className={`sm-node ${current ? 'current' : ''}`}
                data-testid={`state-node-${n.name}`}
                aria-current={current ? 'true' : undefined}
                transform={`translate(${n.x},${n.y})`}
              >
                <title>
                  {`${n.name}: entered ${s?.entries ?? 0} ×, ${formatSeconds(s?.dwell_seconds_total)} in total, ${formatSeconds(
                    s?.dwell_seconds_mean,
                  )} on average`}
                </title>
                <rect width={n.w} height={n.h} rx={10} style={{ stroke: stateColor(n.name, i) }} />
                <text x={12} y={20} className="sm-name">
                  {n.name}
                </text>
                <text x={12} y={38} className="sm-meta">
                  {`${formatCount(s?.entries ?? 0)}× · avg ${formatSeconds(s?.dwell_seconds_mean)}`}
                </text>
                {current && (
                  <text x={n.w - 12} y={20} textAnchor="end" className="sm-now">
                    {ended ? 'last' : 'now'}
                  </text>
                )}
              </g>
            );
          })}
        </svg>
      </div>
      <details className="sm-details">
        <summary>Transitions and dwell times</summary>
        <div className="two-col">
          <table className="table" data-testid="state-transitions">
            <TableHead columns={['From → to', 'Count', 'Meaning']} />
            <tbody>
              {sm.edges.map((e) => (
                <tr key={`${e.from}>${e.to}`} className={e.declared ? '' : 'row-bad'}>
                  <td>
                    {e.from} → {e.to}
                  </td>
                  <td className="num">{e.count}</td>
                  <td>{e.declared ? e.meaning : 'unexpected: not in the declared graph'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <table className="table">
            <TableHead columns={['State', 'Entries', 'Total', 'Mean']} />
            <tbody>
              {sm.states.map((s) => (
                <tr key={s.name}>
                  <td>{s.name}</td>
                  <td className="num">{s.entries}</td>
                  <td className="num">{formatSeconds(s.dwell_seconds_total)}</td>
                  <td className="num">{formatSeconds(s.dwell_seconds_mean)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </div>
  );
});
