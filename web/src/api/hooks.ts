// TanStack Query hooks for every endpoint the page reads. Each polls at the auto-refresh
// interval, and not at all when auto-refresh is off.
import { useSyncExternalStore } from 'react';
import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useRefetchInterval } from '../settings';
import { queryWindow, type TimeRange } from '../lib/range';
import { parseRole, type Role } from '../lib/roles';
import { authStore } from './auth';
import { getJSON } from './client';
import { queryInstant, queryRange } from './prom';
import type { EventsResponse, Realtime, SessionDetail, SessionsResponse, StateMachine, WhoAmI } from './types';

export function useWhoAmI(token: string | null) {
  return useQuery({
    queryKey: ['whoami', token],
    queryFn: ({ signal }) => getJSON<WhoAmI>('/api/auth/whoami', undefined, signal),
    staleTime: 60_000,
    refetchInterval: useRefetchInterval(60_000),
  });
}

export function useSessions() {
  return useQuery({
    queryKey: ['sessions'],
    queryFn: ({ signal }) => getJSON<SessionsResponse>('/api/monitoring/sessions', { limit: 100 }, signal),
    refetchInterval: useRefetchInterval(5000),
  });
}

/** A session that has ended no longer changes: its views are fetched once, not polled. */
export function useSessionDetail(id: string | null) {
  const interval = useRefetchInterval();
  return useQuery({
    queryKey: ['session', id],
    queryFn: ({ signal }) =>
      getJSON<SessionDetail>(`/api/monitoring/sessions/${encodeURIComponent(id!)}`, undefined, signal),
    enabled: !!id,
    refetchInterval: (q) => (q.state.data?.session.active === false ? false : interval),
    placeholderData: (prev, prevQuery) => (prevQuery?.queryKey[1] === id ? prev : undefined),
  });
}

export function useRealtime() {
  return useQuery({
    queryKey: ['realtime'],
    queryFn: ({ signal }) => getJSON<Realtime>('/api/monitoring/realtime', undefined, signal),
    refetchInterval: useRefetchInterval(),
  });
}

export function useStateMachine(session: string | null, ended = false) {
  const interval = useRefetchInterval();
  return useQuery({
    queryKey: ['state-machine', session],
    queryFn: ({ signal }) =>
      getJSON<StateMachine>('/api/monitoring/state-machine', { session: session ?? undefined }, signal),
    refetchInterval: ended ? false : interval,
  });
}

export interface EventFilters {
  session: string | null;
  types: string[];
  severity: string;
  symbol: string;
}

export function eventParams(f: EventFilters): Record<string, string | undefined> {
  return {
    session: f.session ?? undefined,
    type: f.types.length ? f.types.join(',') : undefined,
    severity: f.severity || undefined,
    symbol: f.symbol || undefined,
  };
}

export const EVENTS_PAGE = 100;

/** Pages of events, newest first; "load older" fetches the next page. New events come from
 *  the stream, so this polls only when `poll` says the stream is unavailable. `epoch` changes
 *  when the live events were trimmed: the pages start again from the newest then. */
export function useEventPages(f: EventFilters, epoch: number, poll: boolean) {
  const interval = useRefetchInterval();
  return useInfiniteQuery({
    queryKey: ['events', f, epoch],
    queryFn: ({ pageParam, signal }) =>
      getJSON<EventsResponse>(
        '/api/monitoring/events',
        { ...eventParams(f), limit: EVENTS_PAGE, before: pageParam ?? undefined },
        signal,
      ),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.next ?? undefined,
    refetchInterval: poll ? interval : false,
  });
}

export function useChain(correlationId: string | null, session: string | null) {
  return useQuery({
    queryKey: ['chain', correlationId, session],
    queryFn: ({ signal }) =>
      getJSON<EventsResponse>(
        '/api/monitoring/events',
        { correlation_id: correlationId!, session: session ?? undefined, limit: 100 },
        signal,
      ),
    enabled: !!correlationId,
    refetchInterval: useRefetchInterval(),
  });
}

const rangeKey = (r: TimeRange) => (r.kind === 'relative' ? `last:${r.ms}` : `abs:${r.startMs}-${r.endMs}`);

/** A range query over `range`, its window computed when it runs (so a relative range slides
 *  with every refresh), at most `maxPoints` points a series. `build` turns the step (ms) into
 *  the query, for queries whose windows follow the step. */
export function useRangeQuery(
  build: string | ((stepMs: number) => string),
  range: TimeRange,
  maxPoints = 500,
  enabled = true,
) {
  const probe = queryWindow(range, Date.now(), maxPoints);
  const query = typeof build === 'string' ? build : build(probe.step * 1000);
  const interval = useRefetchInterval(probe.step * 1000);
  return useQuery({
    queryKey: ['range', query, rangeKey(range), maxPoints],
    queryFn: ({ signal }) => queryRange(query, queryWindow(range, Date.now(), maxPoints), signal),
    enabled: enabled && query.trim() !== '',
    refetchInterval: range.kind === 'relative' ? interval : false,
    placeholderData: keepPreviousData,
  });
}

export function useInstantQuery(query: string, enabled = true, time?: number) {
  return useQuery({
    queryKey: ['instant', query, time ?? null],
    queryFn: ({ signal }) => queryInstant(query, time, signal),
    enabled: enabled && query.trim() !== '',
    refetchInterval: useRefetchInterval(),
  });
}

/** The signed-in user's role (admin when auth is off), null while unknown. */
export function useRole(): Role | null {
  const auth = useSyncExternalStore(authStore.subscribe, authStore.get);
  const who = useWhoAmI(auth.token);
  return parseRole(who.data?.role);
}
