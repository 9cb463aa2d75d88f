import { describe, expect, it } from 'vitest';
import { alignMatrix, linearFit, maxValue, sampleValue, seriesName, stateBands } from './series';

describe('sampleValue and seriesName', () => {
  it('parses Prometheus values', () => {
    expect(sampleValue('1.5')).toBe(1.5);
    expect(sampleValue('NaN')).toBeNull();
    expect(sampleValue('+Inf')).toBeNull();
  });
  it('names series', () => {
    expect(seriesName({ __name__: 'up', job: 'bw', instance: 'a' })).toBe('up{instance="a", job="bw"}');
    expect(seriesName({ symbol: 'BTCUSDT' })).toBe('{symbol="BTCUSDT"}');
    expect(seriesName({})).toBe('{}');
    expect(seriesName({ symbol: 'ETHUSDT', side: 'long' }, ['symbol'])).toBe('ETHUSDT');
  });
});

describe('alignMatrix', () => {
  it('puts series on the grid with gaps as null', () => {
    const a = alignMatrix(
      [
        {
          metric: { q: 'a' },
          values: [
            [100, '1'],
            [110, '3'],
          ],
        },
        {
          metric: { q: 'b' },
          values: [
            [105, '2'],
            [107, '9'],
          ],
        },
      ],
      100,
      110,
      5,
    );
    expect(a.x).toEqual([100, 105, 110]);
    expect(a.ys).toEqual([
      [1, null, 3],
      [null, 2, null],
    ]);
    expect(a.metrics).toEqual([{ q: 'a' }, { q: 'b' }]);
  });
});

describe('linearFit', () => {
  it('fits a line through points, skipping gaps', () => {
    const f = linearFit([0, 1, 2, 3], [1, 3, null, 7]);
    expect(f!.slope).toBeCloseTo(2, 10);
    expect(f!.intercept).toBeCloseTo(1, 10);
  });
  it('keeps its precision with Unix timestamps', () => {
    const t0 = 1_796_580_000;
    const xs = Array.from({ length: 360 }, (_, i) => t0 + i * 10);
    const f = linearFit(
      xs,
      xs.map((x) => 12 + (x - t0) * 0.0005),
    );
    expect(f!.slope).toBeCloseTo(0.0005, 12);
    expect(f!.intercept + f!.slope * t0).toBeCloseTo(12, 6);
  });
  it('answers null when there is no line', () => {
    expect(linearFit([1], [1])).toBeNull();
    expect(linearFit([2, 2], [1, 5])).toBeNull();
    expect(linearFit([1, 2], [null, null])).toBeNull();
  });
});

describe('stateBands', () => {
  it('turns 0/1 series into bands', () => {
    const x = [0, 10, 20, 30, 40];
    const bands = stateBands(
      x,
      [
        [1, 1, 0, 0, 1],
        [0, 0, 1, 1, 0],
        [0, 0, 0, 0, null],
      ],
      ['idle', 'scanning', 'halted'],
      10,
    );
    expect(bands).toEqual([
      { state: 'idle', start: 0, end: 20 },
      { state: 'scanning', start: 20, end: 40 },
      { state: 'idle', start: 40, end: 50 },
    ]);
  });
  it('finds the largest value', () => {
    expect(maxValue([[1, null, 4], [2]])).toBe(4);
    expect(maxValue([])).toBe(0);
  });
});
