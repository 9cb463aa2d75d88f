import { useState } from 'react';
import { RangePicker } from '../components/RangePicker';
import { LatencyPanel, MemoryPanel, SignalHeatmapPanel, StateTimelinePanel } from '../components/DashboardPanels';
import { HOUR, rangeLabel, type TimeRange } from '../lib/range';

const fmt = (ms: number) => new Date(ms).toLocaleString();

export function Dashboards() {
  const [base, setBase] = useState<TimeRange>({ kind: 'relative', ms: HOUR });
  const [zoom, setZoom] = useState<TimeRange | null>(null);
  const range = zoom ?? base;
  const onZoom = (fromS: number, toS: number) => {
    if (toS - fromS >= 1)
      setZoom({ kind: 'absolute', startMs: Math.round(fromS * 1000), endMs: Math.round(toS * 1000) });
  };
  const props = { range, onZoom };
  return (
    <div className="page dashboards">
      <div className="toolbar">
        <h1>Dashboards</h1>
        <span className="muted" data-testid="range-label">
          {rangeLabel(range, fmt)}
        </span>
        <RangePicker
          range={base}
          onChange={(r) => {
            setBase(r);
            setZoom(null);
          }}
          zoomed={zoom !== null}
          onReset={() => setZoom(null)}
        />
      </div>
      <p className="hint">Drag across any chart to zoom every chart to that range.</p>
      <StateTimelinePanel {...props} />
      <SignalHeatmapPanel {...props} />
      <LatencyPanel {...props} />
      <MemoryPanel {...props} />
    </div>
  );
}
