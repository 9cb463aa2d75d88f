import { memo } from 'react';
import type { Milestone, SessionDetail } from '../api/types';
import { formatClockUTC, formatDurationMs, formatRatio } from '../lib/format';

const label = (name: string) => name.replace(/_/g, ' ');

function Steps({ steps, testId, finished = false }: { steps: Milestone[]; testId: string; finished?: boolean }) {
  // The first step not reached is "next", unless there is nothing more to come.
  const next = finished ? -1 : steps.findIndex((s) => s.sim_ms === null);
  return (
    <ol className="steps" data-testid={testId}>
      {steps.map((s, i) => {
        const done = s.sim_ms !== null;
        const state = done ? 'done' : i === next ? 'next' : 'todo';
        return (
          <li key={s.name} className={`step ${state}`} data-step={s.name} data-done={done}>
            <span className="step-dot" aria-hidden="true">
              {done ? '✓' : i + 1}
            </span>
            <span className="step-name">{label(s.name)}</span>
            <span className="step-time">{done ? formatClockUTC(s.sim_ms) : state === 'next' ? 'next' : ''}</span>
            <span className="sr-only">{done ? ' reached' : ' not reached'}</span>
          </li>
        );
      })}
    </ol>
  );
}

/** Where the session is (its milestones, how far a run with a set length has come) and where
 *  the latest trade is. */
export const ProgressTracker = memo(function ProgressTracker({ progress }: { progress: SessionDetail['progress'] }) {
  const s = progress.session;
  const t = progress.trade;
  const elapsed = s.sim_start_ms !== null && s.sim_now_ms !== null ? s.sim_now_ms - s.sim_start_ms : null;
  return (
    <div className="progress">
      <h3>Session</h3>
      <p className="muted">
        {elapsed !== null ? `${formatDurationMs(elapsed)} of market time` : 'Not started'}
        {s.fraction !== null && ` · ${formatRatio(s.fraction)} done`}
      </p>
      {s.fraction !== null && (
        <div
          className="bar"
          role="progressbar"
          aria-label="Session progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={Math.round(s.fraction * 100)}
        >
          <span style={{ width: `${Math.min(100, Math.max(0, s.fraction * 100))}%` }} />
        </div>
      )}
      <Steps
        steps={s.milestones}
        testId="progress-milestones"
        finished={s.milestones.some((m) => m.name === 'session_ended' && m.sim_ms !== null)}
      />
      <h3>Current trade</h3>
      {t ? (
        <>
          <p className="muted" data-testid="progress-trade">
            <strong>{t.symbol}</strong> · {t.correlation_id} ·{' '}
            <span className={`stage stage-${t.stage}`}>{t.stage}</span>
          </p>
          <Steps
            steps={t.steps}
            testId="progress-trade-steps"
            finished={t.stage === 'closed' || t.stage === 'abandoned'}
          />
        </>
      ) : (
        <p className="state state-empty">No trade yet in this session.</p>
      )}
    </div>
  );
});
