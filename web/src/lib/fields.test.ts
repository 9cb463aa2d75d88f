import {
  applyMappings,
  bucketsToCounts,
  fieldConfigFor,
  formatUnit,
  reduce,
  sortTable,
  thresholdColor,
  timelineBands,
  vectorTable,
} from './fields';
import type { ValueMapping } from './dashboard';

describe('units', () => {
  it('formats percents', () => {
    expect(formatUnit(45.25, 'percent')).toBe('45.3%');
    expect(formatUnit(0.4567, 'percentunit')).toBe('45.7%');
    expect(formatUnit(0.4567, 'percentunit', 0)).toBe('46%');
    expect(formatUnit(12, 'percent', 1)).toBe('12.0%');
  });
  it('formats times in the unit that reads best', () => {
    expect(formatUnit(0.152, 's')).toBe('152 ms');
    expect(formatUnit(1.5e-5, 's')).toBe('15 µs');
    expect(formatUnit(90, 's', 1)).toBe('1.5 min');
    expect(formatUnit(250, 'ms')).toBe('250 ms');
    expect(formatUnit(1, 'm')).toBe('1 min');
  });
  it('formats bytes', () => {
    expect(formatUnit(27 * 1024 * 1024, 'bytes')).toBe('27.0 MiB');
    expect(formatUnit(1536, 'bytes', 2)).toBe('1.50 KiB');
    expect(formatUnit(2500, 'decbytes')).toBe('2.5 kB');
    expect(formatUnit(2048, 'Bps')).toBe('2.0 KiB/s');
  });
  it('formats rates, counts, money and the rest', () => {
    expect(formatUnit(2.5, 'ops')).toBe('2.5 ops/s');
    expect(formatUnit(2.5, 'reqps')).toBe('2.5 req/s');
    expect(formatUnit(12345, 'short')).toBe('12.3k');
    expect(formatUnit(1234.5, 'short', 1)).toBe('1.2 K');
    expect(formatUnit(3, 'short', 0)).toBe('3');
    expect(formatUnit(3, 'none')).toBe('3');
    expect(formatUnit(10012.4, 'currencyUSD')).toBe('$10,012.40');
    expect(formatUnit(-5, 'currencyUSD', 0)).toBe('-$5');
    expect(formatUnit(5, 'suffix: apples')).toBe('5 apples');
    expect(formatUnit(5, 'widgets')).toBe('5 widgets');
    expect(formatUnit(null, 's')).toBe('—');
    expect(formatUnit(NaN, 'percent')).toBe('—');
  });
});

describe('thresholds and mappings', () => {
  const steps = {
    mode: 'absolute',
    steps: [
      { color: 'green', value: null },
      { color: 'orange', value: 80 },
      { color: 'red', value: 90 },
    ],
  };
  it('picks the step a value falls in', () => {
    expect(thresholdColor(50, steps)).toBe('#73bf69');
    expect(thresholdColor(80, steps)).toBe('#ff9830');
    expect(thresholdColor(95, steps)).toBe('#f2495c');
    expect(thresholdColor(null, steps)).toBeNull();
    expect(thresholdColor(5, undefined)).toBeNull();
    const pct = {
      mode: 'percentage',
      steps: [
        { color: 'green', value: null },
        { color: '#123456', value: 50 },
      ],
    };
    // 50 % of 0..200 is 100.
    expect(thresholdColor(99, pct, 0, 200)).toBe('#73bf69');
    expect(thresholdColor(100, pct, 0, 200)).toBe('#123456');
  });
  const mappings: ValueMapping[] = [
    { type: 'value', options: { '0': { text: ' ', color: 'transparent' }, '1': { text: 'idle', color: 'blue' } } },
    { type: 'range', options: { from: 10, to: 20, result: { text: 'teen' } } },
    { type: 'special', options: { match: 'null', result: { text: 'No data', color: 'red' } } },
  ];
  it('maps values, ranges and special values', () => {
    expect(applyMappings(1, mappings)).toEqual({ text: 'idle', color: '#5794f2' });
    expect(applyMappings(0, mappings)).toEqual({ text: ' ', color: 'transparent' });
    expect(applyMappings(15, mappings)).toEqual({ text: 'teen', color: undefined });
    expect(applyMappings(null, mappings)).toEqual({ text: 'No data', color: '#f2495c' });
    expect(applyMappings(2, mappings)).toBeNull();
    expect(applyMappings(2, undefined)).toBeNull();
  });
  it('applies overrides by name, regex and query', () => {
    const defaults = { unit: 'bytes' };
    const overrides = [
      {
        matcher: { id: 'byRegexp', options: 'engine cycles/s|orders .*' },
        properties: [
          { id: 'unit', value: 'ops' },
          { id: 'custom.axisPlacement', value: 'right' },
        ],
      },
      { matcher: { id: 'byName', options: 'resident' }, properties: [{ id: 'decimals', value: 1 }] },
      { matcher: { id: 'byFrameRefID', options: 'C' }, properties: [{ id: 'min', value: 0 }] },
    ];
    expect(fieldConfigFor(defaults, overrides, 'orders filled/s', 'C')).toEqual({
      unit: 'ops',
      custom: { axisPlacement: 'right' },
      min: 0,
    });
    expect(fieldConfigFor(defaults, overrides, 'resident', 'A')).toEqual({ unit: 'bytes', decimals: 1 });
    expect(fieldConfigFor(defaults, overrides, 'xorders a', 'A')).toEqual({ unit: 'bytes' });
  });
});

describe('reductions', () => {
  const v = [null, 1, 3, null, 2, null];
  it('reduces as Grafana does, nulls ignored', () => {
    const want: Record<string, number | null> = {
      lastNotNull: 2,
      last: null,
      first: null,
      firstNotNull: 1,
      mean: 2,
      max: 3,
      min: 1,
      sum: 6,
      count: 3,
      range: 2,
      diff: 1,
      changeCount: 2,
      distinctCount: 3,
      median: 2,
      nosuch: null,
    };
    for (const [calc, x] of Object.entries(want)) expect([calc, reduce(v, calc)]).toEqual([calc, x]);
  });
  it('counts a drop as a counter reset in delta', () => {
    // 5 → 7 (+2), reset to 2 (+2), → 4 (+2).
    expect(reduce([5, 7, 2, 4], 'delta')).toBe(6);
  });
  it('has nothing to reduce in an empty series', () => {
    expect(reduce([], 'lastNotNull')).toBeNull();
    expect(reduce([null], 'mean')).toBeNull();
    expect(reduce([], 'count')).toBe(0);
  });
});

describe('heatmap buckets', () => {
  it('turns cumulative buckets into counts per bucket, sorted by bound', () => {
    const c = bucketsToCounts([
      { le: '+Inf', values: [10, 12] },
      { le: '0.1', values: [3, 4] },
      { le: '0.5', values: [7, null] },
      { le: 'junk', values: [1, 1] },
    ]);
    expect(c.le).toEqual(['0.1', '0.5', '+Inf']);
    expect(c.values).toEqual([
      [3, 4],
      [7 - 3, null],
      [10 - 7, 12],
    ]);
  });
});

describe('tables', () => {
  const t = vectorTable([
    { metric: { to: 'b', from: 'a' }, value: [100, '3'] },
    { metric: { from: 'c', to: 'd', __name__: 'x' }, value: [100, 'NaN'] },
    { metric: { from: 'e', to: 'f' }, value: [100, '7'] },
  ]);
  it('has a column per label, then Value', () => {
    expect(t.columns).toEqual(['__name__', 'from', 'to', 'Value']);
    expect(t.rows.map((r) => [...r.cells, r.value])).toEqual([
      ['', 'a', 'b', 3],
      ['x', 'c', 'd', null],
      ['', 'e', 'f', 7],
    ]);
  });
  it('sorts by a column that exists', () => {
    expect(sortTable(t, [{ displayName: 'Value', desc: true }]).rows.map((r) => r.value)).toEqual([7, 3, null]);
    expect(sortTable(t, [{ displayName: 'from', desc: true }]).rows.map((r) => r.cells[1])).toEqual(['e', 'c', 'a']);
    expect(sortTable(t, [{ displayName: 'count', desc: true }])).toBe(t);
  });
});

describe('state timeline bands', () => {
  const cfg = {
    mappings: [
      { type: 'value', options: { '0': { text: ' ', color: 'transparent' }, '1': { text: 'idle', color: 'blue' } } },
    ],
  };
  const x = [0, 10, 20, 30, 40];
  it('merges equal mapped values into one band, each a step past its last point', () => {
    expect(timelineBands(x, 10, [{ name: 'idle', values: [1, 1, 0, 1, null], cfg }])).toEqual([
      { state: 'idle', start: 0, end: 20, color: '#5794f2' },
      { state: 'idle', start: 20, end: 30, color: 'transparent' },
      { state: 'idle', start: 30, end: 40, color: '#5794f2' },
    ]);
  });
  it('keeps one band a point without merging, and breaks at gaps', () => {
    expect(
      timelineBands(x, 10, [{ name: 's', values: [1, 1, null, 1, 1], cfg }], false).map((b) => [b.start, b.end]),
    ).toEqual([
      [0, 10],
      [10, 20],
      [30, 40],
      [40, 50],
    ]);
    expect(timelineBands(x, 10, [{ name: 's', values: [1, 1, null, 1, 1], cfg }]).map((b) => [b.start, b.end])).toEqual(
      [
        [0, 20],
        [30, 50],
      ],
    );
  });
});
