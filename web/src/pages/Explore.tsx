import { useMemo, useState, type KeyboardEvent } from 'react';
import type uPlot from 'uplot';
import { useInstantQuery, useRangeQuery } from '../api/hooks';
import type { PromData } from '../api/types';
import { Chart, PALETTE, lineSeries, timeAxis, valueAxis } from '../components/Chart';
import { Empty, Loading, Panel, describeError } from '../components/Panel';
import { RangePicker } from '../components/RangePicker';
import { formatValue } from '../lib/format';
import { HOUR, type TimeRange } from '../lib/range';
import { EXAMPLE_QUERIES } from '../lib/queries';
import { alignMatrix, seriesName } from '../lib/series';
import { getSearchParam, setSearchParam } from '../router';

const MAX_SERIES = 50;

function ErrorBox({ error }: { error: unknown }) {
  const d = describeError(error);
  return (
    <div className="state state-error" role="alert" data-testid="explore-error">
      <strong>{d.title}</strong>
      <code className="error-msg">{d.detail}</code>
    </div>
  );
}

function Graph({ query, range, onZoom }: { query: string; range: TimeRange; onZoom: (a: number, b: number) => void }) {
  const q = useRangeQuery(query, range);
  const series = q.data?.series ?? [];
  const shown = series.slice(0, MAX_SERIES);
  const names = shown.map((s) => seriesName(s.metric));
  const options = useMemo<Omit<uPlot.Options, 'width' | 'height'>>(
    () => ({
      scales: { x: { time: true } },
      axes: [timeAxis(), valueAxis()],
      series: [
        {},
        ...names.map((n, i) => lineSeries(n, PALETTE[i % PALETTE.length], { value: (_u, v) => formatValue(v) })),
      ],
      legend: { live: true },
    }),
    [names.join('\u0000')],
  );
  const data = useMemo<uPlot.AlignedData | null>(() => {
    if (!q.data) return null;
    const a = alignMatrix(shown, q.data.start, q.data.end, q.data.step);
    return [a.x, ...a.ys] as uPlot.AlignedData;
  }, [q.data]);

  if (q.isError) return <ErrorBox error={q.error} />;
  if (!q.data || !data) return <Loading what="Running the query" />;
  if (!series.length) return <Empty>The query returned no series in this range.</Empty>;
  return (
    <>
      {series.length > MAX_SERIES && (
        <p className="note">
          Showing {MAX_SERIES} of {series.length} series.
        </p>
      )}
      <Chart options={options} data={data} height={320} label={`Graph of ${query}`} onSelectRange={onZoom} />
      <p className="muted small">
        {series.length} series · step {q.data.step}s
      </p>
    </>
  );
}

function rowsOf(d: PromData): { labels: string; value: string; time: number }[] {
  switch (d.resultType) {
    case 'vector':
      return d.result.map((s) => ({ labels: seriesName(s.metric), value: s.value[1], time: s.value[0] }));
    case 'scalar':
    case 'string':
      return [{ labels: `(${d.resultType})`, value: d.result[1], time: d.result[0] }];
    case 'matrix':
      return d.result.map((s) => {
        const last = s.values[s.values.length - 1];
        return {
          labels: seriesName(s.metric),
          value: last ? `${last[1]} (last of ${s.values.length})` : '—',
          time: last?.[0] ?? 0,
        };
      });
  }
}

function Table({ query }: { query: string }) {
  const q = useInstantQuery(query);
  if (q.isError) return <ErrorBox error={q.error} />;
  if (!q.data) return <Loading what="Running the query" />;
  const rows = rowsOf(q.data);
  if (!rows.length) return <Empty>The query returned no series.</Empty>;
  return (
    <table className="table" data-testid="explore-result-table">
      <thead>
        <tr>
          <th scope="col">Series</th>
          <th scope="col" className="num">
            Value
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r, i) => (
          <tr key={i}>
            <td className="mono">{r.labels}</td>
            <td className="num mono" title={new Date(r.time * 1000).toLocaleString()}>
              {r.value}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Explore() {
  // ?q= is Explore's own; ?g0.expr= is how Prometheus links an expression (an alert's
  // generatorURL), so those links open here too.
  const initial = () => getSearchParam('q') ?? getSearchParam('g0.expr') ?? '';
  const [text, setText] = useState(initial);
  const [query, setQuery] = useState(initial);
  const [tab, setTab] = useState<'graph' | 'table'>('graph');
  const [range, setRange] = useState<TimeRange>({ kind: 'relative', ms: HOUR });
  const [base, setBase] = useState<TimeRange>(range);

  const run = (q = text) => {
    const t = q.trim();
    setText(q);
    setQuery(t);
    setSearchParam('q', t || null);
  };
  const onKey = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      run();
    }
  };
  const tabs = [
    { id: 'graph', label: 'Graph' },
    { id: 'table', label: 'Table' },
  ] as const;

  return (
    <div className="page explore">
      <Panel title="Explore" testId="explore">
        <form
          className="explore-form"
          onSubmit={(e) => {
            e.preventDefault();
            run();
          }}
        >
          <label className="sr-only" htmlFor="explore-query">
            PromQL query
          </label>
          <textarea
            id="explore-query"
            data-testid="explore-query"
            value={text}
            onChange={(e) => setText(e.target.value)}
            onKeyDown={onKey}
            rows={3}
            spellCheck={false}
            placeholder="A PromQL query, e.g. rate(signals_generated_total[5m]) — Ctrl+Enter runs it"
          />
          <div className="row">
            <button type="submit" className="btn btn-primary" data-testid="explore-run" disabled={!text.trim()}>
              Run query
            </button>
            <span className="muted small">Ctrl/⌘ + Enter</span>
          </div>
          <div className="examples" aria-label="Example queries">
            {EXAMPLE_QUERIES.map((ex) => (
              <button key={ex} type="button" className="chip mono" onClick={() => run(ex)}>
                {ex}
              </button>
            ))}
          </div>
        </form>
      </Panel>
      <section className="panel">
        <div className="tabs-row">
          <div role="tablist" aria-label="Result view" className="tabs">
            {tabs.map((t) => (
              <button
                key={t.id}
                type="button"
                role="tab"
                id={`tab-${t.id}`}
                aria-selected={tab === t.id}
                aria-controls={`tabpanel-${t.id}`}
                tabIndex={tab === t.id ? 0 : -1}
                className="tab"
                data-testid={`explore-tab-${t.id}`}
                onClick={() => setTab(t.id)}
                onKeyDown={(e) => {
                  if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') {
                    const next = tab === 'graph' ? 'table' : 'graph';
                    setTab(next);
                    document.getElementById(`tab-${next}`)?.focus();
                  }
                }}
              >
                {t.label}
              </button>
            ))}
          </div>
          {tab === 'graph' && (
            <RangePicker
              range={base}
              onChange={(r) => {
                setBase(r);
                setRange(r);
              }}
              zoomed={range !== base}
              onReset={() => setRange(base)}
            />
          )}
        </div>
        <div
          role="tabpanel"
          id={`tabpanel-${tab}`}
          aria-labelledby={`tab-${tab}`}
          className="panel-body"
          data-testid={tab === 'graph' ? 'explore-graph' : 'explore-table'}
        >
          {!query ? (
            <Empty>Write a query and run it; results show here.</Empty>
          ) : tab === 'graph' ? (
            <Graph
              query={query}
              range={range}
              onZoom={(a, b) =>
                setRange({ kind: 'absolute', startMs: Math.round(a * 1000), endMs: Math.round(b * 1000) })
              }
            />
          ) : (
            <Table query={query} />
          )}
        </div>
      </section>
    </div>
  );
}
