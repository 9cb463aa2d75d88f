import { describe, expect, it } from 'vitest';
import {
  HOUR,
  MINUTE,
  PRESETS,
  parseLocalDateTime,
  pointCount,
  promDuration,
  queryWindow,
  rangeLabel,
  rateWindow,
  stepFor,
  toLocalDateTime,
} from './range';

describe('stepFor', () => {
  it('chooses the nice step for each preset', () => {
    expect(PRESETS.map((p) => stepFor(p.ms))).toEqual([1e3, 2e3, 10e3, 60e3, 5 * 60e3]);
  });
  it('keeps every preset within 500 points', () => {
    for (const p of PRESETS) expect(pointCount(p.ms, stepFor(p.ms))).toBeLessThanOrEqual(500);
    expect(pointCount(15 * MINUTE, 2e3)).toBe(451);
    expect(pointCount(24 * HOUR, 5 * MINUTE)).toBe(289);
  });
  it('never goes below the recording interval', () => {
    expect(stepFor(10e3)).toBe(1e3);
    expect(stepFor(60e3, 500, 5e3)).toBe(5e3);
  });
  it('answers fewer, wider points when asked', () => {
    expect(stepFor(HOUR, 120)).toBe(60e3);
    expect(stepFor(5 * MINUTE, 120)).toBe(5e3);
  });
  it('goes past a day for very long ranges', () => {
    expect(stepFor(1000 * 24 * HOUR)).toBe(3 * 24 * HOUR);
    expect(stepFor(499 * 24 * HOUR)).toBe(24 * HOUR);
  });
});

describe('queryWindow', () => {
  const now = 1_764_950_461_234;
  it('aligns a relative range to its step', () => {
    expect(queryWindow({ kind: 'relative', ms: HOUR }, now)).toEqual({
      start: 1_764_946_860,
      end: 1_764_950_460,
      step: 10,
    });
  });
  it('keeps an absolute range inside its ends', () => {
    const w = queryWindow({ kind: 'absolute', startMs: now - 5 * MINUTE, endMs: now }, now);
    expect(w.step).toBe(1);
    expect(w.start).toBe(1_764_950_162);
    expect(w.end).toBe(1_764_950_461);
  });
});

describe('promDuration and rateWindow', () => {
  it('writes PromQL durations', () => {
    expect(promDuration(1000)).toBe('1s');
    expect(promDuration(60e3)).toBe('1m');
    expect(promDuration(90e3)).toBe('1m30s');
    expect(promDuration(HOUR)).toBe('1h');
    expect(promDuration(26 * HOUR)).toBe('1d2h');
    expect(promDuration(400)).toBe('1s');
  });
  it('uses at least a minute for rates', () => {
    expect(rateWindow(1e3)).toBe('1m');
    expect(rateWindow(5 * MINUTE)).toBe('5m');
    expect(rateWindow(2e3, 5e3)).toBe('5s');
  });
});

describe('labels and inputs', () => {
  it('names a range', () => {
    expect(rangeLabel({ kind: 'relative', ms: 15 * MINUTE }, String)).toBe('Last 15m');
    expect(rangeLabel({ kind: 'relative', ms: 2 * HOUR }, String)).toBe('Last 2h');
    expect(rangeLabel({ kind: 'absolute', startMs: 1, endMs: 2 }, (ms) => `t${ms}`)).toBe('t1 – t2');
  });
  it('round-trips datetime-local values', () => {
    const t = parseLocalDateTime('2025-12-05T16:01');
    expect(t).not.toBeNull();
    expect(toLocalDateTime(t!)).toBe('2025-12-05T16:01');
    expect(parseLocalDateTime('yesterday')).toBeNull();
  });
});
