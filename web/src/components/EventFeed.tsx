import { memo, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import { useChain, useEventPages, type EventFilters } from '../api/hooks';
import { liveEvents, matchesFilters, mergeEvents, type LiveStatus } from '../api/live';
import { EVENT_TYPES, SEVERITIES, type MonEvent } from '../api/types';
import { formatClockUTC, formatDateTimeUTC, formatDurationMs } from '../lib/format';
import { ANNOTATION, authorOf } from '../lib/annotations';
import { ErrorState, Loading } from './Panel';

const STATUS_TEXT: Record<LiveStatus, string> = {
  idle: 'starting',
  connecting: 'connecting',
  live: 'live',
  reconnecting: 'reconnecting',
  polling: 'polling',
  paused: 'paused',
  unavailable: 'unavailable',
};

const CHAIN_ORDER = ['signal', 'order', 'fill', 'close'];

const EventRow = memo(function EventRow({
  ev,
  onChain,
  selected,
}: {
  ev: MonEvent;
  onChain: (id: string) => void;
  selected: boolean;
}) {
  const note = ev.type === ANNOTATION;
  const author = note ? authorOf(ev) : null;
  return (
    <li
      className={`event sev-${ev.severity} ${note ? 'event-note' : ''} ${selected ? 'selected' : ''}`}
      data-testid="event-item"
      data-event-id={ev.id}
      data-type={ev.type}
    >
      <time
        className="event-time"
        dateTime={new Date(ev.sim_ms).toISOString()}
        title={`${formatDateTimeUTC(ev.sim_ms)} UTC (market time)`}
      >
        {formatClockUTC(ev.sim_ms)}
      </time>
      <span className={`pill sev sev-${ev.severity}`}>{ev.severity}</span>
      <span className={`pill type type-${ev.type}`}>{ev.type.replace('_', ' ')}</span>
      <span className="event-symbol">{ev.symbol ?? ''}</span>
      <span className="event-msg" title={note ? undefined : ev.message}>
        {note && (
          <span className="event-author" data-testid="event-author">
            <span aria-hidden="true">✎ </span>
            {author ?? 'anonymous'}
            <span className="sr-only"> wrote</span>
          </span>
        )}
        {ev.message}
      </span>
      {ev.correlation_id && (
        <button
          type="button"
          className="link event-corr"
          data-testid="event-correlation"
          aria-pressed={selected}
          onClick={() => onChain(ev.correlation_id!)}
          title="Show this trade's signal → order → fill → close"
        >
          {ev.correlation_id}
        </button>
      )}
    </li>
  );
});

/** One trade's events, oldest first: signal → order → fill → close. */
export function Chain({ id, session, onClose }: { id: string; session: string | null; onClose: () => void }) {
  const q = useChain(id, session);
  const events = [...(q.data?.events ?? [])].sort((a, b) => a.id - b.id);
  const reached = new Set(events.map((e) => e.type));
  return (
    <aside className="chain" data-testid="event-chain" aria-label={`Trade ${id}`}>
      <header className="chain-head">
        <h3>Trade {id}</h3>
        <button
          type="button"
          className="btn btn-small btn-ghost"
          onClick={onClose}
          aria-label="Close the trade's chain"
        >
          ×
        </button>
      </header>
      <ol className="chain-stages" aria-label="Stages">
        {CHAIN_ORDER.map((t) => (
          <li key={t} className={reached.has(t) ? 'done' : ''}>
            {t}
          </li>
        ))}
      </ol>
      {q.isError && !q.data ? (
        <ErrorState error={q.error} />
      ) : !q.data ? (
        <Loading />
      ) : events.length === 0 ? (
        <p className="state state-empty">No events for this trade.</p>
      ) : (
        <ol className="chain-events">
          {events.map((e, i) => (
            <li key={e.id} data-testid="chain-item" data-type={e.type}>
              <span className={`pill type type-${e.type}`}>{e.type}</span>
              <time>{formatClockUTC(e.sim_ms)}</time>
              {i > 0 && <span className="muted"> +{formatDurationMs(e.sim_ms - events[i - 1].sim_ms)}</span>}
              <div className="chain-msg">{e.message}</div>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}

const PAGE = 100;

/** Events, newest first: the first page from /events, then live from the stream; "load
 *  older" pages back. Filters apply to both. */
export function EventFeed({ session, symbols }: { session: string | null; symbols: string[] }) {
  const live = useSyncExternalStore(liveEvents.subscribe, liveEvents.get);
  const [types, setTypes] = useState<string[]>([]);
  const [severity, setSeverity] = useState('info');
  const [symbol, setSymbol] = useState('');
  const [chain, setChain] = useState<string | null>(null);
  const [shown, setShown] = useState(PAGE);
  const filters: EventFilters = useMemo(
    () => ({ session, types, severity, symbol }),
    [session, types, severity, symbol],
  );
  // The first page is fetched at once, beside the request that fixes where the live events
  // start, so the feed fills without waiting for it. Pages read before that starting point
  // was known are read once more when they are in, which leaves no gap between them and the
  // live events. The stream being unavailable, the pages poll instead.
  const pages = useEventPages(filters, live.epoch, live.status === 'unavailable');
  const readBeforeStart = useRef(false);
  if (live.startId === null && (pages.isFetching || pages.data)) readBeforeStart.current = true;
  const { refetch } = pages;
  useEffect(() => {
    if (readBeforeStart.current && live.startId !== null && !pages.isFetching) {
      readBeforeStart.current = false;
      void refetch();
    }
  }, [live.startId, pages.isFetching, refetch]);

  useEffect(() => setShown(PAGE), [filters]);
  useEffect(() => setChain(null), [session]);

  const paged = useMemo(() => pages.data?.pages.flatMap((p) => p.events) ?? [], [pages.data]);
  const all = useMemo(
    () =>
      mergeEvents(
        live.events.filter((e) => matchesFilters(e, filters)),
        paged,
      ),
    [live.events, paged, filters],
  );
  const visible = all.slice(0, shown);
  const canLoadMore = all.length > shown || pages.hasNextPage;

  const loadOlder = () => {
    setShown((n) => n + PAGE);
    if (all.length < shown + PAGE && pages.hasNextPage && !pages.isFetchingNextPage) pages.fetchNextPage();
  };
  const knownSymbols = useMemo(
    () => [...new Set([...symbols, ...all.map((e) => e.symbol).filter((s): s is string => !!s)])].sort(),
    [symbols, all],
  );

  const toggleType = (t: string) => setTypes((cur) => (cur.includes(t) ? cur.filter((x) => x !== t) : [...cur, t]));

  return (
    <div className={`feed ${chain ? 'with-chain' : ''}`}>
      <div className="feed-main">
        <div className="filters" role="group" aria-label="Event filters">
          <div className="chips" role="group" aria-label="Types">
            {EVENT_TYPES.map((t) => (
              <button
                key={t}
                type="button"
                className={`chip type-${t}`}
                aria-pressed={types.includes(t)}
                onClick={() => toggleType(t)}
                data-testid={`filter-type-${t}`}
              >
                {t.replace('_', ' ')}
              </button>
            ))}
          </div>
          <label className="field">
            <span className="field-label">Severity ≥</span>
            <select value={severity} onChange={(e) => setSeverity(e.target.value)} data-testid="filter-severity">
              {SEVERITIES.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span className="field-label">Symbol</span>
            <select value={symbol} onChange={(e) => setSymbol(e.target.value)} data-testid="filter-symbol">
              <option value="">all</option>
              {knownSymbols.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          <span className={`live-dot live-${live.status}`} data-testid="event-stream-status" role="status">
            {STATUS_TEXT[live.status]}
          </span>
        </div>
        {pages.isError && !pages.data ? (
          <ErrorState error={pages.error} onRetry={() => pages.refetch()} />
        ) : !pages.data && live.events.length === 0 ? (
          <Loading what="Loading events" />
        ) : visible.length === 0 ? (
          <p className="state state-empty" data-testid="event-empty">
            {types.length || symbol || severity !== 'info'
              ? 'No events match these filters.'
              : 'No events yet in this session.'}
          </p>
        ) : (
          <ol className="events" aria-label="Events, newest first" aria-live="off">
            {visible.map((e) => (
              <EventRow key={e.id} ev={e} onChain={setChain} selected={chain === e.correlation_id} />
            ))}
          </ol>
        )}
        <div className="row-center">
          {canLoadMore && (
            <button
              type="button"
              className="btn btn-small"
              onClick={loadOlder}
              disabled={pages.isFetchingNextPage}
              data-testid="event-load-older"
            >
              {pages.isFetchingNextPage ? 'Loading…' : 'Load older'}
            </button>
          )}
        </div>
      </div>
      {chain && <Chain id={chain} session={session} onClose={() => setChain(null)} />}
    </div>
  );
}
