import { describe, expect, it } from 'vitest';
import type { Alert, HistoryEntry } from '../api/alerts';
import {
  NO_FILTER,
  addAlerts,
  alertToastStatus,
  alertToastTitle,
  alertnames,
  countStates,
  episodeKey,
  filterAlerts,
  flattenHistory,
  groupAlerts,
  historyFailed,
  historyText,
  labelText,
  newlyFiring,
  sortAlerts,
  syncAlertNotes,
  unacknowledged,
} from './alerts';
import { EMPTY_NOTES, addEvents, expire, notable } from './notifications';

function alert(fingerprint: string, p: Partial<Alert> & { name?: string; severity?: string } = {}): Alert {
  const { name = 'EngineMemoryHigh', severity = 'warning', ...rest } = p;
  return {
    fingerprint,
    labels: { alertname: name, severity, instance: 'bot-1' },
    annotations: { summary: `${name} on bot-1`, description: 'resident memory above 90 %' },
    state: 'firing',
    value: 0.93,
    active_ms: 1_000,
    fired_ms: 2_000,
    resolved_ms: null,
    receiver: 'ops',
    silenced_by: null,
    ack: null,
    ...rest,
  };
}

describe('sortAlerts', () => {
  it('orders firing, pending, resolved; then critical, warning, info, other; then newest', () => {
    const list = [
      alert('a', { state: 'resolved', severity: 'critical' }),
      alert('b', { state: 'pending', severity: 'critical' }),
      alert('c', { severity: 'info', active_ms: 9 }),
      alert('d', { severity: 'page', active_ms: 9 }),
      alert('e', { severity: 'warning', active_ms: 5 }),
      alert('f', { severity: 'warning', active_ms: 7 }),
      alert('g', { severity: 'critical', active_ms: 1 }),
    ];
    expect(sortAlerts(list).map((a) => a.fingerprint)).toEqual(['g', 'f', 'e', 'c', 'd', 'b', 'a']);
    expect(list[0].fingerprint).toBe('a'); // not sorted in place
  });
});

describe('filterAlerts', () => {
  const list = [
    alert('1', { name: 'EngineMemoryHigh', severity: 'critical' }),
    alert('2', { name: 'OrdersRejected', annotations: { summary: '5 orders rejected on BTCUSDT' } }),
    alert('3', { name: 'Heartbeat', severity: 'none' }),
  ];
  it('filters by alertname, severity (with "other"), and words in labels and annotations', () => {
    expect(filterAlerts(list, NO_FILTER)).toHaveLength(3);
    expect(filterAlerts(list, { ...NO_FILTER, alertname: 'OrdersRejected' }).map((a) => a.fingerprint)).toEqual(['2']);
    expect(filterAlerts(list, { ...NO_FILTER, severities: ['critical', 'other'] }).map((a) => a.fingerprint)).toEqual([
      '1',
      '3',
    ]);
    expect(filterAlerts(list, { ...NO_FILTER, text: 'btcusdt REJECTED' }).map((a) => a.fingerprint)).toEqual(['2']);
    expect(filterAlerts(list, { ...NO_FILTER, text: 'severity=none' }).map((a) => a.fingerprint)).toEqual(['3']);
    expect(filterAlerts(list, { ...NO_FILTER, text: 'btcusdt memory' })).toEqual([]);
  });
  it('lists alert names once, sorted', () => {
    expect(alertnames([...list, alert('4', { name: 'Heartbeat' })])).toEqual([
      'EngineMemoryHigh',
      'Heartbeat',
      'OrdersRejected',
    ]);
  });
});

describe('groupAlerts and countStates', () => {
  it('groups by alertname, drops a repeated fingerprint, keeps the worst severity', () => {
    const g = groupAlerts([
      alert('1', { name: 'A', severity: 'info' }),
      alert('2', { name: 'B' }),
      alert('3', { name: 'A', severity: 'critical' }),
      alert('1', { name: 'A', severity: 'info' }),
    ]);
    expect(g.map((x) => [x.alertname, x.alerts.map((a) => a.fingerprint), x.severity])).toEqual([
      ['A', ['1', '3'], 'critical'],
      ['B', ['2'], 'warning'],
    ]);
  });
  it('counts each state', () => {
    const list = [alert('1'), alert('2', { state: 'pending' }), alert('3'), alert('4', { state: 'resolved' })];
    expect(countStates(list)).toEqual({ firing: 2, pending: 1, resolved: 1 });
  });
  it('writes labels as PromQL does, alertname first', () => {
    expect(labelText({ severity: 'warning', alertname: 'X', instance: 'a"b' })).toBe(
      '{alertname="X", instance="a\\"b", severity="warning"}',
    );
  });
});

describe('newlyFiring', () => {
  it('on the first answer: nothing is news, what fires is the baseline', () => {
    const r = newlyFiring(null, [alert('a'), alert('b', { state: 'pending' })]);
    expect(r.fresh).toEqual([]);
    expect(r.seen).toEqual(['a@1000']);
  });
  it('afterwards: alerts that start firing (pending ones once they fire), each once', () => {
    let seen = newlyFiring(null, [alert('a')]).seen;
    const pending = alert('b', { state: 'pending', active_ms: 5_000 });
    let r = newlyFiring(seen, [alert('a'), pending]);
    expect(r.fresh).toEqual([]);
    seen = r.seen;
    r = newlyFiring(seen, [alert('a'), { ...pending, state: 'firing' }, { ...pending, state: 'firing' }]);
    expect(r.fresh.map((a) => a.fingerprint)).toEqual(['b']);
    r = newlyFiring(r.seen, [alert('a'), { ...pending, state: 'firing' }]);
    expect(r.fresh).toEqual([]);
  });
  it('an alert that resolves and fires again is news again (a new episode)', () => {
    const seen = newlyFiring(null, [alert('a', { active_ms: 1_000 })]).seen;
    const again = newlyFiring(seen, [alert('a', { active_ms: 60_000 })]);
    expect(again.fresh.map(episodeKey)).toEqual(['a@60000']);
  });
  it('remembers at most maxSeen keys, the newest', () => {
    const r = newlyFiring(['x@1', 'y@1'], [alert('a'), alert('b')], 3);
    expect(r.seen).toEqual(['y@1', 'a@1000', 'b@1000']);
  });
});

describe('alert toasts', () => {
  it('groups new firing alerts by alertname, each fingerprint once, worst severity, sticky', () => {
    const mem = [alert('1', { name: 'Mem' }), alert('2', { name: 'Mem', severity: 'critical' })];
    let s = addAlerts(EMPTY_NOTES, mem, 100);
    s = addAlerts(s, [alert('3', { name: 'Cpu', severity: 'info' }), alert('1', { name: 'Mem' })], 200);
    expect(s.groups.map((g) => [g.key, g.count, g.level, g.sticky, g.alert?.fingerprints])).toEqual([
      ['alert:Mem', 2, 'critical', true, ['2', '1']],
      ['alert:Cpu', 1, 'info', true, ['3']],
    ]);
    expect(alertToastTitle(s.groups[0])).toBe('2 × Mem firing');
    expect(alertToastTitle(s.groups[1])).toBe('Cpu firing');
    expect(s.groups[0].alert?.summary).toBe('Mem on bot-1');
  });

  it('shows who acknowledged; unsticks once all are acknowledged or resolved, and then fades', () => {
    let s = addAlerts(EMPTY_NOTES, [alert('1'), alert('2')], 1_000);
    const g0 = s.groups[0];
    expect(alertToastStatus(g0.alert!)).toBeNull();
    expect(unacknowledged(g0.alert!)).toEqual(['1', '2']);
    // Nothing changed: the same state (no re-render).
    expect(syncAlertNotes(s, [alert('1'), alert('2')], 2_000)).toBe(s);

    s = syncAlertNotes(s, [alert('1', { ack: { by: 'alice', at_ms: 1 } }), alert('2')], 2_000);
    expect(alertToastStatus(s.groups[0].alert!)).toBe('1 of 2 acknowledged by alice');
    expect(unacknowledged(s.groups[0].alert!)).toEqual(['2']);
    expect(s.groups[0].sticky).toBe(true);

    s = syncAlertNotes(
      s,
      [alert('1', { ack: { by: 'alice', at_ms: 1 } }), alert('2', { ack: { by: 'bob', at_ms: 2 } })],
      3_000,
    );
    expect(alertToastStatus(s.groups[0].alert!)).toBe('acknowledged by alice, bob');
    expect(s.groups[0].sticky).toBe(false);
    expect(s.groups[0].lastMs).toBe(3_000);
    expect(expire(s, 3_000 + 14_999, 15_000).groups).toHaveLength(1);
    expect(expire(s, 3_000 + 15_000, 15_000).groups).toHaveLength(0);
  });

  it('says resolved when every alert left the active list; a refire makes it sticky again', () => {
    let s = addAlerts(EMPTY_NOTES, [alert('1')], 0);
    s = syncAlertNotes(s, [], 10);
    expect(alertToastStatus(s.groups[0].alert!)).toBe('resolved');
    expect(s.groups[0].sticky).toBe(false);
    s = addAlerts(s, [alert('1', { active_ms: 50 })], 20);
    expect(s.groups[0].sticky).toBe(true);
    expect(s.groups[0].alert?.resolved).toEqual([]);
    expect(s.groups[0].count).toBe(1);
  });

  it('shares the toasts with events: the journal copy of an alert transition makes none', () => {
    const ev = {
      id: 7,
      sim_ms: 0,
      session_id: 's',
      type: 'alert',
      severity: 'critical',
      symbol: null,
      correlation_id: null,
      message: 'EngineMemoryHigh firing: memory high',
      data: { state: 'firing' },
    };
    expect(notable(ev)).toBeNull();
    const s = addAlerts(EMPTY_NOTES, [alert('1')], 0);
    const t = addEvents(s, [ev, { ...ev, id: 8, type: 'error', message: 'feed failed: eof' }], 0);
    expect(t.groups.map((g) => g.key)).toEqual(['alert:EngineMemoryHigh', 'error:feed failed']);
    expect(t.groups[0].alert?.fingerprints).toEqual(['1']);
  });
});

describe('history', () => {
  const h = (p: Partial<HistoryEntry>): HistoryEntry => ({
    id: 1,
    at_ms: 0,
    kind: 'transition',
    fingerprint: 'f',
    alertname: 'Mem',
    labels: null,
    from: null,
    to: null,
    receiver: null,
    outcome: null,
    who: null,
    ...p,
  });
  it('says what each row is', () => {
    expect(historyText(h({ from: 'pending', to: 'firing' }))).toBe('pending → firing');
    expect(historyText(h({ to: 'pending' }))).toBe('inactive → pending');
    expect(historyText(h({ kind: 'notification', to: 'firing', receiver: 'ops', outcome: 'sent' }))).toBe(
      'firing notification sent to ops',
    );
    const failed = h({ kind: 'notification', to: 'resolved', receiver: 'ops', outcome: 'failed: HTTP 500' });
    expect(historyText(failed)).toBe('resolved notification to ops: failed: HTTP 500');
    expect(historyFailed(failed)).toBe(true);
    expect(historyText(h({ kind: 'ack', who: 'alice' }))).toBe('acknowledged by alice');
    expect(historyText(h({ kind: 'unack', who: 'bob' }))).toBe('acknowledgment removed by bob');
    expect(historyText(h({ kind: 'silence', who: 'carol' }))).toBe('silenced by carol');
  });
  it('flattens pages newest first, each row once', () => {
    const pages = [
      { history: [h({ id: 9 }), h({ id: 8 }), h({ id: 7 })] },
      { history: [h({ id: 7 }), h({ id: 6 })] },
    ];
    expect(flattenHistory(pages).map((x) => x.id)).toEqual([9, 8, 7, 6]);
  });
});
