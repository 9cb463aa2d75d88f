import {
  allPanels,
  gridHeightPx,
  intervalToMs,
  layoutPanels,
  legendName,
  parseDashboardTime,
  planQuery,
  roundInterval,
  secondsToHms,
  tagsOf,
  text,
  uidFromPath,
  type PanelJSON,
} from './dashboard';

const pos = (c: { y: number; x: number; w: number; h: number; panel: PanelJSON }) => [
  c.panel.title,
  c.x,
  c.y,
  c.w,
  c.h,
];

describe('the grid', () => {
  it('is 30 px a row with 8 px between rows', () => {
    expect(gridHeightPx(1)).toBe(30);
    expect(gridHeightPx(9)).toBe(9 * 30 + 8 * 8);
  });

  const panels: PanelJSON[] = [
    { id: 2, title: 'B', gridPos: { x: 12, y: 0, w: 12, h: 8 } },
    { id: 1, title: 'A', gridPos: { x: 0, y: 0, w: 12, h: 8 } },
    { id: 3, title: 'R', type: 'row', collapsed: false, gridPos: { x: 0, y: 8, w: 24, h: 1 } },
    { id: 4, title: 'C', gridPos: { x: 0, y: 9, w: 24, h: 5 } },
    {
      id: 5,
      title: 'R2',
      type: 'row',
      collapsed: true,
      gridPos: { x: 0, y: 14, w: 24, h: 1 },
      panels: [
        { id: 6, title: 'D', gridPos: { x: 0, y: 15, w: 8, h: 4 } },
        { id: 7, title: 'E', gridPos: { x: 8, y: 15, w: 8, h: 6 } },
      ],
    },
    { id: 8, title: 'G', gridPos: { x: 0, y: 15, w: 24, h: 3 } },
  ];

  it('places panels by gridPos, top to bottom, hiding a collapsed row’s panels', () => {
    expect(layoutPanels(panels).map(pos)).toEqual([
      ['A', 0, 0, 12, 8],
      ['B', 12, 0, 12, 8],
      ['R', 0, 8, 24, 1],
      ['C', 0, 9, 24, 5],
      ['R2', 0, 14, 24, 1],
      ['G', 0, 15, 24, 3],
    ]);
  });

  it('opens a collapsed row: its panels under it, the rest moved down by their height', () => {
    const r2 = layoutPanels(panels).find((c) => c.panel.title === 'R2')!;
    const cells = layoutPanels(panels, new Set([r2.key]));
    expect(cells.map(pos)).toEqual([
      ['A', 0, 0, 12, 8],
      ['B', 12, 0, 12, 8],
      ['R', 0, 8, 24, 1],
      ['C', 0, 9, 24, 5],
      ['R2', 0, 14, 24, 1],
      ['D', 0, 15, 8, 4],
      ['E', 8, 15, 8, 6],
      ['G', 0, 21, 24, 3],
    ]);
    expect(cells.find((c) => c.panel.title === 'R2')!.collapsed).toBe(false);
  });

  it('closes an open row: its panels hidden, the rest moved up', () => {
    const r = layoutPanels(panels).find((c) => c.panel.title === 'R')!;
    expect(layoutPanels(panels, new Set([r.key])).map(pos)).toEqual([
      ['A', 0, 0, 12, 8],
      ['B', 12, 0, 12, 8],
      ['R', 0, 8, 24, 1],
      ['R2', 0, 9, 24, 1],
      ['G', 0, 10, 24, 3],
    ]);
  });

  it('places a panel without gridPos below the others, and keeps one inside 24 columns', () => {
    const cells = layoutPanels([
      { title: 'A', gridPos: { x: 0, y: 0, w: 24, h: 4 } },
      { title: 'no pos' },
      { title: 'wide', gridPos: { x: 20, y: 12, w: 10, h: 2 } },
    ]);
    expect(cells.map(pos)).toEqual([
      ['A', 0, 0, 24, 4],
      ['no pos', 0, 4, 12, 8],
      ['wide', 14, 12, 10, 2],
    ]);
  });

  it('lists the panels of rows too', () => {
    expect(allPanels(panels).map((p) => p.title)).toEqual(['B', 'A', 'C', 'D', 'E', 'G']);
  });
});

describe('time and intervals', () => {
  it('reads intervals', () => {
    expect(intervalToMs('15s')).toBe(15000);
    expect(intervalToMs('1m')).toBe(60000);
    expect(intervalToMs('100ms')).toBe(100);
    expect(intervalToMs('2h')).toBe(7200000);
    expect(intervalToMs('1d')).toBe(86400000);
    expect(intervalToMs('soon')).toBeNull();
    expect(intervalToMs(undefined)).toBeNull();
  });

  it('reads the dashboard time', () => {
    expect(parseDashboardTime('now-1h', 'now')).toEqual({ kind: 'relative', ms: 3600000 });
    expect(parseDashboardTime('now-6h', 'now-1h', 1e12)).toEqual({
      kind: 'absolute',
      startMs: 1e12 - 6 * 3600000,
      endMs: 1e12 - 3600000,
    });
    expect(parseDashboardTime('1700000000000', '1700003600000')).toEqual({
      kind: 'absolute',
      startMs: 1700000000000,
      endMs: 1700003600000,
    });
    expect(parseDashboardTime('yesterday', 'now')).toBeNull();
  });

  it('rounds intervals as Grafana does', () => {
    expect(roundInterval(3000)).toBe(2000);
    expect(roundInterval(7200)).toBe(5000);
    expect(roundInterval(86400)).toBe(60000);
    expect(roundInterval(864000)).toBe(900000);
    expect(roundInterval(5e10)).toBe(31536000000);
  });

  it('writes intervals as Grafana does', () => {
    expect(secondsToHms(90)).toBe('1m');
    expect(secondsToHms(0.5)).toBe('500ms');
    expect(secondsToHms(3600)).toBe('1h');
    expect(secondsToHms(15)).toBe('15s');
  });

  it('computes $__interval, $__rate_interval and $__range from the range and the width', () => {
    const to = 1_700_000_001_000;
    const p = planQuery(to - 3600e3, to, {}, 1200);
    // 3600 s over 1200 px = 3 s, rounded to 2 s; rate interval max(2 + 1, 4 × 1) s.
    expect(p.builtins).toEqual({
      __interval: '2s',
      __interval_ms: '2000',
      __rate_interval: '4s',
      __range: '3600s',
      __range_s: '3600',
      __range_ms: '3600000',
      __from: String(to - 3600e3),
      __to: String(to),
    });
    expect(p.step).toBe(2);
    expect(p.end).toBe(Math.floor(to / 1000 / 2) * 2);
    expect(p.start).toBe(Math.floor((to - 3600e3) / 1000 / 2) * 2);
  });

  it('uses maxDataPoints, the panel interval and the target interval', () => {
    // 24 h over 100 px = 864 s → 15 m.
    const day = planQuery(0, 86400e3, {}, 100);
    expect([day.builtins.__interval, day.step, day.builtins.__rate_interval]).toEqual(['15m', 900, '901s']);
    // 1 h over 100 points = 36 s → 30 s.
    expect(planQuery(0, 3600e3, { maxDataPoints: 100 }, 1200).builtins.__interval).toBe('30s');
    // The panel's minimum interval wins over 2 s.
    const min = planQuery(0, 3600e3, { interval: '1m' }, 1200);
    expect([min.builtins.__interval, min.step, min.builtins.__rate_interval]).toEqual(['1m', 60, '61s']);
    // A target's Min step raises the step and is the scrape interval of the rate interval.
    const t = planQuery(0, 3600e3, {}, 1200, { interval: '10s' });
    expect([t.builtins.__interval, t.builtins.__interval_ms, t.step, t.builtins.__rate_interval]).toEqual([
      '10s',
      '10000',
      10,
      '40s',
    ]);
  });

  it('keeps a query under 11000 points', () => {
    const len = 400 * 86400e3;
    const p = planQuery(0, len, {}, 100000);
    expect(p.step).toBe(Math.ceil((400 * 86400) / 11000));
    expect(p.builtins.__interval).toBe(`${Math.ceil((400 * 86400) / 11000)}s`);
  });
});

describe('legendFormat', () => {
  it('substitutes labels', () => {
    expect(legendName('{{state}}', { state: 'idle' })).toBe('idle');
    expect(legendName('{{from}} → {{ to }}', { from: 'a', to: 'b' })).toBe('a → b');
    expect(legendName('orders {{status}}/s', {})).toBe('orders /s');
  });
  it('names a series as Prometheus does without one', () => {
    expect(legendName(undefined, { __name__: 'up', job: 'x', a: '1' })).toBe('up{a="1", job="x"}');
    expect(legendName('__auto', {})).toBe('Value');
  });
});

describe('a file of any shape', () => {
  it('reads text, tags and a legendFormat only when they are what they should be', () => {
    expect([text('Latency'), text(5), text(true), text({ a: 1 }), text(['x']), text(null)]).toEqual([
      'Latency',
      '5',
      'true',
      '',
      '',
      '',
    ]);
    expect(tagsOf(['a', 3, null, 'b'])).toEqual(['a', 'b']);
    expect(tagsOf('breakwatch')).toEqual([]);
    expect(tagsOf({ 0: 'a' })).toEqual([]);
    // A legendFormat that is not text names the series as if there were none.
    expect(legendName(5, { __name__: 'up', job: 'x' })).toBe('up{job="x"}');
    expect(legendName({ a: 1 }, {})).toBe('Value');
  });

  it('decodes the uid in the path, a malformed escape left as written', () => {
    expect(uidFromPath('/d/bw-latency')).toBe('bw-latency');
    expect(uidFromPath('/d/a%20b/some-slug')).toBe('a b');
    expect(uidFromPath('/d/%zz')).toBe('%zz');
    expect(uidFromPath('/d/%E2%82')).toBe('%E2%82');
  });
});
