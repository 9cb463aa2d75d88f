import { useState, type FormEvent } from 'react';
import { PRESETS, parseLocalDateTime, toLocalDateTime, type TimeRange } from '../lib/range';

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
