import { describe, expect, it } from 'vitest';
import { activityQuery, latencyQuery, quantileQuery, signalHeatmapQuery, transitionsQuery } from './queries';

describe('dashboard queries', () => {
  it('asks for quantiles of a 1m rate, or the step when it is longer', () => {
    expect(quantileQuery('engine_cycle_time', 0.95, '1m')).toBe(
      'histogram_quantile(0.95, sum by (le) (rate(engine_cycle_time_bucket[1m])))',
    );
    const q = latencyQuery('market_scan_duration', 1000);
    expect(q.split(' or ')).toHaveLength(4);
    expect(q).toContain(
      'label_replace(histogram_quantile(0.99, sum by (le) (rate(market_scan_duration_bucket[1m]))), "quantile", "0.99", "", "")',
    );
    expect(latencyQuery('x', 5 * 60e3)).toContain('rate(x_bucket[5m])');
  });
  it('sizes heatmap windows to the step', () => {
    expect(signalHeatmapQuery('symbol', 30e3)).toBe('sum by (symbol) (increase(signals_generated_total[30s]))');
    expect(signalHeatmapQuery('regime', 15 * 60e3)).toBe('sum by (regime) (increase(signals_generated_total[15m]))');
  });
  it('counts transitions over the whole range', () => {
    expect(transitionsQuery(3600e3)).toBe('sum by (from, to) (increase(engine_state_transitions_total[1h]))');
    expect(activityQuery('orders_total', 1000)).toBe('sum(rate(orders_total[1m]))');
  });
});
