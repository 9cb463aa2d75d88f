import { memo } from 'react';
import type { FlowStage } from '../api/types';
import { STAGE_HINT, flowView } from '../lib/flow';

/** The pipeline feed → scan → signal → confirm → risk → execute → manage → close: how many
 *  items reached each stage, what share of the previous stage that is, and how long it took. */
export const ProcessFlow = memo(function ProcessFlow({ stages }: { stages: FlowStage[] }) {
  const view = flowView(stages);
  return (
    <ol className="flow" aria-label="Process flow">
      {view.map((s, i) => (
        <li
          key={s.stage}
          className={`flow-stage ${s.low ? 'low' : ''}`}
          data-testid={`stage-${s.stage}`}
          data-count={s.count ?? ''}
        >
          {i > 0 && (
            <span className="flow-arrow" aria-label={`conversion from ${view[i - 1].stage}: ${s.conversionText}`}>
              <span className="flow-conv" data-testid={`conversion-${s.stage}`}>
                {s.conversionText}
              </span>
              <svg viewBox="0 0 24 10" width="24" height="10" aria-hidden="true">
                <path d="M0 5h20M16 1l4 4-4 4" fill="none" stroke="currentColor" strokeWidth="1.5" />
              </svg>
            </span>
          )}
          <div className="flow-box" title={STAGE_HINT[s.stage]}>
            <span className="flow-name">{s.stage}</span>
            <span className="flow-count" data-testid={`count-${s.stage}`}>
              {s.countText}
            </span>
            <span className="flow-bar" aria-hidden="true">
              <span style={{ width: `${Math.round(s.bar * 100)}%` }} />
            </span>
            <span className="flow-latency" title="mean time to reach this stage from the previous one">
              <span className="sr-only">latency </span>
              {s.latencyText}
            </span>
          </div>
        </li>
      ))}
    </ol>
  );
});
