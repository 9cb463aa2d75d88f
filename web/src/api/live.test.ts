import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { MonEvent } from './types';
import { LiveEvents, matchesFilters, mergeEvents, streamUrl } from './live';

const ev = (id: number, p: Partial<MonEvent> = {}): MonEvent => ({
  id,
  sim_ms: id * 1000,
  session_id: 's1',
  type: 'signal',
  severity: 'info',
  symbol: 'BTCUSDT',
  correlation_id: null,
  message: `e${id}`,
  data: null,
  ...p,
});

describe('streamUrl', () => {
  it('resumes after the last event and carries the token only when there is one', () => {
    expect(streamUrl(4313, null)).toBe('/api/monitoring/events/stream?last_event_id=4313');
    expect(streamUrl(null, 'a b')).toBe('/api/monitoring/events/stream?access_token=a+b');
    expect(streamUrl(0, null)).toBe('/api/monitoring/events/stream?last_event_id=0');
  });
});

describe('matchesFilters', () => {
  const none = { session: null, types: [], severity: '', symbol: '' };
  it('filters like the API does', () => {
    expect(matchesFilters(ev(1), none)).toBe(true);
    expect(matchesFilters(ev(1), { ...none, session: 's2' })).toBe(false);
    expect(matchesFilters(ev(1), { ...none, types: ['order', 'fill'] })).toBe(false);
    expect(matchesFilters(ev(1, { type: 'fill' }), { ...none, types: ['order', 'fill'] })).toBe(true);
    expect(matchesFilters(ev(1), { ...none, severity: 'warning' })).toBe(false);
    expect(matchesFilters(ev(1, { severity: 'critical' }), { ...none, severity: 'warning' })).toBe(true);
    expect(matchesFilters(ev(1), { ...none, symbol: 'ETHUSDT, BTCUSDT' })).toBe(true);
    expect(matchesFilters(ev(1, { symbol: null }), { ...none, symbol: 'BTCUSDT' })).toBe(false);
  });
});

describe('mergeEvents', () => {
  it('merges newest first without duplicates', () => {
    expect(mergeEvents([ev(5), ev(4)], [ev(4), ev(3), ev(1)]).map((e) => e.id)).toEqual([5, 4, 3, 1]);
  });
});

describe('LiveEvents', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('batches events, skips ones already seen and trims beyond its cap', () => {
    const live = new LiveEvents(4, 100);
    const batches: number[][] = [];
    live.onBatch((b) => batches.push(b.map((e) => e.id)));
    live.receive([ev(2), ev(1)]);
    live.receive([ev(2), ev(3)]);
    vi.advanceTimersByTime(100);
    expect(live.get().events.map((e) => e.id)).toEqual([3, 2, 1]);
    expect(batches).toEqual([[3, 2, 1]]);
    live.receive([ev(4), ev(5)]);
    live.flush();
    expect(live.get().events.map((e) => e.id)).toEqual([5, 4]);
    expect(live.get().epoch).toBe(1);
  });

  it('shows an inserted event at once without skipping the older ones the stream still brings', () => {
    const live = new LiveEvents(100, 100);
    const batches: number[][] = [];
    live.onBatch((b) => batches.push(b.map((e) => e.id)));
    live.receive([ev(1)]);
    live.flush();
    live.insert(ev(9, { type: 'annotation', message: 'note' }));
    expect(live.get().events.map((e) => e.id)).toEqual([9, 1]);
    live.insert(ev(9, { type: 'annotation', message: 'note' }));
    expect(live.get().events.map((e) => e.id)).toEqual([9, 1]);
    // The stream delivers 2..9 in order: none is skipped, 9 is not counted twice.
    live.receive([ev(2), ev(3), ev(9, { type: 'annotation', message: 'note (from the stream)' })]);
    live.flush();
    expect(live.get().events.map((e) => e.id)).toEqual([9, 3, 2, 1]);
    expect(live.get().events[0].message).toBe('note (from the stream)');
    expect(batches).toEqual([[1], [9, 3, 2]]);
  });

  it('opens the stream after the newest event and resumes after the newest seen', async () => {
    const urls: string[] = [];
    const sources: { close: () => void; readyState: number; onopen?: () => void }[] = [];
    const make = (url: string) => {
      urls.push(url);
      const s = { readyState: 0, close: vi.fn(), addEventListener: vi.fn(), onopen: undefined, onerror: undefined };
      sources.push(s);
      return s as unknown as EventSource;
    };
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response(JSON.stringify({ events: [ev(41)], next: 40 }), { status: 200 })),
    );
    const live = new LiveEvents(100, 100, make);
    live.start(null, 1000);
    await vi.waitFor(() => expect(urls).toEqual(['/api/monitoring/events/stream?last_event_id=41']));
    expect(live.get().startId).toBe(41);
    live.receive([ev(42), ev(43)]);
    live.stop();
    expect(sources[0].close).toHaveBeenCalled();
    expect(live.get().status).toBe('paused');
    live.start('tok', 1000);
    expect(urls[1]).toBe('/api/monitoring/events/stream?last_event_id=43&access_token=tok');
    vi.unstubAllGlobals();
  });
});
