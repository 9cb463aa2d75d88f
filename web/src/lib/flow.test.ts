import { describe, expect, it } from 'vitest';
import { flowView } from './flow';

// The example of docs/api.md.
const STAGES = [
  { stage: 'feed', count: 120000, conversion: null, latency_ms: 0.004 },
  { stage: 'scan', count: 2000, conversion: 0.0167, latency_ms: 0.02 },
  { stage: 'signal', count: 14, conversion: 0.007, latency_ms: null },
  { stage: 'confirm', count: 9, conversion: 0.64, latency_ms: 60000 },
  { stage: 'risk', count: 9, conversion: 1.0, latency_ms: 0 },
  { stage: 'execute', count: 8, conversion: 0.89, latency_ms: 152 },
  { stage: 'manage', count: 8, conversion: 1.0, latency_ms: null },
  { stage: 'close', count: 6, conversion: 0.75, latency_ms: 1260000 },
];

describe('flowView', () => {
  it('shows counts, conversion and latency for each stage', () => {
    const v = flowView(STAGES);
    expect(v.map((s) => [s.stage, s.countText, s.conversionText, s.latencyText])).toEqual([
      ['feed', '120k', '—', '4 µs'],
      ['scan', '2,000', '1.7 %', '20 µs'],
      ['signal', '14', '0.70 %', '—'],
      ['confirm', '9', '64 %', '1 min'],
      ['risk', '9', '100 %', '0 ms'],
      ['execute', '8', '89 %', '152 ms'],
      ['manage', '8', '100 %', '—'],
      ['close', '6', '75 %', '21 min'],
    ]);
  });
  it('scales bars logarithmically to the largest stage', () => {
    const v = flowView(STAGES);
    expect(v[0].bar).toBe(1);
    expect(v[7].bar).toBeCloseTo(Math.log10(7) / Math.log10(120001), 10);
  });
  it('orders stages and fills in missing ones', () => {
    const v = flowView([
      { stage: 'scan', count: 10, conversion: 0.5, latency_ms: null },
      { stage: 'feed', count: 20, conversion: null, latency_ms: null },
    ]);
    expect(v.map((s) => s.stage)).toEqual(['feed', 'scan', 'signal', 'confirm', 'risk', 'execute', 'manage', 'close']);
    expect(v[2]).toMatchObject({ count: null, countText: '—', conversionText: '—', bar: 0 });
  });
  it('flags low conversion after the signal stage only', () => {
    const v = flowView(STAGES, 0.8);
    expect(v.filter((s) => s.low).map((s) => s.stage)).toEqual(['confirm', 'close']);
  });
  it('never shows a conversion for the first stage', () => {
    expect(flowView([{ stage: 'feed', count: 5, conversion: 0.5, latency_ms: null }])[0].conversionText).toBe('—');
  });
});
