// Alerting: the shapes of the alert management API (/api/alerts, /api/silences,
// /api/alerts/history, /api/alerts/receivers, /api/rules/reload) and Prometheus' /api/v1/rules,
// and the TanStack Query hooks that read and change them. Reads poll at the auto-refresh
// interval (not at all when it is off); every change refreshes what it touched.
import { useInfiniteQuery, useMutation, useQuery, useQueryClient, type Query } from '@tanstack/react-query';
import { useRefetchInterval } from '../settings';
import { ApiError, deleteJSON, getJSON, postJSON } from './client';
import type { Labels } from './types';

export type AlertState = 'firing' | 'pending' | 'resolved';

export interface Ack {
  by: string;
  at_ms: number;
  comment?: string;
}

export interface Alert {
  fingerprint: string;
  labels: Labels;
  annotations: Record<string, string>;
  state: AlertState | string;
  value: number | null;
  active_ms: number;
  fired_ms: number | null;
  resolved_ms: number | null;
  receiver: string | null;
  silenced_by: string | null;
  ack: Ack | null;
  generator_url?: string;
}

export interface AlertCounts {
  firing: number;
  pending: number;
  resolved: number;
  acknowledged: number;
  silenced: number;
}

export interface AlertsResponse {
  alerts: Alert[];
  counts?: Partial<AlertCounts>;
}

/** A silence matcher, in Alertmanager's shape. */
export interface Matcher {
  name: string;
  value: string;
  isRegex: boolean;
  isEqual: boolean;
}

export interface Silence {
  id: string;
  matchers: Matcher[];
  starts_ms: number;
  ends_ms: number;
  created_by: string;
  comment: string;
  state: 'pending' | 'active' | 'expired' | string;
}

export interface SilencesResponse {
  silences: Silence[];
}

export interface SilenceRequest {
  matchers: Matcher[];
  duration: string;
  comment: string;
}

export type HistoryKind = 'transition' | 'notification' | 'ack' | 'unack' | 'silence';

export interface HistoryEntry {
  id: number;
  at_ms: number;
  kind: HistoryKind | string;
  fingerprint: string | null;
  alertname: string | null;
  labels: Labels | null;
  from: string | null;
  to: string | null;
  receiver: string | null;
  outcome: string | null;
  who: string | null;
}

export interface HistoryResponse {
  history: HistoryEntry[];
  next_before: number | null;
}

export interface Receiver {
  name: string;
  integrations: string[];
  last_attempt_ms: number | null;
  last_success_ms: number | null;
  last_error: string;
}

export interface ReceiversResponse {
  receivers: Receiver[];
}

export interface RuleAlert {
  labels: Labels;
  annotations: Record<string, string>;
  state: string;
  activeAt: string;
  value: string;
}

export interface Rule {
  type: 'alerting' | 'recording';
  name: string;
  query: string;
  duration?: number;
  keepFiringFor?: number;
  labels?: Labels;
  annotations?: Record<string, string>;
  state?: 'inactive' | 'pending' | 'firing' | string;
  health: 'ok' | 'err' | 'unknown' | string;
  lastError?: string;
  evaluationTime?: number;
  lastEvaluation?: string;
  alerts?: RuleAlert[];
}

export interface RuleGroup {
  name: string;
  file: string;
  interval: number;
  limit?: number;
  evaluationTime?: number;
  lastEvaluation?: string;
  rules: Rule[];
}

interface RulesResponse {
  status: 'success' | 'error';
  data?: { groups: RuleGroup[] };
  error?: string;
  errorType?: string;
}

export interface ReloadAnswer {
  status: string;
  groups: number;
  rules: number;
}

const ALERTS = '/api/alerts';
const ackPath = (fingerprint: string) => `${ALERTS}/${encodeURIComponent(fingerprint)}/ack`;

/** A query that failed because this breakwatch has no such endpoint (404) or alerting is not
 *  configured (503) is not polled again: it would fail the same way every second. */
const pollUnlessMissing = (interval: number | false) => (q: Query<any, Error, any, any>) => {
  const e = q.state.error;
  return e instanceof ApiError && (e.status === 404 || e.status === 503) && q.state.data === undefined
    ? false
    : interval;
};

/** Pending and firing alerts: what the notifications and the navigation badge watch. */
export function useActiveAlerts() {
  const interval = useRefetchInterval();
  return useQuery({
    queryKey: ['alerts', 'active'],
    queryFn: ({ signal }) => getJSON<AlertsResponse>(ALERTS, { state: 'firing,pending' }, signal),
    refetchInterval: pollUnlessMissing(interval),
  });
}

/** Every alert the server keeps (pending, firing, recently resolved); the page filters them. */
export function useAllAlerts() {
  const interval = useRefetchInterval();
  return useQuery({
    queryKey: ['alerts', 'all'],
    queryFn: ({ signal }) => getJSON<AlertsResponse>(ALERTS, { state: 'firing,pending,resolved' }, signal),
    refetchInterval: pollUnlessMissing(interval),
  });
}

export function useSilences() {
  const interval = useRefetchInterval();
  return useQuery({
    queryKey: ['silences'],
    queryFn: ({ signal }) => getJSON<SilencesResponse>('/api/silences', undefined, signal),
    refetchInterval: pollUnlessMissing(interval),
  });
}

export const HISTORY_PAGE = 50;

/** The alert history, newest first; "load older" fetches the next page. */
export function useAlertHistory() {
  const interval = useRefetchInterval(5000);
  return useInfiniteQuery({
    queryKey: ['alert-history'],
    queryFn: ({ pageParam, signal }) =>
      getJSON<HistoryResponse>(`${ALERTS}/history`, { limit: HISTORY_PAGE, before: pageParam ?? undefined }, signal),
    initialPageParam: null as number | null,
    getNextPageParam: (last) => last.next_before ?? undefined,
    refetchInterval: interval,
  });
}

export function useReceivers() {
  const interval = useRefetchInterval(2000);
  return useQuery({
    queryKey: ['receivers'],
    queryFn: ({ signal }) => getJSON<ReceiversResponse>(`${ALERTS}/receivers`, undefined, signal),
    refetchInterval: pollUnlessMissing(interval),
  });
}

export function useRules() {
  const interval = useRefetchInterval();
  return useQuery({
    queryKey: ['rules'],
    queryFn: async ({ signal }) => {
      const r = await getJSON<RulesResponse>('/api/v1/rules', undefined, signal);
      if (r.status !== 'success' || !r.data) throw new ApiError(200, r.error ?? 'the rules could not be read');
      return r.data.groups;
    },
    refetchInterval: pollUnlessMissing(interval),
  });
}

// The changes an editor makes. Each refreshes the views it changed once the server answers.

function useRefresh() {
  const qc = useQueryClient();
  return (...keys: string[]) => Promise.all(keys.map((k) => qc.invalidateQueries({ queryKey: [k] })));
}

/** Acknowledges alerts (a toast's group, or one alert), with an optional comment. */
export function useAckAlerts() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: ({ fingerprints, comment }: { fingerprints: string[]; comment?: string }) =>
      Promise.all(
        fingerprints.map((f) => postJSON<{ fingerprint: string; ack: Ack }>(ackPath(f), comment ? { comment } : {})),
      ),
    onSuccess: () => refresh('alerts', 'alert-history'),
  });
}

export function useUnackAlert() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (fingerprint: string) => deleteJSON<{ fingerprint: string; ack: null }>(ackPath(fingerprint)),
    onSuccess: () => refresh('alerts', 'alert-history'),
  });
}

export function useCreateSilence() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (req: SilenceRequest) => postJSON<{ id: string }>('/api/silences', req),
    onSuccess: () => refresh('silences', 'alerts', 'alert-history'),
  });
}

export function useExpireSilence() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (id: string) => deleteJSON<{ id: string; state: string }>(`/api/silences/${encodeURIComponent(id)}`),
    onSuccess: () => refresh('silences', 'alerts', 'alert-history'),
  });
}

export function useTestReceiver() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: (name: string) =>
      postJSON<{ receiver: string; status: string }>(`${ALERTS}/receivers/${encodeURIComponent(name)}/test`, {}),
    onSuccess: () => refresh('receivers', 'alert-history'),
  });
}

/** Reloads the rule files; a 400 carries the error (file:line:col) and the old rules keep
 *  running. */
export function useReloadRules() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: () => postJSON<ReloadAnswer>('/api/rules/reload', {}),
    onSuccess: () => refresh('rules', 'alerts'),
  });
}
