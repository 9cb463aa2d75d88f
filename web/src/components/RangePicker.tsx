import { useState, type FormEvent } from 'react';
import { PRESETS, parseLocalDateTime, rangeLabel, toLocalDateTime, type TimeRange } from '../lib/range';

const fmt = (ms: number) => new Date(ms).toLocaleString();

/** A picked range and, after a drag across a chart (onZoom, in seconds), a zoomed one over it;
 *  picking a new range drops the zoom. */
export function useZoomableRange(initial: TimeRange | (() => TimeRange)) {
  const [base, setBaseState] = useState<TimeRange>(initial);
  const [zoom, setZoom] = useState<TimeRange | null>(null);
  return {
    base,
    zoom,
    range: zoom ?? base,
    setBase: (r: TimeRange) => {
      setBaseState(r);
      setZoom(null);
    },
    resetZoom: () => setZoom(null),
    onZoom: (fromS: number, toS: number) => {
      if (toS - fromS >= 1)
        setZoom({ kind: 'absolute', startMs: Math.round(fromS * 1000), endMs: Math.round(toS * 1000) });
    },
  };
}

/** The range in words, then the picker for a useZoomableRange. */
export function RangeBar({ r }: { r: ReturnType<typeof useZoomableRange> }) {
  return (
    <>
      <span className="muted" data-testid="range-label">
        {rangeLabel(r.range, fmt)}
      </span>
      <RangePicker range={r.base} onChange={r.setBase} zoomed={r.zoom !== null} onReset={r.resetZoom} />
    </>
  );
}

/** Last 5m … 24h, or a custom range; and, once zoomed, a way back. */
export function RangePicker({
  range,
  onChange,
  zoomed,
  onReset,
}: {
  range: TimeRange;
  onChange: (r: TimeRange) => void;
  zoomed?: boolean;
  onReset?: () => void;
}) {
  const [custom, setCustom] = useState(false);
  const now = Date.now();
  const [from, setFrom] = useState(() => toLocalDateTime(range.kind === 'absolute' ? range.startMs : now - 3600e3));
  const [to, setTo] = useState(() => toLocalDateTime(range.kind === 'absolute' ? range.endMs : now));
  const start = parseLocalDateTime(from);
  const end = parseLocalDateTime(to);
  const valid = start !== null && end !== null && end > start;

  const apply = (e: FormEvent) => {
    e.preventDefault();
    if (valid) onChange({ kind: 'absolute', startMs: start, endMs: end });
  };

  return (
    <div className="range-picker" data-testid="range-picker">
      <div className="seg" role="group" aria-label="Time range">
        {PRESETS.map((p) => (
          <button
            key={p.ms}
            type="button"
            className="seg-btn"
            aria-pressed={!custom && range.kind === 'relative' && range.ms === p.ms}
            onClick={() => {
              setCustom(false);
              onChange({ kind: 'relative', ms: p.ms });
            }}
            data-testid={`range-${p.label}`}
          >
            {p.label}
          </button>
        ))}
        <button
          type="button"
          className="seg-btn"
          aria-pressed={custom || range.kind === 'absolute'}
          aria-expanded={custom}
          onClick={() => setCustom((c) => !c)}
          data-testid="range-custom"
        >
          Custom
        </button>
      </div>
      {custom && (
        <form className="custom-range" onSubmit={apply}>
          <label className="field">
            <span className="field-label">From</span>
            <input
              type="datetime-local"
              value={from}
              onChange={(e) => setFrom(e.target.value)}
              data-testid="range-from"
            />
          </label>
          <label className="field">
            <span className="field-label">To</span>
            <input type="datetime-local" value={to} onChange={(e) => setTo(e.target.value)} data-testid="range-to" />
          </label>
          <button type="submit" className="btn btn-small" disabled={!valid} data-testid="range-apply">
            Apply
          </button>
        </form>
      )}
      {onReset && (
        <button type="button" className="btn btn-small" onClick={onReset} disabled={!zoomed} data-testid="zoom-reset">
          Reset zoom
        </button>
      )}
    </div>
  );
}
