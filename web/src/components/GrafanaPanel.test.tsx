// @vitest-environment jsdom
// The panels' bodies against a fake breakwatch: two panels sending the same query (one answer,
// each named its own way), a heatmap of buckets by its target's format, a table with a series
// that has no value.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { SettingsProvider } from '../settings';
import { DashboardView } from '../pages/DashboardView';
import { stubLayout } from './testLayout';

// uPlot needs a real canvas: a stand-in that draws nothing.
vi.mock('uplot', () => ({
  default: class {
    static rangeNum = (a: number, b: number) => [a, b];
    width = 0;
    setData() {}
    setSize() {}
    destroy() {}
  },
}));

type Series = { metric: Record<string, string>; values: [number, string][] };

let urls: string[] = [];
let dash: unknown = null;
/** The matrix answered for a query, given the request's start and end (s). */
let answer: (query: string, start: number, end: number) => Series[] = () => [];

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });

beforeEach(() => {
  urls = [];
  stubLayout();
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      urls.push(url);
      const u = new URL(url, 'http://x');
      if (u.pathname === '/api/dashboards/t') return json({ status: 'success', data: dash });
      if (u.pathname === '/api/v1/query_range') {
        const p = (k: string) => Number(u.searchParams.get(k));
        return json({
          status: 'success',
          data: { resultType: 'matrix', result: answer(u.searchParams.get('query') ?? '', p('start'), p('end')) },
        });
      }
      return json({ status: 'error', errorType: 'bad_data', error: 'unexpected ' + u.pathname }, 400);
    }),
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  window.history.replaceState(null, '', '/');
});

function renderDash(d: unknown) {
  dash = d;
  window.history.replaceState(null, '', '/d/t');
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <SettingsProvider>
        <DashboardView uid="t" />
      </SettingsProvider>
    </QueryClientProvider>,
  );
}

const panel = (id: number) => screen.getByTestId(`gpanel-${id}`);
const sentQueries = () =>
  urls.filter((x) => x.includes('query_range')).map((x) => new URL(x, 'http://x').searchParams.get('query'));

describe('panels sending the same query', () => {
  it('share one answer, each with its own legend names and overrides', async () => {
    answer = (q, _start, end) =>
      q === 'rate(x[1m])'
        ? [
            { metric: { job: 'p' }, values: [[end, '7']] },
            { metric: { job: 'q' }, values: [[end, '3']] },
          ]
        : [];
    const stat = (id: number, x: number, legend: string, percentOf: string) => ({
      id,
      type: 'stat',
      title: `Stat ${id}`,
      gridPos: { x, y: 0, w: 6, h: 4 },
      fieldConfig: {
        defaults: { decimals: 0 },
        overrides: [{ matcher: { id: 'byName', options: percentOf }, properties: [{ id: 'unit', value: 'percent' }] }],
      },
      options: { graphMode: 'none' },
      targets: [{ refId: 'A', expr: 'rate(x[1m])', legendFormat: legend }],
    });
    const ts = (id: number, x: number, legend: string) => ({
      id,
      type: 'timeseries',
      title: `Lines ${id}`,
      gridPos: { x, y: 4, w: 12, h: 6 },
      targets: [{ refId: 'A', expr: 'rate(x[1m])', legendFormat: legend }],
    });
    renderDash({
      uid: 't',
      title: 'Shared',
      time: { from: 'now-1h', to: 'now' },
      panels: [stat(1, 0, 'a {{job}}', 'a q'), stat(2, 6, 'b {{job}}', 'b p'), ts(3, 0, 'c {{job}}'), ts(4, 12, '')],
    });
    await waitFor(() => [1, 2, 3, 4].forEach((id) => expect(panel(id).dataset.state).toBe('data')));
    const stats = (id: number) =>
      within(panel(id))
        .getAllByTestId('gstat')
        .map((el) => [el.dataset.name, within(el).getByTestId('gstat-value').textContent]);
    // Each panel's own legendFormat, and its override (percent) on its own series' name.
    expect(stats(1)).toEqual([
      ['a p', '7'],
      ['a q', '3%'],
    ]);
    expect(stats(2)).toEqual([
      ['b p', '7%'],
      ['b q', '3'],
    ]);
    const legend = (id: number) =>
      within(panel(id))
        .getAllByTestId('glegend-item')
        .map((r) => r.textContent);
    expect(legend(3)).toEqual(['c p', 'c q']);
    // No legendFormat: Prometheus's own name.
    expect(legend(4)).toEqual(['{job="p"}', '{job="q"}']);
    // The four panels asked once.
    expect(sentQueries()).toEqual(['rate(x[1m])']);
  });
});

describe('a heatmap of buckets', () => {
  const buckets = (end: number): Series[] =>
    // Cumulative counts at the end: 2 at or below 0.1, 5 at or below 0.5, 6 in all.
    [
      { metric: { le: '0.5' }, values: [[end, '5']] },
      { metric: { le: '+Inf' }, values: [[end, '6']] },
      { metric: { le: '0.1' }, values: [[end, '2']] },
    ];
  const heat = (id: number, x: number, format: string) => ({
    id,
    type: 'heatmap',
    title: `Heat ${id}`,
    gridPos: { x, y: 0, w: 12, h: 8 },
    targets: [{ refId: 'A', expr: `h${id}`, legendFormat: '{{le}}', format }],
  });

  it('turns cumulative buckets into counts only for format "heatmap"', async () => {
    answer = (_q, _start, end) => buckets(end);
    renderDash({
      uid: 't',
      title: 'Heat',
      panels: [heat(1, 0, 'heatmap'), heat(2, 12, 'time_series')],
    });
    await waitFor(() => [1, 2].forEach((id) => expect(panel(id).dataset.state).toBe('data')));
    const rows = (id: number) => panel(id).querySelector('[data-rows]')!.getAttribute('data-rows');
    // format heatmap: by bound, each the count in its bucket (2, 5-2, 6-5).
    expect(rows(1)).toBe('0.1,0.5,+Inf');
    // time_series: each series as it is, by name (numeric order, "+" before digits).
    expect(rows(2)).toBe('+Inf,0.1,0.5');
  });
});

describe('a table of range series', () => {
  it('shows a series with no value without a time', async () => {
    let endS = 0;
    answer = (_q, _start, end) => {
      endS = end;
      return [
        { metric: { job: 'on' }, values: [[end, '4']] },
        { metric: { job: 'off' }, values: [] },
      ];
    };
    renderDash({
      uid: 't',
      title: 'Table',
      panels: [
        {
          id: 1,
          type: 'table',
          title: 'Last',
          gridPos: { x: 0, y: 0, w: 12, h: 6 },
          fieldConfig: { defaults: { decimals: 0 } },
          targets: [{ refId: 'A', expr: 'up' }],
        },
      ],
    });
    await waitFor(() => expect(panel(1).dataset.state).toBe('data'));
    const rows = within(panel(1))
      .getAllByTestId('gtable-row')
      .map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent));
    const end = new Date(endS * 1000).toISOString();
    expect(rows).toEqual([
      [`${end.slice(0, 10)} ${end.slice(11, 19)}`, 'on', '4'],
      ['—', 'off', '—'],
    ]);
  });
});
