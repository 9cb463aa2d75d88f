// The Prometheus-compatible API (/api/v1).
import { ApiError, getJSON } from './client';
import type { MatrixSeries, PromData, PromResponse } from './types';

async function prom(path: string, params: Record<string, string | number>, signal?: AbortSignal): Promise<PromData> {
  const r = await getJSON<PromResponse>(path, params, signal);
  if (r.status !== 'success' || !r.data) throw new ApiError(200, r.error ?? 'the query failed', r.errorType ?? null);
  return r.data;
}

export interface RangeResult {
  series: MatrixSeries[];
  start: number;
  end: number;
  step: number;
}

export async function queryRange(
  query: string,
  w: { start: number; end: number; step: number },
  signal?: AbortSignal,
): Promise<RangeResult> {
  const d = await prom('/api/v1/query_range', { query, start: w.start, end: w.end, step: w.step }, signal);
  if (d.resultType !== 'matrix') throw new ApiError(200, `expected a matrix, got a ${d.resultType}`);
  return { series: d.result, ...w };
}

export function queryInstant(query: string, time?: number, signal?: AbortSignal): Promise<PromData> {
  const params: Record<string, string | number> = { query };
  if (time !== undefined) params.time = time;
  return prom('/api/v1/query', params, signal);
}
