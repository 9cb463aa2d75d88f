import {
  ALL,
  autoInterval,
  customOptions,
  interpolate,
  parseVarQuery,
  parseVariables,
  resolveSelection,
  toOptions,
  toggleValue,
  urlVariables,
  varValue,
  withUrlVariable,
  type VarValue,
} from './variables';
import type { VariableJSON } from './dashboard';

const list: VariableJSON[] = [
  { name: 'datasource', type: 'datasource', query: 'prometheus', current: {} },
  {
    name: 'symbol',
    type: 'query',
    query: { query: 'label_values(signals_generated_total, symbol)' },
    refresh: 2,
    multi: true,
    includeAll: true,
    current: { text: ['All'], value: ['$__all'] },
  },
  { name: 'side', type: 'custom', query: 'buy,sell', current: { value: 'sell' } },
  { name: 'env', type: 'constant', query: 'prod' },
  { name: 'win', type: 'interval', query: '1m,5m', auto: true, auto_count: 30, auto_min: '10s' },
  { type: 'custom', query: 'nameless' },
];

const vars = parseVariables(list);
const byName = (n: string) => vars.find((v) => v.name === n)!;

describe('reading variables', () => {
  it('reads each type', () => {
    expect(vars.map((v) => v.name)).toEqual(['datasource', 'symbol', 'side', 'env', 'win']);
    expect(byName('datasource').options).toEqual([{ text: 'breakwatch', value: 'breakwatch' }]);
    const s = byName('symbol');
    expect([s.type, s.query, s.multi, s.includeAll, s.refresh, s.options, s.current]).toEqual([
      'query',
      'label_values(signals_generated_total, symbol)',
      true,
      true,
      2,
      null,
      ['$__all'],
    ]);
    expect(byName('side').current).toEqual(['sell']);
    expect([byName('env').hide, byName('env').options]).toEqual([2, [{ text: 'prod', value: 'prod' }]]);
    expect(byName('win').options!.map((o) => o.text)).toEqual(['auto', '1m', '5m']);
  });

  it('reads custom values', () => {
    expect(customOptions('a, b\\,c ,x : y')).toEqual([
      { text: 'a', value: 'a' },
      { text: 'b,c', value: 'b,c' },
      { text: 'x', value: 'y' },
    ]);
  });

  it('reads query variable queries', () => {
    expect(parseVarQuery('label_values(signals_generated_total{x="1"}, symbol)')).toEqual({
      kind: 'label_values',
      metric: 'signals_generated_total{x="1"}',
      label: 'symbol',
    });
    expect(parseVarQuery('label_values(symbol)')).toEqual({ kind: 'label_values', metric: null, label: 'symbol' });
    expect(parseVarQuery('query_result(up == 1)')).toEqual({ kind: 'query_result', expr: 'up == 1' });
    expect(parseVarQuery('metrics(engine_.*)')).toEqual({ kind: 'metrics', regex: 'engine_.*' });
    expect(parseVarQuery('select 1')).toBeNull();
  });

  it('filters, deduplicates and sorts options', () => {
    const raw = ['b', 'a', 'a', 'c10', 'c9'];
    expect(toOptions(raw).map((o) => o.value)).toEqual(['b', 'a', 'c10', 'c9']);
    expect(toOptions(raw, '', 1).map((o) => o.value)).toEqual(['a', 'b', 'c10', 'c9']);
    expect(toOptions(raw, '', 2).map((o) => o.value)).toEqual(['c9', 'c10', 'b', 'a']);
    expect(toOptions(raw, '/^c(\\d+)$/', 3).map((o) => o.value)).toEqual(['9', '10']);
    expect(toOptions(['x=1', 'y=2'], '/(?<text>\\w)=(?<value>\\d)/')).toEqual([
      { text: 'x', value: '1' },
      { text: 'y', value: '2' },
    ]);
  });
});

describe('selection', () => {
  const s = byName('symbol');
  const opts = toOptions(['AAA', 'BBB', 'CCC']);
  it('keeps what was asked when it exists, else All or the first option', () => {
    expect(resolveSelection(s, opts, [ALL])).toEqual([ALL]);
    expect(resolveSelection(s, opts, ['BBB', 'CCC'])).toEqual(['BBB', 'CCC']);
    expect(resolveSelection(s, opts, ['ZZZ'])).toEqual([ALL]);
    expect(resolveSelection(byName('side'), customOptions('buy,sell'), ['nope'])).toEqual(['buy']);
    expect(resolveSelection(byName('side'), customOptions('buy,sell'), ['sell', 'buy'])).toEqual(['sell']);
  });
  it('toggles values of a multi-value variable', () => {
    expect(toggleValue(s, [ALL], 'AAA', opts)).toEqual(['AAA']);
    expect(toggleValue(s, ['AAA'], 'BBB', opts)).toEqual(['AAA', 'BBB']);
    expect(toggleValue(s, ['AAA', 'BBB'], 'AAA', opts)).toEqual(['BBB']);
    expect(toggleValue(s, ['AAA'], 'AAA', opts)).toEqual([ALL]);
    expect(toggleValue(s, ['AAA'], ALL, opts)).toEqual([ALL]);
    expect(toggleValue(byName('side'), ['buy'], 'sell', [])).toEqual(['sell']);
  });
  it('resolves an auto interval from the range', () => {
    // 1 h / 30 = 120 s → 2m; 5 min / 30 = 10 s; 1 min / 30 = 2 s, below the 10 s minimum.
    expect(autoInterval(3600e3, 30, '10s')).toBe('2m');
    expect(autoInterval(300e3, 30, '10s')).toBe('10s');
    expect(autoInterval(60e3, 30, '10s')).toBe('10s');
    const w = byName('win');
    expect(varValue(w, ['$__auto_interval_win'], w.options!, 3600e3).values).toEqual(['2m']);
  });
});

describe('interpolation', () => {
  const sym = byName('symbol');
  const opts = toOptions(['BTC.USD', 'ETH']);
  const all = varValue(sym, [ALL], opts, 3600e3);
  const two = varValue(sym, ['BTC.USD', 'ETH'], opts, 3600e3);
  const one = varValue(sym, ['BTC.USD'], opts, 3600e3);
  const side = varValue(byName('side'), ["it's"], [], 3600e3);
  const v = (x: VarValue) => ({ symbol: x, side });

  it('formats All and multi values as a Prometheus regex alternation', () => {
    // In a PromQL string a regex backslash is written twice.
    expect(interpolate('x{symbol=~"$symbol"}', v(all))).toBe(String.raw`x{symbol=~"(BTC\\.USD|ETH)"}`);
    expect(interpolate('${symbol}', v(two))).toBe(String.raw`(BTC\\.USD|ETH)`);
    expect(interpolate('[[symbol]]', v(one))).toBe(String.raw`BTC\\.USD`);
    expect(interpolate('$side', v(one))).toBe(String.raw`it\\'s`);
  });

  it('uses an allValue as is', () => {
    const withAll = { ...all, allValue: '.*' };
    expect(interpolate('$symbol', { symbol: withAll })).toBe('.*');
    expect(interpolate('${symbol:text}', { symbol: withAll })).toBe('All');
  });

  it('applies every format', () => {
    const cases: [string, string][] = [
      ['${symbol:regex}', String.raw`(BTC\.USD|ETH)`],
      ['${symbol:pipe}', 'BTC.USD|ETH'],
      ['${symbol:csv}', 'BTC.USD,ETH'],
      ['${symbol:raw}', 'BTC.USD,ETH'],
      ['${symbol:json}', '["BTC.USD","ETH"]'],
      ['${symbol:glob}', '{BTC.USD,ETH}'],
      ['${symbol:singlequote}', "'BTC.USD','ETH'"],
      ['${symbol:doublequote}', '"BTC.USD","ETH"'],
      ['${symbol:sqlstring}', "'BTC.USD','ETH'"],
      ['${symbol:text}', 'BTC.USD + ETH'],
      ['${symbol:queryparam}', 'var-symbol=BTC.USD&var-symbol=ETH'],
      ['[[symbol:pipe]]', 'BTC.USD|ETH'],
    ];
    for (const [tpl, want] of cases) expect([tpl, interpolate(tpl, v(two))]).toEqual([tpl, want]);
    expect(interpolate('${symbol:regex}', v(one))).toBe(String.raw`BTC\.USD`);
    expect(interpolate('${symbol:pipe}', v(all))).toBe('BTC.USD|ETH');
  });

  it('replaces built-ins and leaves unknown variables', () => {
    const b = { __rate_interval: '4s', __interval: '2s', __range: '3600s' };
    expect(interpolate('rate(x[$__rate_interval]) ${__interval} $__range $nosuch $symbolx', v(one), b)).toBe(
      'rate(x[4s]) 2s 3600s $nosuch $symbolx',
    );
  });
});

describe('the URL', () => {
  it('reads and writes var-NAME as Grafana does', () => {
    expect(urlVariables('?var-symbol=A&var-symbol=B&from=now-1h&var-side=buy')).toEqual({
      symbol: ['A', 'B'],
      side: ['buy'],
    });
    expect(withUrlVariable('?from=x&var-symbol=A', 'symbol', ['B', 'C'])).toBe('?from=x&var-symbol=B&var-symbol=C');
    expect(withUrlVariable('', 'symbol', [ALL])).toBe('?var-symbol=%24__all');
    expect(urlVariables(withUrlVariable('', 'symbol', [ALL]))).toEqual({ symbol: [ALL] });
  });
});
