// Live events for the whole page: one EventSource on /api/monitoring/events/stream (no
// filters: the feed filters what it shows, the notifications look at everything). It starts
// after the newest event that existed when it connected, resumes after the newest one it has
// seen when auto-refresh comes back on (the server replays what was missed), and falls back to
// polling /api/monitoring/events when the stream cannot be had.
import { buildUrl, getJSON } from './client';
import type { EventsResponse, MonEvent } from './types';
import { CURRENT, SEVERITIES } from './types';

export type LiveStatus = 'idle' | 'connecting' | 'live' | 'reconnecting' | 'polling' | 'paused' | 'unavailable';

export interface LiveFilters {
  session: string | null;
  types: string[];
  severity: string;
  symbol: string;
}

/** The stream's URL. EventSource cannot send an Authorization header, so with a token it
 *  goes as access_token (which breakwatch accepts for the stream only). */
export function streamUrl(lastEventId: number | null, token: string | null): string {
  return buildUrl('/api/monitoring/events/stream', {
    last_event_id: lastEventId ?? undefined,
    access_token: token ?? undefined,
  });
}

/** Whether an event passes the feed's filters (the same meaning as /events's parameters). */
export function matchesFilters(ev: MonEvent, f: LiveFilters): boolean {
  if (f.session && f.session !== CURRENT && ev.session_id !== f.session) return false;
  if (f.types.length && !f.types.includes(ev.type)) return false;
  if (f.severity) {
    const min = SEVERITIES.indexOf(f.severity as never);
    const sev = SEVERITIES.indexOf(ev.severity as never);
    if (min > 0 && sev < min) return false;
  }
  if (f.symbol) {
    const wanted = f.symbol
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (wanted.length && (!ev.symbol || !wanted.includes(ev.symbol))) return false;
  }
  return true;
}

/** Live and paged events as one list, newest first, each id once. */
export function mergeEvents(live: MonEvent[], pages: MonEvent[]): MonEvent[] {
  const seen = new Set<number>();
  const out: MonEvent[] = [];
  for (const e of [...live, ...pages]) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    out.push(e);
  }
  return out.sort((a, b) => b.id - a.id);
}

export interface LiveSnapshot {
  status: LiveStatus;
  /** Newest first; at most `cap`. */
  events: MonEvent[];
  /** The id after which the live events begin (null until known). Pages fetched after it is
   *  known overlap the live events, so together they miss nothing. */
  startId: number | null;
  /** Bumped when older live events were dropped: the feed refetches its pages then. */
  epoch: number;
}

type Listener = () => void;
type BatchListener = (events: MonEvent[]) => void;

export class LiveEvents {
  private snap: LiveSnapshot = { status: 'idle', events: [], startId: null, epoch: 0 };
  private listeners = new Set<Listener>();
  private batchListeners = new Set<BatchListener>();
  private es: EventSource | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private pending: MonEvent[] = [];
  private flushTimer: ReturnType<typeof setTimeout> | null = null;
  private newest: number | null = null;
  private runId = 0;

  constructor(
    private readonly cap = 2000,
    private readonly flushMs = 500,
    private readonly makeSource: (url: string) => EventSource = (url) => new EventSource(url),
  ) {}

  get = (): LiveSnapshot => this.snap;

  subscribe = (l: Listener): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  /** Called with each batch of new events (for notifications). */
  onBatch(l: BatchListener): () => void {
    this.batchListeners.add(l);
    return () => this.batchListeners.delete(l);
  }

  private set(next: Partial<LiveSnapshot>) {
    this.snap = { ...this.snap, ...next };
    this.listeners.forEach((l) => l());
  }

  /** Connects (or reconnects after a pause) with the given token and polling interval. */
  start(token: string | null, intervalMs: number) {
    this.stop('connecting');
    const run = ++this.runId;
    const open = (after: number) => {
      if (run !== this.runId) return;
      if (this.snap.startId === null) this.set({ startId: after });
      this.newest = Math.max(this.newest ?? after, after);
      let es: EventSource;
      try {
        es = this.makeSource(streamUrl(this.newest, token));
      } catch {
        this.poll(run, intervalMs);
        return;
      }
      this.es = es;
      es.onopen = () => run === this.runId && this.set({ status: 'live' });
      es.addEventListener('event', (m) => {
        if (run !== this.runId) return;
        try {
          this.receive([JSON.parse((m as MessageEvent<string>).data) as MonEvent]);
        } catch {
          /* a malformed message: skip it */
        }
      });
      es.onerror = () => {
        if (run !== this.runId) return;
        if (es.readyState === 2 /* CLOSED: an HTTP error, the browser gives up */) {
          es.close();
          this.es = null;
          this.poll(run, intervalMs);
        } else this.set({ status: 'reconnecting' });
      };
    };
    if (this.newest !== null) open(this.newest);
    else
      getJSON<EventsResponse>('/api/monitoring/events', { limit: 1 })
        .then((r) => open(r.events[0]?.id ?? 0))
        .catch(() => {
          if (run !== this.runId) return;
          this.set({ status: 'unavailable' });
          // Try again later: the endpoint may appear, or the user may sign in.
          this.timer = setTimeout(
            () => run === this.runId && this.start(token, intervalMs),
            Math.max(intervalMs, 5000),
          );
        });
  }

  private poll(run: number, intervalMs: number) {
    this.set({ status: 'polling' });
    const tick = () => {
      if (run !== this.runId) return;
      getJSON<EventsResponse>('/api/monitoring/events', { limit: 100 })
        .then((r) => {
          if (run !== this.runId) return;
          if (this.snap.status !== 'polling') this.set({ status: 'polling' });
          this.receive(r.events);
        })
        .catch(() => run === this.runId && this.set({ status: 'unavailable' }))
        .finally(() => {
          if (run === this.runId) this.timer = setTimeout(tick, intervalMs);
        });
    };
    tick();
  }

  /** Stops every request: no stream, no polling. */
  stop(status: LiveStatus = 'paused') {
    this.runId++;
    this.es?.close();
    this.es = null;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.set({ status });
  }

  /** Forgets everything (another user signed in). */
  reset() {
    this.stop('idle');
    this.pending = [];
    this.newest = null;
    this.set({ events: [], startId: null, epoch: this.snap.epoch + 1 });
  }

  /** Shows an event the page itself just created (a note), before the stream brings it.
   *  It does not move the resume point: events older than it that the stream has not
   *  delivered yet still come, and when the stream brings this one it replaces it. */
  insert(ev: MonEvent) {
    if (this.snap.events.some((e) => e.id === ev.id)) return;
    this.set({ events: mergeEvents([ev], this.snap.events) });
  }

  receive(events: MonEvent[]) {
    // The stream and the polling both deliver in id order from after the newest seen, so an
    // id at or below it has been seen already.
    for (const e of [...events].sort((a, b) => a.id - b.id)) {
      if (this.newest !== null && e.id <= this.newest) continue;
      this.newest = e.id;
      this.pending.push(e);
    }
    // One update per burst, not per event: the feed re-renders at most twice a second.
    if (this.pending.length && !this.flushTimer) this.flushTimer = setTimeout(() => this.flush(), this.flushMs);
  }

  flush() {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.pending.length) return;
    const batch = this.pending.sort((a, b) => b.id - a.id);
    this.pending = [];
    let events = mergeEvents(batch, this.snap.events);
    let epoch = this.snap.epoch;
    if (events.length > this.cap) {
      events = events.slice(0, Math.floor(this.cap / 2));
      epoch++;
    }
    this.set({ events, epoch });
    this.batchListeners.forEach((l) => l(batch));
  }
}

export const liveEvents = new LiveEvents();
