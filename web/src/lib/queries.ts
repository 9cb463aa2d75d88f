// The PromQL behind the dashboards (the spec's "Key Dashboard Visualizations" and "Critical
// Prometheus Queries"), as functions of the chart's step so windows match the points.
import { promDuration, rateWindow } from './range';

export const QUANTILES = [0.5, 0.9, 0.95, 0.99] as const;

export const LATENCY_METRICS = [
  { metric: 'engine_cycle_time', title: 'Engine cycle time' },
  { metric: 'market_scan_duration', title: 'Market scan' },
  { metric: 'trade_execution_duration', title: 'Order execution' },
  { metric: 'websocket_message_processing', title: 'WebSocket message processing' },
] as const;

export function quantileQuery(metric: string, q: number, window: string): string {
  return `histogram_quantile(${q}, sum by (le) (rate(${metric}_bucket[${window}])))`;
}

/** P50, P90, P95 and P99 of a histogram in one query: each quantile tagged by label_replace
 *  (quantile="0.5" …) and joined with `or`. */
export function latencyQuery(metric: string, stepMs: number): string {
  const w = rateWindow(stepMs);
  return QUANTILES.map((q) => `label_replace(${quantileQuery(metric, q, w)}, "quantile", "${q}", "", "")`).join(' or ');
}

/** Signals per cell of the heatmap: one series per value of `by` (symbol or regime). */
export function signalHeatmapQuery(by: 'symbol' | 'regime', stepMs: number): string {
  return `sum by (${by}) (increase(signals_generated_total[${promDuration(stepMs)}]))`;
}

export const STATE_QUERY = 'engine_state';

export function transitionsQuery(rangeMs: number, metric = 'engine_state_transitions_total'): string {
  return `sum by (from, to) (increase(${metric}[${promDuration(rangeMs)}]))`;
}

export const MEMORY_MIB_QUERY = 'sum(process_resident_memory_bytes) / 1048576';
export const MEMORY_PERCENT_QUERY = 'sum(process_memory_percent)';

export function activityQuery(metric: 'engine_cycles_total' | 'orders_total', stepMs: number): string {
  return `sum(rate(${metric}[${rateWindow(stepMs)}]))`;
}

/** The spec's critical queries, offered as examples in Explore. */
export const EXAMPLE_QUERIES = [
  'rate(signals_generated_total[5m])',
  'increase(daily_loss_limit_triggered_total[1h])',
  'histogram_quantile(0.95, sum(rate(engine_cycle_time_bucket[5m])) by (le))',
  'process_cpu_usage',
  'process_memory_percent',
  'rate(trade_execution_duration_sum[5m]) / rate(trade_execution_duration_count[5m])',
];
