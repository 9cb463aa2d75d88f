// The dashboard files (GET /api/dashboards, /api/dashboards/{uid}) and what template
// variables ask the Prometheus-compatible API (label values, series, metric names).
import { useQuery } from '@tanstack/react-query';
import { ApiError, getJSON } from './client';
import { queryInstant } from './prom';
import type { DashboardJSON } from '../lib/dashboard';
import type { VarQuery } from '../lib/variables';
import { seriesName } from '../lib/series';

export interface DashboardFile {
  uid?: string;
  title?: string;
  file: string;
  tags?: string[];
  /** For a file that is not valid JSON: "x.json:3:5: …". */
  error?: string;
}

interface Envelope<T> {
  status: string;
  data?: T;
  error?: string;
  warnings?: unknown;
}

export interface DashboardList {
  files: DashboardFile[];
  /** What the server could not do while listing: no directory set, one it cannot read. */
  warnings: string[];
}

function unwrap<T>(r: Envelope<T>): T {
  if (r.status !== 'success' || r.data === undefined) throw new ApiError(200, r.error ?? 'the request failed');
  return r.data;
}

export async function listDashboards(signal?: AbortSignal): Promise<DashboardList> {
  const r = await getJSON<Envelope<DashboardFile[]>>('/api/dashboards', undefined, signal);
  const d = unwrap(r);
  return {
    files: Array.isArray(d) ? d.filter((f) => f && typeof f.file === 'string') : [],
    warnings: Array.isArray(r.warnings) ? r.warnings.filter((w): w is string => typeof w === 'string') : [],
  };
}

export async function getDashboard(uid: string, signal?: AbortSignal): Promise<DashboardJSON> {
  const d = unwrap(
    await getJSON<Envelope<DashboardJSON>>(`/api/dashboards/${encodeURIComponent(uid)}`, undefined, signal),
  );
  if (!d || typeof d !== 'object' || Array.isArray(d)) throw new ApiError(200, 'the dashboard is not a JSON object');
  return d;
}

/** The files are read on every request: fetched afresh on every visit, never cached. */
export function useDashboardList() {
  return useQuery({
    queryKey: ['dashboards'],
    queryFn: ({ signal }) => listDashboards(signal),
    staleTime: 0,
    gcTime: 0,
  });
}

export function useDashboard(uid: string) {
  return useQuery({
    queryKey: ['dashboard', uid],
    queryFn: ({ signal }) => getDashboard(uid, signal),
    staleTime: Infinity,
    gcTime: 0,
    retry: false,
  });
}

/** A query variable's values over [start, end] (seconds): label_values(metric, label) and
 *  label_values(label) through /api/v1/label/NAME/values (with match[]=metric),
 *  label_names() through /api/v1/labels, metrics(re) from __name__'s values,
 *  query_result(expr) as each result series' name and value. */
export async function variableValues(
  q: VarQuery,
  window: { start: number; end: number },
  signal?: AbortSignal,
): Promise<string[]> {
  const time = { start: Math.floor(window.start), end: Math.ceil(window.end) };
  const strings = async (path: string, params: Record<string, string | number>) => {
    const r = unwrap(await getJSON<Envelope<unknown>>(path, params, signal));
    return Array.isArray(r) ? r.filter((x): x is string => typeof x === 'string') : [];
  };
  switch (q.kind) {
    case 'label_values':
      return strings(
        `/api/v1/label/${encodeURIComponent(q.label)}/values`,
        q.metric ? { 'match[]': q.metric, ...time } : time,
      );
    case 'label_names':
      return strings('/api/v1/labels', q.metric ? { 'match[]': q.metric, ...time } : time);
    case 'metrics': {
      const names = await strings('/api/v1/label/__name__/values', time);
      let re: RegExp | null = null;
      try {
        re = q.regex ? new RegExp(q.regex) : null;
      } catch {
        re = null;
      }
      return re ? names.filter((n) => re.test(n)) : names;
    }
    case 'query_result': {
      const d = await queryInstant(q.expr, time.end, signal);
      if (d.resultType === 'vector')
        return d.result.map((s) => `${seriesName(s.metric)} ${s.value[1]} ${s.value[0] * 1000}`);
      if (d.resultType === 'matrix') return d.result.map((s) => seriesName(s.metric));
      return [`${d.resultType} ${d.result[1]} ${Number(d.result[0]) * 1000}`];
    }
  }
}
