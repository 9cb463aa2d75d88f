import { useEffect, useRef } from 'react';
import { useRealtime, useSessionDetail, useStateMachine } from '../api/hooks';
import { useSelectedSession } from '../session';
import { ProcessFlow } from '../components/ProcessFlow';
import { RealtimeMetrics } from '../components/RealtimeMetrics';
import { StateMachine } from '../components/StateMachine';
import { ProgressTracker } from '../components/ProgressTracker';
import { EventFeed } from '../components/EventFeed';
import { Annotate } from '../components/Annotate';
import { Empty, ErrorState, Loading, Panel, QueryView } from '../components/Panel';
import { formatDateTimeUTC, formatDurationMs, formatMoney, formatRelative } from '../lib/format';
import type { Session } from '../api/types';
import { useNow } from '../lib/useNow';

function SessionInfo({ s }: { s: Session }) {
  const now = useNow();
  const sum = s.summary;
  return (
    <dl className="facts" data-testid="session-info">
      <div>
        <dt>Status</dt>
        <dd>
          <span className={`badge status-${s.status}`}>{s.active ? 'running' : s.status}</span>
        </dd>
      </div>
      <div>
        <dt>Mode</dt>
        <dd>{s.mode}</dd>
      </div>
      <div>
        <dt>Started</dt>
        <dd title={formatDateTimeUTC(s.started_ms) + ' UTC'}>{formatRelative(s.started_ms, now)}</dd>
      </div>
      <div>
        <dt>Ran for</dt>
        <dd>{formatDurationMs((s.ended_ms ?? now) - s.started_ms)}</dd>
      </div>
      <div>
        <dt>Symbols</dt>
        <dd>{s.config?.symbols?.length ?? '—'}</dd>
      </div>
      {sum && (
        <div>
          <dt>P&amp;L</dt>
          <dd className={(sum.pnl ?? 0) >= 0 ? 'pos' : 'neg'}>{formatMoney(sum.pnl, true)}</dd>
        </div>
      )}
      <div>
        <dt>Id</dt>
        <dd className="mono">{s.id}</dd>
      </div>
    </dl>
  );
}

export function Monitoring() {
  const { sessions, id: chosen, fetchId, session } = useSelectedSession();
  const detail = useSessionDetail(fetchId);
  const realtime = useRealtime();
  const ended = detail.data?.session.active === false;
  const sm = useStateMachine(fetchId, ended);
  // A session that ends while shown: one last read of its state machine, then no more polling.
  const live = detail.data?.session.active === true;
  const wasLive = useRef(false);
  const { refetch: refetchSm } = sm;
  useEffect(() => {
    if (ended && wasLive.current) refetchSm();
    wasLive.current = live;
  }, [ended, live, refetchSm]);
  const id = chosen ?? detail.data?.session.id ?? null;

  if (!fetchId) {
    return (
      <div className="page">
        <Panel title="Session" testId="session">
          {sessions.isError ? (
            <ErrorState error={sessions.error} onRetry={() => sessions.refetch()} />
          ) : sessions.isPending ? (
            <Loading what="Loading sessions" />
          ) : (
            <Empty>
              No sessions yet. Start the engine with <code>breakwatch run</code>; its session appears here.
            </Empty>
          )}
        </Panel>
        <Panel title="Real-time metrics" testId="realtime">
          <QueryView query={realtime}>{(rt) => <RealtimeMetrics rt={rt} />}</QueryView>
        </Panel>
      </div>
    );
  }

  const symbols = (detail.data?.session.config?.symbols ?? session?.config?.symbols ?? []) as string[];
  const isLive = session?.active ?? detail.data?.session.active ?? false;
  return (
    <div className="page monitoring">
      <Panel title="Session" testId="session">
        {session || detail.data ? (
          <SessionInfo s={(detail.data?.session ?? session)!} />
        ) : (
          <QueryView query={detail}>{(d) => <SessionInfo s={d.session} />}</QueryView>
        )}
      </Panel>

      <Panel title="Process flow" testId="process-flow">
        <QueryView query={detail} isEmpty={(d) => !d.process_flow?.stages?.length} empty="No pipeline activity yet.">
          {(d) => <ProcessFlow stages={d.process_flow.stages} />}
        </QueryView>
      </Panel>

      <Panel
        title="Real-time metrics"
        testId="realtime"
        actions={
          realtime.data && realtime.data.session_id && realtime.data.session_id !== id ? (
            <span className="note">Running engine's session, not the one selected</span>
          ) : !isLive && realtime.data ? (
            <span className="note">The selected session has ended: these are the running engine's values</span>
          ) : null
        }
      >
        <QueryView query={realtime} loading="Loading metrics">
          {(rt) => <RealtimeMetrics rt={rt} />}
        </QueryView>
      </Panel>

      <div className="grid-2">
        <Panel title="State machine" testId="state-machine">
          <QueryView query={sm} isEmpty={(d) => !d.states?.length} empty="No states recorded for this session.">
            {(d) => <StateMachine sm={d} ended={!isLive} />}
          </QueryView>
        </Panel>
        <Panel title="Progress" testId="progress">
          <QueryView query={detail}>{(d) => <ProgressTracker progress={d.progress} />}</QueryView>
        </Panel>
      </div>

      <Panel title="Events" testId="event-feed" actions={<Annotate session={id ?? fetchId} />}>
        <EventFeed session={fetchId} symbols={symbols} />
      </Panel>
    </div>
  );
}
