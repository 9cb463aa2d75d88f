import { describe, expect, it } from 'vitest';
import type { MonEvent } from '../api/types';
import { EMPTY_NOTES, addEvents, dismiss, expire, groupText, headline, notable } from './notifications';

let nextId = 1;
function ev(p: Partial<MonEvent>): MonEvent {
  return {
    id: nextId++,
    sim_ms: 0,
    session_id: 's',
    type: 'order',
    severity: 'info',
    symbol: null,
    correlation_id: null,
    message: '',
    data: null,
    ...p,
  };
}
const rejected = (symbol: string) =>
  ev({
    type: 'order',
    severity: 'warning',
    symbol,
    message: `order 7 buy 0.1 ${symbol} rejected by the exchange`,
    data: { status: 'rejected' },
  });

describe('notable', () => {
  it('picks out the events worth a toast', () => {
    expect(notable(rejected('BTCUSDT'))).toMatchObject({
      key: 'order-rejected',
      title: 'order rejected',
      level: 'warning',
    });
    expect(notable(ev({ type: 'order', data: { status: 'submitted' } }))).toBeNull();
    expect(notable(ev({ type: 'fill' }))).toBeNull();
    expect(
      notable(ev({ type: 'state_change', severity: 'warning', data: { from: 'managing', to: 'halted' } })),
    ).toEqual({ key: 'halted', title: 'engine halted', level: 'critical', sticky: true });
    expect(notable(ev({ type: 'close', severity: 'warning', data: { pnl: -12.5, outcome: 'loss' } }))).toMatchObject({
      key: 'close-loss',
      title: 'position closed at a loss',
    });
    expect(notable(ev({ type: 'close', data: { pnl: 30, outcome: 'win' } }))).toBeNull();
    expect(
      notable(
        ev({
          type: 'risk',
          severity: 'critical',
          message: 'daily loss limit reached (P&L -520.00, limit -500.00): flattening',
        }),
      ),
    ).toEqual({
      key: 'risk:daily loss limit reached',
      title: 'daily loss limit reached',
      level: 'critical',
      sticky: true,
    });
    expect(
      notable(ev({ type: 'error', severity: 'error', message: 'unexpected state transition scanning → halted' })),
    ).toMatchObject({
      title: 'unexpected state transition scanning → halted',
      level: 'error',
    });
    expect(notable(ev({ type: 'signal', severity: 'critical', message: 'x' }))).toMatchObject({
      level: 'critical',
      sticky: true,
    });
  });
  it('cuts messages to their headline', () => {
    expect(headline('market feed failed: connection reset')).toBe('market feed failed');
    expect(headline('new trading day: trading resumes')).toBe('new trading day');
    expect(headline('plain')).toBe('plain');
  });
});

describe('addEvents', () => {
  it('groups events of a kind within the window and lists their symbols', () => {
    let s = addEvents(EMPTY_NOTES, [rejected('BTCUSDT'), rejected('ETHUSDT')], 1000);
    s = addEvents(s, [rejected('BTCUSDT')], 5000);
    expect(s.groups).toHaveLength(1);
    expect(s.groups[0].count).toBe(3);
    expect(groupText(s.groups[0])).toBe('3 × order rejected (BTCUSDT, ETHUSDT)');
  });
  it('does not count an event twice', () => {
    const e = rejected('BTCUSDT');
    let s = addEvents(EMPTY_NOTES, [e, e], 0);
    s = addEvents(s, [e], 100);
    expect(s.groups[0].count).toBe(1);
    expect(s.seen).toEqual([e.id]);
  });
  it('starts a new toast after the window', () => {
    let s = addEvents(EMPTY_NOTES, [rejected('BTCUSDT')], 0);
    s = addEvents(s, [rejected('SOLUSDT')], 10_001);
    expect(s.groups.map((g) => groupText(g))).toEqual(['order rejected (BTCUSDT)', 'order rejected (SOLUSDT)']);
  });
  it('keeps kinds apart and raises a group to its worst level', () => {
    const s = addEvents(
      EMPTY_NOTES,
      [
        rejected('BTCUSDT'),
        ev({ type: 'error', severity: 'warning', message: 'market message refused: bad json' }),
        ev({ type: 'error', severity: 'critical', message: 'market message refused: truncated' }),
      ],
      0,
    );
    expect(s.groups.map((g) => [g.title, g.count, g.level, g.sticky])).toEqual([
      ['order rejected', 1, 'warning', false],
      ['market message refused', 2, 'critical', true],
    ]);
  });
  it('drops the oldest non-sticky toasts beyond the limit', () => {
    let s = addEvents(EMPTY_NOTES, [ev({ type: 'state_change', data: { to: 'halted' } })], 0);
    for (let i = 0; i < 6; i++) s = addEvents(s, [ev({ type: 'error', severity: 'error', message: `e${i}` })], 100 + i);
    expect(s.groups.map((g) => g.title)).toEqual(['engine halted', 'e2', 'e3', 'e4', 'e5']);
  });
  it('remembers a bounded number of ids', () => {
    const s = addEvents(EMPTY_NOTES, [rejected('A'), rejected('B'), rejected('C')], 0, {
      windowMs: 10_000,
      maxGroups: 5,
      maxSeen: 2,
    });
    expect(s.seen).toHaveLength(2);
  });
});

describe('expire and dismiss', () => {
  it('fades out non-sticky toasts and dismisses by id', () => {
    let s = addEvents(EMPTY_NOTES, [rejected('BTCUSDT'), ev({ type: 'state_change', data: { to: 'halted' } })], 0);
    s = expire(s, 20_000, 15_000);
    expect(s.groups.map((g) => g.title)).toEqual(['engine halted']);
    s = dismiss(s, s.groups[0].id);
    expect(s.groups).toEqual([]);
  });
  it('caps the symbols shown', () => {
    expect(groupText({ count: 5, title: 'order rejected', symbols: ['A', 'B', 'C', 'D', 'E'] })).toBe(
      '5 × order rejected (A, B, C +2)',
    );
    expect(groupText({ count: 1, title: 'engine halted', symbols: [] })).toBe('engine halted');
  });
});
