// Smart notifications: which events deserve a toast, and how toasts are grouped and
// deduplicated, e.g. "3 × order rejected (BTCUSDT, ETHUSDT)". Alerts share the toasts (their
// groups carry `alert`, see lib/alerts.ts). Pure: the component keeps the state and passes the
// clock in.
import type { MonEvent } from '../api/types';

export type Level = 'info' | 'warning' | 'error' | 'critical';

export interface Notable {
  /** Events with the same key within the window join one toast. */
  key: string;
  title: string;
  level: Level;
  /** Stays until dismissed (otherwise it fades out after the time to live). */
  sticky: boolean;
}

/** The part of a message before its details: "market feed failed: timeout" → "market feed
 *  failed", "daily loss limit reached (P&L -520.00, …): flattening" → "daily loss limit
 *  reached". */
export function headline(message: string): string {
  const cut = message.search(/ \(|: /);
  return (cut > 0 ? message.slice(0, cut) : message).trim();
}

const levelOf = (sev: string): Level =>
  sev === 'critical' ? 'critical' : sev === 'error' ? 'error' : sev === 'warning' ? 'warning' : 'info';

/** Whether an event deserves a toast, and under which key: risk events, the engine halting,
 *  rejected orders, positions closed at a loss, errors, and anything of error or critical
 *  severity. */
export function notable(ev: MonEvent): Notable | null {
  const data = ev.data ?? {};
  const level = levelOf(ev.severity);
  // Alert transitions: the alerts themselves make their toasts (lib/alerts.ts), with their
  // acknowledgment; the journal's copy of the transition would only say it twice.
  if (ev.type === 'alert') return null;
  if (ev.type === 'state_change' && data.to === 'halted')
    return { key: 'halted', title: 'engine halted', level: 'critical', sticky: true };
  if (ev.type === 'risk') {
    const title = headline(ev.message);
    return { key: 'risk:' + title, title, level, sticky: level === 'critical' };
  }
  if (ev.type === 'order' && data.status === 'rejected')
    return { key: 'order-rejected', title: 'order rejected', level: 'warning', sticky: false };
  if (ev.type === 'close' && (data.outcome === 'loss' || (typeof data.pnl === 'number' && data.pnl < 0)))
    return { key: 'close-loss', title: 'position closed at a loss', level: 'warning', sticky: false };
  if (ev.type === 'error' || level === 'error' || level === 'critical') {
    if (level === 'info') return null;
    const title = headline(ev.message);
    return { key: `${ev.type}:${title}`, title, level, sticky: level === 'critical' };
  }
  return null;
}

export interface NoteGroup {
  /** Stable id for React and for dismissing. */
  id: string;
  key: string;
  title: string;
  level: Level;
  sticky: boolean;
  count: number;
  symbols: string[];
  eventIds: number[];
  firstMs: number;
  lastMs: number;
  /** Set on an alert's toast (one per alertname). */
  alert?: AlertNote;
}

/** What an alert toast shows beyond its title: the alerts it stands for, their summaries and
 *  who acknowledged them. */
export interface AlertNote {
  alertname: string;
  fingerprints: string[];
  summary: string;
  /** Fingerprint → who acknowledged it (absent: not acknowledged). */
  ackedBy: Record<string, string>;
  /** Fingerprints no longer pending or firing. */
  resolved: string[];
}

export interface NoteState {
  groups: NoteGroup[];
  /** Ids of events already counted, so a replayed event never counts twice. */
  seen: number[];
}

export const EMPTY_NOTES: NoteState = { groups: [], seen: [] };

export interface NoteOptions {
  /** An event joins a toast of its kind if that toast got its last event within this. */
  windowMs: number;
  /** Toasts at most; the oldest non-sticky ones go first. */
  maxGroups: number;
  /** How many event ids to remember for deduplication. */
  maxSeen: number;
}

export const NOTE_DEFAULTS: NoteOptions = { windowMs: 10_000, maxGroups: 5, maxSeen: 1000 };

export const LEVEL_RANK: Record<Level, number> = { info: 0, warning: 1, error: 2, critical: 3 };
const rank = LEVEL_RANK;

/** Keeps at most `max` toasts: the oldest non-sticky ones go first. */
export function trimGroups(groups: NoteGroup[], max: number): NoteGroup[] {
  if (groups.length <= max) return groups;
  const drop = groups
    .filter((g) => !g.sticky)
    .sort((a, b) => a.lastMs - b.lastMs)
    .slice(0, groups.length - max)
    .map((g) => g.id);
  return groups.filter((g) => !drop.includes(g.id));
}

/** Adds events (in any order) to the toasts at wall time `nowMs`. */
export function addEvents(
  state: NoteState,
  events: MonEvent[],
  nowMs: number,
  opts: NoteOptions = NOTE_DEFAULTS,
): NoteState {
  const seen = new Set(state.seen);
  let groups = state.groups.map((g) => ({ ...g, symbols: [...g.symbols], eventIds: [...g.eventIds] }));
  const added: number[] = [];
  for (const ev of [...events].sort((a, b) => a.id - b.id)) {
    if (seen.has(ev.id)) continue;
    seen.add(ev.id);
    added.push(ev.id);
    const n = notable(ev);
    if (!n) continue;
    let g = groups.find((x) => x.key === n.key && nowMs - x.lastMs <= opts.windowMs);
    if (!g) {
      g = { id: `${n.key}#${ev.id}`, ...n, count: 0, symbols: [], eventIds: [], firstMs: nowMs, lastMs: nowMs };
      groups.push(g);
    }
    g.count++;
    g.lastMs = nowMs;
    g.eventIds.push(ev.id);
    if (rank[n.level] > rank[g.level]) g.level = n.level;
    g.sticky = g.sticky || n.sticky;
    if (ev.symbol && !g.symbols.includes(ev.symbol)) g.symbols.push(ev.symbol);
  }
  groups = trimGroups(groups, opts.maxGroups);
  const allSeen = [...state.seen, ...added];
  return { groups, seen: allSeen.slice(Math.max(0, allSeen.length - opts.maxSeen)) };
}

/** Removes non-sticky toasts whose last event is older than `ttlMs`. */
export function expire(state: NoteState, nowMs: number, ttlMs: number): NoteState {
  const groups = state.groups.filter((g) => g.sticky || nowMs - g.lastMs < ttlMs);
  return groups.length === state.groups.length ? state : { ...state, groups };
}

export function dismiss(state: NoteState, id: string): NoteState {
  return { ...state, groups: state.groups.filter((g) => g.id !== id) };
}

/** "3 × order rejected (BTCUSDT, ETHUSDT)"; at most `maxSymbols` symbols, then "+N". */
export function groupText(g: Pick<NoteGroup, 'count' | 'title' | 'symbols'>, maxSymbols = 3): string {
  const head = g.count > 1 ? `${g.count} × ${g.title}` : g.title;
  if (!g.symbols.length) return head;
  const shown = g.symbols.slice(0, maxSymbols).join(', ');
  const more = g.symbols.length > maxSymbols ? ` +${g.symbols.length - maxSymbols}` : '';
  return `${head} (${shown}${more})`;
}
