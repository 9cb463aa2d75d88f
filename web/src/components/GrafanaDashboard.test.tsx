// @vitest-environment jsdom
// The dashboard renderer against a fake breakwatch: the dashboard files list, a dashboard with
// a query variable, a stat, a table, a failing query and an unsupported panel type.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { SettingsProvider } from '../settings';
import { DashboardView } from '../pages/DashboardView';
import { Dashboards } from '../pages/Dashboards';
import { stubLayout } from './testLayout';

// uPlot needs a real canvas; no panel here draws a chart.
vi.mock('uplot', () => ({ default: class {} }));

const DASH = {
  uid: 'test',
  title: 'Test board',
  time: { from: 'now-1h', to: 'now' },
  refresh: '10s',
  templating: {
    list: [
      { name: 'datasource', type: 'datasource', query: 'prometheus' },
      {
        name: 'symbol',
        type: 'query',
        query: 'label_values(signals_generated_total, symbol)',
        multi: true,
        includeAll: true,
        current: { value: ['$__all'] },
      },
    ],
  },
  panels: [
    {
      id: 1,
      type: 'stat',
      title: 'Memory',
      gridPos: { x: 0, y: 0, w: 6, h: 4 },
      fieldConfig: { defaults: { unit: 'percent', decimals: 1 } },
      options: { reduceOptions: { calcs: ['max'] }, graphMode: 'none' },
      targets: [{ refId: 'A', expr: 'max(mem{symbol=~"$symbol"}[$__rate_interval])', legendFormat: 'mem' }],
    },
    {
      id: 2,
      type: 'table',
      title: 'Counts',
      gridPos: { x: 6, y: 0, w: 6, h: 4 },
      fieldConfig: { defaults: { decimals: 0 } },
      targets: [{ refId: 'A', expr: 'counts', legendFormat: '', instant: true, format: 'table' }],
    },
    { id: 3, type: 'graph', title: 'Old graph', gridPos: { x: 12, y: 0, w: 6, h: 4 }, targets: [] },
    {
      id: 4,
      type: 'stat',
      title: 'Broken',
      gridPos: { x: 18, y: 0, w: 6, h: 4 },
      targets: [{ refId: 'A', expr: 'sum(', legendFormat: '' }],
    },
  ],
};

let urls: string[] = [];

const json = (body: unknown, status = 200) => new Response(JSON.stringify(body), { status });

beforeEach(() => {
  urls = [];
  stubLayout();
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string) => {
      urls.push(url);
      const u = new URL(url, 'http://x');
      const q = u.searchParams.get('query') ?? '';
      if (u.pathname === '/api/dashboards')
        return json({
          status: 'success',
          data: [
            { uid: 'test', title: 'Test board', file: 'test.json', tags: ['breakwatch'] },
            { file: 'bad.json', error: 'bad.json:3:5: expected a value' },
          ],
        });
      if (u.pathname === '/api/dashboards/test') return json({ status: 'success', data: DASH });
      if (u.pathname === '/api/v1/label/symbol/values') return json({ status: 'success', data: ['BBB', 'AAA'] });
      if (u.pathname === '/api/v1/query_range' && q.startsWith('max(mem'))
        return json({
          status: 'success',
          data: {
            resultType: 'matrix',
            result: [
              {
                metric: {},
                values: [
                  [Number(u.searchParams.get('start')), '41.25'],
                  [Number(u.searchParams.get('end')), '12'],
                ],
              },
            ],
          },
        });
      if (u.pathname === '/api/v1/query' && q === 'counts')
        return json({
          status: 'success',
          data: {
            resultType: 'vector',
            result: [
              { metric: { from: 'idle', to: 'scanning' }, value: [1700000000, '4'] },
              { metric: { from: 'scanning', to: 'idle' }, value: [1700000000, '3'] },
            ],
          },
        });
      return json(
        { status: 'error', errorType: 'bad_data', error: `parse error at char 5: unclosed parenthesis` },
        400,
      );
    }),
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  window.history.replaceState(null, '', '/');
});

function renderPage(node: React.ReactNode) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={qc}>
      <SettingsProvider>{node}</SettingsProvider>
    </QueryClientProvider>,
  );
}

const panel = (id: number) => screen.getByTestId(`gpanel-${id}`);

describe('a dashboard file', () => {
  it('draws each panel from its queries, the variable expanded', async () => {
    window.history.replaceState(null, '', '/d/test');
    renderPage(<DashboardView uid="test" />);
    await waitFor(() => expect(panel(1).dataset.state).toBe('data'));
    // max(41.25, 12) with one decimal, in percent.
    expect(within(panel(1)).getByTestId('gstat-value').textContent).toBe('41.3%');
    const sent = urls
      .map((x) => new URL(x, 'http://x'))
      .find((u) => u.searchParams.get('query')?.startsWith('max(mem'))!;
    // All is every option, sorted as listed by the API, as a regex alternation; 1 h over the
    // 600 px panel is 6 s → 5 s, and the rate interval max(5 + 1, 4) s.
    expect(sent.searchParams.get('query')).toBe('max(mem{symbol=~"(BBB|AAA)"}[6s])');
    expect(sent.searchParams.get('step')).toBe('5');
    expect(window.location.search).toContain('var-symbol=%24__all');

    await waitFor(() => expect(panel(2).dataset.state).toBe('data'));
    const rows = within(panel(2)).getAllByTestId('gtable-row');
    expect(rows.map((r) => [...r.querySelectorAll('td')].slice(1).map((td) => td.textContent))).toEqual([
      ['idle', 'scanning', '4'],
      ['scanning', 'idle', '3'],
    ]);

    expect(panel(3).dataset.state).toBe('unsupported');
    expect(within(panel(3)).getByTestId('gpanel-unsupported').textContent).toContain(
      'panel type graph is not supported',
    );

    await waitFor(() => expect(panel(4).dataset.state).toBe('error'));
    expect(within(panel(4)).getByTestId('state-error').textContent).toContain(
      'parse error at char 5: unclosed parenthesis',
    );
  });

  it('takes the variable from the URL', async () => {
    window.history.replaceState(null, '', '/d/test?var-symbol=AAA');
    renderPage(<DashboardView uid="test" />);
    await waitFor(() => expect(panel(1).dataset.state).toBe('data'));
    const sent = urls
      .filter((x) => x.includes('query_range'))
      .map((x) => new URL(x, 'http://x').searchParams.get('query'));
    expect(sent).toContain('max(mem{symbol=~"AAA"}[6s])');
    expect(sent.some((q) => q?.includes('BBB'))).toBe(false);
    expect(screen.getByTestId('var-symbol-current').textContent).toBe('AAA');
  });
});

describe('a file of the wrong shape', () => {
  it('draws what it can and says what it cannot, never a blank page', async () => {
    const odd = {
      uid: 'test',
      title: 'Odd',
      templating: { list: 'nope' },
      panels: [
        {
          id: 1,
          type: 'stat',
          title: 'Targets not a list',
          gridPos: { x: 0, y: 0, w: 6, h: 4 },
          targets: { expr: 'x' },
        },
        {
          id: 2,
          type: 'stat',
          title: 'Odd config',
          gridPos: { x: 6, y: 0, w: 6, h: 4 },
          fieldConfig: { defaults: { unit: 'percent', mappings: 'x', thresholds: { steps: 'y' } }, overrides: 'z' },
          options: { reduceOptions: { calcs: ['max'] }, graphMode: 'none' },
          targets: [{ refId: 'A', expr: 'max(mem{symbol=~"$symbol"}[$__rate_interval])', legendFormat: 'mem' }],
        },
        'not a panel',
      ],
    };
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        const u = new URL(url, 'http://x');
        if (u.pathname === '/api/dashboards/test') return json({ status: 'success', data: odd });
        return json({
          status: 'success',
          data: { resultType: 'matrix', result: [{ metric: {}, values: [[Number(u.searchParams.get('end')), '7']] }] },
        });
      }),
    );
    renderPage(<DashboardView uid="test" />);
    await waitFor(() => expect(panel(2).dataset.state).toBe('data'));
    // No variable: $symbol stays as written, and the stat still shows its number.
    expect(within(panel(2)).getByTestId('gstat-value').textContent).toBe('7%');
    expect(panel(1).textContent).toContain('This panel has no queries.');
    expect(document.querySelectorAll('[data-panel-id]')).toHaveLength(2);
  });
});

describe('a file of the wrong shape in many fields', () => {
  it('draws every panel it can, the page never blank', async () => {
    const odd = {
      uid: 'test',
      title: { en: 'Odd' },
      description: ['d'],
      tags: 'breakwatch',
      time: 'now',
      refresh: 5,
      graphTooltip: 'yes',
      templating: { list: { symbol: 1 } },
      panels: [
        { id: 9, type: 'row', title: { text: 'Row' }, gridPos: { x: 0, y: 0, w: 24, h: 1 } },
        {
          id: 1,
          type: 'stat',
          title: 42,
          description: { x: 1 },
          gridPos: { x: '0', y: '1', w: '6', h: '4' },
          fieldConfig: 'x',
          options: 'y',
          targets: [{ refId: { a: 1 }, expr: 'good', legendFormat: 7 }],
        },
        { id: 2, type: 'stat', title: { a: 1 }, gridPos: 'big', targets: 'x' },
        { id: 3, type: { a: 1 }, title: 'Odd type', gridPos: null, targets: [] },
        {
          id: 4,
          type: 'stat',
          title: 'Odd options',
          gridPos: { x: 12, y: 1, w: 6, h: 4 },
          fieldConfig: { defaults: ['unit'], overrides: { a: 1 } },
          options: { reduceOptions: { calcs: 'max' }, legend: 'x', textMode: 3 },
          targets: [{ expr: 'good' }, 'not a target', null],
        },
        {
          id: 5,
          type: 'table',
          title: 'Odd table',
          gridPos: { x: 18, y: 1, w: 6, h: 4 },
          options: { sortBy: 'x' },
          fieldConfig: { defaults: { decimals: 0, mappings: { a: 1 } } },
          targets: [{ expr: 'good', format: 'table' }],
        },
        { id: 6, type: 'row', collapsed: true, title: 'Closed', panels: 'x' },
      ],
    };
    vi.stubGlobal(
      'fetch',
      vi.fn(async (url: string) => {
        const u = new URL(url, 'http://x');
        if (u.pathname === '/api/dashboards/test') return json({ status: 'success', data: odd });
        if (u.pathname === '/api/v1/query')
          return json({
            status: 'success',
            data: { resultType: 'vector', result: [{ metric: { job: 'j' }, value: [1700000000, '5'] }] },
          });
        return json({
          status: 'success',
          data: { resultType: 'matrix', result: [{ metric: {}, values: [[Number(u.searchParams.get('end')), '7']] }] },
        });
      }),
    );
    renderPage(<DashboardView uid="test" />);
    await waitFor(() => [1, 4, 5].forEach((id) => expect(panel(id).dataset.state).toBe('data')));
    // A title that is not text: the uid; tags that are not a list: none.
    expect(screen.getByTestId('gdash-title').textContent).toBe('test');
    expect(document.querySelectorAll('.gdash .toolbar .badge')).toHaveLength(0);
    expect(screen.getAllByTestId('grow').map((b) => b.textContent)).toEqual(['▾ ', '▸ Closed']);
    // A legendFormat that is not text: the series' own name (no labels: "Value").
    expect(within(panel(1)).getByTestId('gpanel-title').textContent).toBe('42');
    expect(within(panel(1)).getByTestId('gstat').dataset.name).toBe('Value');
    expect(within(panel(1)).getByTestId('gstat-value').textContent).toBe('7');
    expect(within(panel(2)).getByTestId('gpanel-title').textContent).toBe('');
    expect(panel(2).textContent).toContain('This panel has no queries.');
    expect(panel(3).textContent).toContain('panel type (none) is not supported');
    expect(within(panel(4)).getByTestId('gstat-value').textContent).toBe('7');
    const cells = [...within(panel(5)).getByTestId('gtable-row').querySelectorAll('td')].slice(1);
    expect(cells.map((td) => td.textContent)).toEqual(['j', '5']);
    // Nothing fell back to an error box.
    expect(screen.queryByTestId('dashboard-error')).toBeNull();
    expect(document.querySelectorAll('[data-state="error"]')).toHaveLength(0);
  });
});

describe('what the server says went wrong', () => {
  it("shows the list's warnings on the Dashboards tab", async () => {
    const warning = 'cannot read the dashboards directory /srv/none: No such file or directory';
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json({ status: 'success', data: [], warnings: [warning] })),
    );
    renderPage(<Dashboards />);
    await waitFor(() => expect(screen.getByTestId('dashboards-warning').textContent).toBe(warning));
    expect(within(screen.getByTestId('dashboard-files')).getByTestId('state-empty').textContent).toContain(
      'No dashboard files',
    );
  });

  it("shows a 404's message in full", async () => {
    const msg = 'no dashboard with uid "gone"; 1 file could not be read: latency.json:12:5: not JSON';
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => json({ status: 'error', errorType: 'not_found', error: msg }, 404)),
    );
    renderPage(<DashboardView uid="gone" />);
    await waitFor(() => expect(screen.getByTestId('state-error').textContent).toContain(msg));
  });
});

describe('the dashboards page', () => {
  it('lists the files, an invalid one with its error', async () => {
    window.history.replaceState(null, '', '/dashboards');
    renderPage(<Dashboards />);
    await waitFor(() => expect(screen.getAllByTestId('dashboard-file')).toHaveLength(2));
    const [good, bad] = screen.getAllByTestId('dashboard-file');
    expect(within(good).getByTestId('dashboard-link').getAttribute('href')).toBe('/d/test');
    expect(within(good).getByTestId('dashboard-link').textContent).toBe('Test board');
    expect(good.textContent).toContain('test.json');
    expect(within(bad).getByTestId('dashboard-file-error').textContent).toBe('bad.json:3:5: expected a value');
  });
});
