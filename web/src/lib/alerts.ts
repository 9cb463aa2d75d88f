// Alerts on the page, pure: their order, filters and grouping; which alerts just started firing
// and the toasts they make (the notifications' groups, one per alertname); how a history row
// reads. The silence form's matchers are in lib/silences.ts.
import type { Alert, HistoryEntry } from '../api/alerts';
import type { Labels } from '../api/types';
import {
  LEVEL_RANK,
  NOTE_DEFAULTS,
  trimGroups,
  type AlertNote,
  type Level,
  type NoteGroup,
  type NoteOptions,
  type NoteState,
} from './notifications';

// ---- order, filters, groups ---------------------------------------------------------------

export const SEVERITY_ORDER = ['critical', 'warning', 'info'] as const;
const STATE_ORDER = ['firing', 'pending', 'resolved'];

/** critical 0, warning 1, info 2, anything else (or none) 3. */
export function severityRank(sev: string | undefined): number {
  const i = (SEVERITY_ORDER as readonly string[]).indexOf(sev ?? '');
  return i < 0 ? SEVERITY_ORDER.length : i;
}

const stateRank = (s: string) => {
  const i = STATE_ORDER.indexOf(s);
  return i < 0 ? STATE_ORDER.length : i;
};

/** The server's order: firing, pending, resolved; then critical, warning, info, other; then the
 *  newest first (by when it became active); the fingerprint breaks ties so the order is stable. */
export function sortAlerts(alerts: readonly Alert[]): Alert[] {
  return [...alerts].sort(
    (a, b) =>
      stateRank(a.state) - stateRank(b.state) ||
      severityRank(a.labels.severity) - severityRank(b.labels.severity) ||
      b.active_ms - a.active_ms ||
      (a.fingerprint < b.fingerprint ? -1 : a.fingerprint > b.fingerprint ? 1 : 0),
  );
}

/** A toast's level for an alert's severity label: anything unknown is a warning. */
export function alertLevel(severity: string | undefined): Level {
  return severity === 'critical' ? 'critical' : severity === 'info' ? 'info' : 'warning';
}

export interface AlertFilter {
  /** '' for any. */
  alertname: string;
  /** Severities to show; empty for all. "other" stands for any severity not listed. */
  severities: string[];
  /** Words that must each appear in a label name or value or an annotation (any case). */
  text: string;
}

export const NO_FILTER: AlertFilter = { alertname: '', severities: [], text: '' };

export function severityOf(a: Pick<Alert, 'labels'>): string {
  const s = a.labels.severity ?? '';
  return (SEVERITY_ORDER as readonly string[]).includes(s) ? s : 'other';
}

/** The alerts that pass the filter, in their order. */
export function filterAlerts(alerts: readonly Alert[], f: AlertFilter): Alert[] {
  const words = f.text.toLowerCase().split(/\s+/).filter(Boolean);
  return alerts.filter((a) => {
    if (f.alertname && a.labels.alertname !== f.alertname) return false;
    if (f.severities.length && !f.severities.includes(severityOf(a))) return false;
    if (!words.length) return true;
    const hay = [
      ...Object.entries(a.labels).map(([k, v]) => `${k}=${v}`),
      ...Object.values(a.annotations ?? {}),
    ]
      .join('\n')
      .toLowerCase();
    return words.every((w) => hay.includes(w));
  });
}

/** Alert names, sorted, each once. */
export function alertnames(alerts: readonly Alert[]): string[] {
  return [...new Set(alerts.map((a) => a.labels.alertname).filter((n): n is string => !!n))].sort();
}

export interface AlertGroup {
  alertname: string;
  alerts: Alert[];
  /** The most severe of its alerts' severities ('other' if none is known). */
  severity: string;
}

/** Alerts by alertname, each alert once (by fingerprint, the first kept), groups in the order
 *  of their first alert. */
export function groupAlerts(alerts: readonly Alert[]): AlertGroup[] {
  const groups = new Map<string, AlertGroup>();
  const seen = new Set<string>();
  for (const a of alerts) {
    if (seen.has(a.fingerprint)) continue;
    seen.add(a.fingerprint);
    const name = a.labels.alertname ?? '(no alertname)';
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { alertname: name, alerts: [], severity: severityOf(a) }));
    g.alerts.push(a);
    if (severityRank(severityOf(a)) < severityRank(g.severity)) g.severity = severityOf(a);
  }
  return [...groups.values()];
}

/** The counts the tabs show. */
export function countStates(alerts: readonly Alert[]): Record<'firing' | 'pending' | 'resolved', number> {
  const c = { firing: 0, pending: 0, resolved: 0 };
  for (const a of alerts) if (a.state in c) c[a.state as keyof typeof c]++;
  return c;
}

/** Label names, alertname first, then sorted. */
export function labelNames(labels: Labels): string[] {
  return Object.keys(labels).sort((a, b) => (a === 'alertname' ? -1 : b === 'alertname' ? 1 : a < b ? -1 : 1));
}

/** A label set as PromQL writes it: {alertname="X", severity="warning"} (alertname first). */
export function labelText(labels: Labels): string {
  return '{' + labelNames(labels).map((n) => `${n}=${JSON.stringify(labels[n])}`).join(', ') + '}';
}

// ---- notifications ------------------------------------------------------------------------

/** An alert's identity in one episode: it becomes a new one (and toasts again) when it
 *  resolves and fires again. */
export const episodeKey = (a: Pick<Alert, 'fingerprint' | 'active_ms'>) => `${a.fingerprint}@${a.active_ms}`;

/** The firing alerts not seen firing before. `seen` is null before the first answer: what
 *  fires then is already firing, not news, and only becomes the baseline. Returns the new
 *  alerts (each once) and the keys to remember, at most `maxSeen` (the newest). */
export function newlyFiring(
  seen: readonly string[] | null,
  alerts: readonly Alert[],
  maxSeen = NOTE_DEFAULTS.maxSeen,
): { fresh: Alert[]; seen: string[] } {
  const known = new Set(seen ?? []);
  const fresh: Alert[] = [];
  const added: string[] = [];
  for (const a of alerts) {
    if (a.state !== 'firing') continue;
    const k = episodeKey(a);
    if (known.has(k)) continue;
    known.add(k);
    added.push(k);
    if (seen !== null) fresh.push(a);
  }
  const all = [...(seen ?? []), ...added];
  return { fresh, seen: all.slice(Math.max(0, all.length - maxSeen)) };
}

export const alertToastKey = (alertname: string) => `alert:${alertname}`;

const summaryOf = (a: Alert) => a.annotations?.summary || a.annotations?.description || '';

/** Adds toasts for alerts that just started firing: one per alertname (joining a toast of the
 *  same name still shown), each fingerprint counted once. An alert toast stays until it is
 *  dismissed, or its alerts are all acknowledged or resolved (see syncAlertNotes). */
export function addAlerts(
  state: NoteState,
  fresh: readonly Alert[],
  nowMs: number,
  opts: NoteOptions = NOTE_DEFAULTS,
): NoteState {
  if (!fresh.length) return state;
  let groups = state.groups.map((g) =>
    g.alert ? { ...g, alert: { ...g.alert, fingerprints: [...g.alert.fingerprints] } } : g,
  );
  for (const a of sortAlerts(fresh)) {
    const name = a.labels.alertname ?? '(no alertname)';
    const key = alertToastKey(name);
    const level = alertLevel(a.labels.severity);
    let g = groups.find((x) => x.key === key);
    if (!g) {
      g = {
        id: `${key}#${episodeKey(a)}`,
        key,
        title: `${name} firing`,
        level,
        sticky: true,
        count: 0,
        symbols: [],
        eventIds: [],
        firstMs: nowMs,
        lastMs: nowMs,
        alert: { alertname: name, fingerprints: [], summary: summaryOf(a), ackedBy: {}, resolved: [] },
      };
      groups.push(g);
    }
    const n = g.alert!;
    if (n.fingerprints.includes(a.fingerprint)) {
      n.resolved = n.resolved.filter((f) => f !== a.fingerprint);
    } else {
      n.fingerprints.push(a.fingerprint);
      g.count = n.fingerprints.length;
    }
    if (!n.summary) n.summary = summaryOf(a);
    if (LEVEL_RANK[level] > LEVEL_RANK[g.level]) g.level = level;
    if (a.ack) n.ackedBy = { ...n.ackedBy, [a.fingerprint]: a.ack.by };
    g.sticky = true;
    g.lastMs = nowMs;
  }
  groups = trimGroups(groups, opts.maxGroups);
  return { ...state, groups };
}

/** Brings the alert toasts up to date with the pending and firing alerts now: who
 *  acknowledged each, which resolved. A toast whose alerts are all acknowledged or resolved
 *  stops being sticky: it fades out after the toasts' time to live, counted from then. The
 *  same state object when nothing changed. */
export function syncAlertNotes(state: NoteState, active: readonly Alert[], nowMs: number): NoteState {
  const byFp = new Map(active.map((a) => [a.fingerprint, a]));
  let changed = false;
  const groups = state.groups.map((g) => {
    if (!g.alert) return g;
    const ackedBy: Record<string, string> = {};
    const resolved: string[] = [];
    for (const f of g.alert.fingerprints) {
      const a = byFp.get(f);
      if (!a || a.state === 'resolved') resolved.push(f);
      else if (a.ack) ackedBy[f] = a.ack.by;
    }
    const sticky = g.alert.fingerprints.some((f) => !resolved.includes(f) && !(f in ackedBy));
    const same =
      sticky === g.sticky &&
      resolved.join() === g.alert.resolved.join() &&
      JSON.stringify(ackedBy) === JSON.stringify(g.alert.ackedBy);
    if (same) return g;
    changed = true;
    return { ...g, sticky, lastMs: sticky === g.sticky ? g.lastMs : nowMs, alert: { ...g.alert, ackedBy, resolved } };
  });
  return changed ? { ...state, groups } : state;
}

/** An alert toast's headline: "EngineMemoryHigh firing", "3 × EngineMemoryHigh firing". */
export function alertToastTitle(g: Pick<NoteGroup, 'count' | 'title'>): string {
  return g.count > 1 ? `${g.count} × ${g.title}` : g.title;
}

/** Who acknowledged a toast's alerts: "acknowledged by alice", "acknowledged by alice, bob",
 *  "1 of 3 acknowledged by alice"; "resolved" when all resolved; null when none is either. */
export function alertToastStatus(n: Pick<AlertNote, 'fingerprints' | 'ackedBy' | 'resolved'>): string | null {
  const open = n.fingerprints.filter((f) => !n.resolved.includes(f));
  if (!open.length) return n.fingerprints.length ? 'resolved' : null;
  const acked = open.filter((f) => f in n.ackedBy);
  if (!acked.length) return null;
  const who = [...new Set(acked.map((f) => n.ackedBy[f]))].join(', ');
  return acked.length === open.length
    ? `acknowledged by ${who}`
    : `${acked.length} of ${open.length} acknowledged by ${who}`;
}

/** The fingerprints of a toast's alerts that are firing or pending and not acknowledged. */
export function unacknowledged(n: Pick<AlertNote, 'fingerprints' | 'ackedBy' | 'resolved'>): string[] {
  return n.fingerprints.filter((f) => !n.resolved.includes(f) && !(f in n.ackedBy));
}

// ---- history ------------------------------------------------------------------------------

/** What a history row says: "pending → firing", "sent to ops", "failed: timeout (ops)",
 *  "acknowledged by alice", "acknowledgment removed by alice", "silenced by alice". */
export function historyText(h: HistoryEntry): string {
  switch (h.kind) {
    case 'transition':
      return `${h.from ?? 'inactive'} → ${h.to ?? '?'}`;
    case 'notification': {
      const to = h.receiver ? ` to ${h.receiver}` : '';
      const what = h.to ? `${h.to} ` : '';
      if (!h.outcome || h.outcome === 'sent') return `${what}notification sent${to}`;
      return `${what}notification${to}: ${h.outcome}`;
    }
    case 'ack':
      return `acknowledged by ${h.who ?? 'someone'}`;
    case 'unack':
      return `acknowledgment removed by ${h.who ?? 'someone'}`;
    case 'silence':
      return `silenced by ${h.who ?? 'someone'}`;
    default:
      return h.kind;
  }
}

/** Whether a history row reports a failure (a notification not sent). */
export const historyFailed = (h: HistoryEntry) =>
  h.kind === 'notification' && !!h.outcome && h.outcome !== 'sent';

/** Pages of history, newest first, as one list: each row once (a refetched first page may
 *  repeat rows of the next). */
export function flattenHistory(pages: readonly { history: HistoryEntry[] }[]): HistoryEntry[] {
  const byId = new Map<number, HistoryEntry>();
  for (const p of pages) for (const h of p.history) if (!byId.has(h.id)) byId.set(h.id, h);
  return [...byId.values()].sort((a, b) => b.id - a.id);
}
