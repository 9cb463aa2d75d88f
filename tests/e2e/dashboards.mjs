// The Grafana dashboard files drawn by breakwatch's page: node dashboards.mjs URL SCREENSHOT_DIR
//
// URL is a breakwatch running the engine fast with --dashboards-dir on the shipped files
// (BW_DASHBOARDS, default monitoring/grafana/dashboards) and the shipped rules. For every file:
// /d/{uid} shows the file's panels (same count, same titles), each draws data (coloured canvas
// pixels for charts, a number for stats and gauges, rows for tables), a stat's number is what
// the API answers to the same query from Node, and a screenshot goes to
// SCREENSHOT_DIR/dashboard-<uid>.png. On the signals dashboard, choosing one symbol puts it in
// the URL (var-symbol) and in the queries, and the panels show that symbol only.
//
// BW_EDIT_URL and BW_EDIT_DIR are a second breakwatch whose --dashboards-dir is a scratch copy:
// a panel title changed in the file shows after a reload, a file that is not JSON is listed
// with its error, and a dashboard with an unsupported panel type and a failing query says so
// in those panels.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiClient, canvasInk, check, finish, near, openPage, parseShown, step, until } from './lib.mjs';

const [origin, shots] = process.argv.slice(2);
if (!origin || !shots) {
  console.error('usage: node dashboards.mjs URL SCREENSHOT_DIR');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const DIR = process.env.BW_DASHBOARDS || join(here, '../../monitoring/grafana/dashboards');
const EDIT_URL = process.env.BW_EDIT_URL;
const EDIT_DIR = process.env.BW_EDIT_DIR;

const api = apiClient(origin);
const files = readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => ({
    file: f,
    dash: JSON.parse(readFileSync(join(DIR, f), 'utf8')),
  }));

/** The panels a dashboard draws at first: rows themselves and collapsed rows' panels not. */
const panelsOf = (d) => (d.panels ?? []).filter((p) => p.type !== 'row');

const CHARTS = new Set(['timeseries', 'heatmap', 'state-timeline']);

/** A regex for the queries the page sends for `expr`: built-ins become durations, the
 *  dashboard's variables anything. */
function exprPattern(expr) {
  const esc = expr.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    '^' +
      esc
        .replace(/\\\$__(rate_interval|interval|range)(_ms|_s)?/g, '[0-9a-z]+')
        .replace(/\\\$\\\{\w+(?::\w+)?\\\}|\\\$\w+/g, '.*') +
      '$',
  );
}

let b = await openPage(origin, shots);
const { page, log, tid } = b;

/** Per panel of `pg`: its state, title and what it drew. */
const panelStates = (pg = page) =>
  pg.evaluate(() =>
    [...document.querySelectorAll('[data-panel-id]')].map((el) => ({
      id: Number(el.dataset.panelId),
      type: el.dataset.panelType,
      state: el.dataset.state,
      title: el.querySelector('[data-testid="gpanel-title"]')?.textContent ?? null,
      stats: [...el.querySelectorAll('[data-testid="gstat"]')].map((s) => ({
        name: s.dataset.name,
        value: s.dataset.value,
        text: s.querySelector('[data-testid="gstat-value"]')?.textContent ?? null,
      })),
      rows: el.querySelectorAll('[data-testid="gtable-row"]').length,
      error: el.querySelector('[data-testid="state-error"]')?.textContent ?? null,
    })),
  );

/** Opens /d/{uid} at `base` in `pg` and waits until the dashboard and its panels are there. */
async function openDashboard(base, uid, n, pg = page, search = '') {
  await pg.goto(`${base}/d/${encodeURIComponent(uid)}${search}`, {
    waitUntil: 'load',
  });
  await until(
    `/d/${uid} shows ${n} panels`,
    () => pg.locator('[data-panel-id]').count(),
    (c) => c === n,
    {
      timeout: 20_000,
    },
  );
}

let error = null;
try {
  await step(
    'the dashboards page lists every file, each linking to /d/{uid}',
    async () => {
      await page.goto(origin + '/dashboards', { waitUntil: 'load' });
      const rows = await until(
        'the file list',
        () =>
          page.evaluate(() =>
            [...document.querySelectorAll('[data-testid="dashboard-file"]')].map((r) => ({
              file: r.dataset.file,
              uid: r.dataset.uid,
              href: r.querySelector('[data-testid="dashboard-link"]')?.getAttribute('href'),
              title: r.querySelector('[data-testid="dashboard-link"]')?.textContent,
            })),
          ),
        (r) => r.length === files.length,
      );
      for (const { file, dash } of files) {
        const r = rows.find((x) => x.file === file);
        check(r, `${file} is not listed: ${JSON.stringify(rows)}`);
        check(
          r.uid === dash.uid && r.href === `/d/${dash.uid}` && r.title === dash.title,
          `${file}: ${JSON.stringify(r)}`,
        );
      }
      // A link opens the dashboard at the file's own time range, written in the URL as Grafana does.
      const first = files[0].dash;
      await page.locator(`[data-uid="${first.uid}"] [data-testid="dashboard-link"]`).click();
      await until(
        `/d/${first.uid}`,
        () => page.url(),
        (u) => new URL(u).pathname === `/d/${first.uid}`,
      );
      const label = await until(
        'the range',
        () =>
          tid('range-label')
            .textContent()
            .catch(() => null),
        (t) => !!t,
      );
      const want = { from: first.time.from, to: first.time.to };
      check(
        label === `Last ${first.time.from.replace('now-', '')}`,
        `range "${label}", the file says ${JSON.stringify(want)}`,
      );
      await until(
        'from/to in the URL',
        () => Object.fromEntries(new URL(page.url()).searchParams),
        (q) => q.from === want.from && q.to === want.to,
      );
      return `${files.map((f) => f.file).join(', ')}; /d/${first.uid} opens at "${label}"`;
    },
    { critical: true },
  );

  for (const { file, dash } of files) {
    const panels = panelsOf(dash);
    await step(`${file}: /d/${dash.uid} draws its ${panels.length} panels with data`, async () => {
      const t0 = Date.now();
      // The last 5 minutes (from the URL, as Grafana takes it): the engine started a minute ago,
      // and its lines should cross the charts rather than sit at their right edge.
      await openDashboard(origin, dash.uid, panels.length, page, '?from=now-5m&to=now');
      check((await tid('range-label').textContent()) === 'Last 5m', `range ${await tid('range-label').textContent()}`);
      check((await tid('gdash-title').textContent()) === dash.title, `title ${await tid('gdash-title').textContent()}`);
      // Same panels, same titles and types as the file.
      const shown = await panelStates();
      const want = panels.map((p) => [p.id, p.title, p.type]).sort((a, b) => a[0] - b[0]);
      const got = shown.map((p) => [p.id, p.title, p.type]).sort((a, b) => a[0] - b[0]);
      check(
        JSON.stringify(got) === JSON.stringify(want),
        `panels ${JSON.stringify(got)}, the file has ${JSON.stringify(want)}`,
      );
      // Every panel has data. The engine needs a few seconds for rates and the first signals,
      // and a panel with a 1m minimum interval (the signal heatmaps) has its first point at the
      // first whole minute after the engine started (an empty panel is polled at the
      // dashboard's refresh, 10 s): up to 90 s.
      const states = await until(
        'every panel has data',
        () => panelStates(),
        (ps) => ps.length === panels.length && ps.every((p) => p.state === 'data'),
        { timeout: 90_000, every: 1000 },
      );
      // What each drew: coloured pixels for charts, a number for stats and gauges, rows for tables.
      const drawn = [];
      for (const p of panels) {
        const s = states.find((x) => x.id === p.id);
        if (CHARTS.has(p.type)) {
          const ink = await until(
            `panel ${p.id} (${p.title}) draws`,
            async () => (await canvasInk(page, `gpanel-${p.id}`)) ?? [],
            (c) => c.reduce((a, x) => a + x.ink, 0) > 30,
            { timeout: 10_000 },
          );
          drawn.push(`${p.id}:${ink.reduce((a, x) => a + x.ink, 0)}px`);
        } else if (p.type === 'stat' || p.type === 'gauge') {
          check(s.stats.length > 0, `panel ${p.id} (${p.title}) shows no value`);
          for (const st of s.stats)
            check(
              st.value !== '' && Number.isFinite(Number(st.value)),
              `panel ${p.id} (${p.title}): value ${JSON.stringify(st)}`,
            );
          drawn.push(`${p.id}:${s.stats.map((x) => x.text ?? x.name).join('|')}`);
        } else if (p.type === 'table') {
          check(s.rows > 0, `panel ${p.id} (${p.title}) has no rows`);
          drawn.push(`${p.id}:${s.rows} rows`);
        }
      }
      await b.shot(`dashboard-${dash.uid}`);
      return `${((Date.now() - t0) / 1000).toFixed(1)} s; ${drawn.join(', ')}; dashboard-${dash.uid}.png`;
    });

    const stats = panels.filter((p) => p.type === 'stat' && p.options?.textMode !== 'name' && p.targets?.length === 1);
    if (stats.length === 0) continue;
    await step(`${file}: each stat shows what the API answers to its query`, async () => {
      // The dashboards go through the page's auto-refresh switch too: off, the numbers stay those
      // of the last requests the page made, which Node then sends again.
      if ((await tid('auto-refresh').getAttribute('aria-checked')) === 'true') await tid('auto-refresh').click();
      check((await tid('auto-refresh').getAttribute('aria-checked')) === 'false', 'auto-refresh did not switch off');
      await until(
        'no request in flight',
        () => page.locator('.gpanel .spinner').count(),
        (n) => n === 0,
      );
      await page.waitForTimeout(500);
      const shown = await panelStates();
      const out = [];
      for (const p of stats) {
        const re = exprPattern(p.targets[0].expr);
        const req = log.requests
          .map((r) => new URL(r.url))
          .filter((u) => u.pathname === '/api/v1/query_range' && re.test(u.searchParams.get('query') ?? ''))
          .pop();
        check(req, `panel ${p.id} (${p.title}): no query_range matching ${re} was sent`);
        // Reduced as the panel's calc says (lastNotNull in these files).
        const calc = p.options?.reduceOptions?.calcs?.[0] ?? 'lastNotNull';
        check(calc === 'lastNotNull', `panel ${p.id}: calc ${calc}`);
        const lastOf = (body) => {
          const series = body?.data?.result ?? [];
          check(series.length === 1, `panel ${p.id}: ${series.length} series`);
          const values = series[0].values.map(([, v]) => Number(v)).filter(Number.isFinite);
          return values[values.length - 1];
        };
        const st = shown.find((x) => x.id === p.id).stats[0];
        // Exactly what the page was answered…
        const answered = lastOf(log.json.get(req.pathname + req.search)?.body);
        check(
          near(Number(st.value), answered, 1e-12),
          `panel ${p.id} (${p.title}): page ${st.value}, its answer ${answered}`,
        );
        // …and the same request from Node. A gauge may have moved on by a sample between the
        // two (the newest second is still being recorded when the window ends on it): 2 %.
        const want = lastOf(await api.get(req.pathname + req.search));
        check(near(Number(st.value), want, 0.02), `panel ${p.id} (${p.title}): page ${st.value}, API ${want}`);
        // The text, where it reads back as a number: to its decimals, or three digits.
        const unit = p.fieldConfig?.defaults?.unit;
        const scale = unit === 's' ? 1000 : 1;
        const back = parseShown(st.text);
        if (back !== null && ['short', 'percent', 's', 'bytes', undefined].includes(unit)) {
          const dec = p.fieldConfig?.defaults?.decimals;
          check(
            near(back, want * scale, 0.006, dec === 0 ? 0.5 : 1e-9) || (unit === 'short' && Math.abs(want) >= 1e4),
            `panel ${p.id} (${p.title}): shows ${st.text}, API ${want}`,
          );
        }
        out.push(`${p.title} = ${st.text} (${want})`);
      }
      return out.join('; ');
    });
  }

  // ---- the symbol variable ------------------------------------------------------------------
  const signals = files.find((f) => f.dash.uid === 'breakwatch-signals');
  if (signals) {
    await step('signals: choosing one symbol sets var-symbol and narrows every panel to it', async () => {
      const v = signals.dash.templating.list.find((x) => x.name === 'symbol');
      check(v && v.type === 'query' && v.multi && v.includeAll, `symbol variable ${JSON.stringify(v)}`);
      // The symbol with the most signals in the last hour, from Node.
      const top = await api.get(
        '/api/v1/query?query=' + encodeURIComponent('topk(1, sum by (symbol) (increase(signals_generated_total[1h])))'),
      );
      const sym = top.data.result[0]?.metric.symbol;
      check(sym, `no signals yet: ${JSON.stringify(top)}`);
      await openDashboard(origin, 'breakwatch-signals', panelsOf(signals.dash).length, page, '?from=now-5m&to=now');
      const options = await until(
        'the symbol options',
        () => page.locator('[data-testid="var-symbol-option"]').evaluateAll((els) => els.map((e) => e.dataset.value)),
        (o) => o.includes(sym) && o.includes('$__all'),
      );
      const known = await api.get(
        '/api/v1/label/symbol/values?' + new URLSearchParams({ 'match[]': 'signals_generated_total' }),
      );
      check(
        JSON.stringify(options.slice(1)) === JSON.stringify([...known.data].sort()),
        `options ${options}, API ${known.data}`,
      );
      check(new URL(page.url()).searchParams.getAll('var-symbol').join() === '$__all', `URL ${page.url()}`);
      const t = Date.now();
      await tid('var-symbol-current').click();
      await page.locator(`[data-testid="var-symbol-option"][data-value="${sym}"]`).check();
      await tid('var-symbol-current').click();
      await until(
        'the URL has var-symbol',
        () => new URL(page.url()).searchParams.getAll('var-symbol').join(),
        (s) => s === sym,
      );
      const sent = await until(
        'queries with the symbol',
        () =>
          log.requests
            .filter((r) => r.t >= t && r.url.includes('/api/v1/query'))
            .map((r) => new URL(r.url).searchParams.get('query')),
        (qs) => qs.filter((q) => q.includes('signals_generated_total')).length >= 5,
      );
      const sq = sent.filter((q) => q.includes('signals_generated_total'));
      check(
        sq.every((q) => q.includes(`symbol=~"${sym}"`)),
        `queries without symbol=~"${sym}": ${sq.filter((q) => !q.includes(sym))}`,
      );
      const heat = await until(
        'the symbol heatmap and the table show only that symbol',
        () =>
          page.evaluate(() => ({
            rows: document.querySelector('[data-panel-id="1"] [data-rows]')?.dataset.rows,
            table: [...document.querySelectorAll('[data-panel-id="4"] td[data-column="symbol"]')].map(
              (td) => td.textContent,
            ),
          })),
        (x) => x.rows === sym && x.table.length > 0 && x.table.every((s) => s === sym),
      );
      await b.shot('dashboard-breakwatch-signals-symbol');
      return `${sym}: ${sq.length} queries with symbol=~"${sym}", table rows ${heat.table.length}; dashboard-breakwatch-signals-symbol.png`;
    });
  }

  // ---- a scratch dashboards directory: edits, a broken file, unsupported panels --------------
  await step('no page errors', async () => {
    check(log.pageErrors.length === 0, `page errors: ${log.pageErrors.join(' | ')}`);
    check(log.consoleErrors.length === 0, `console errors: ${log.consoleErrors.join(' | ')}`);
    check(b.offsite.length === 0, `requests left breakwatch: ${b.offsite.join(', ')}`);
    return `${log.requests.length} requests`;
  });

  if (EDIT_URL && EDIT_DIR) {
    // A browser of its own: each keeps its pages to one origin.
    await b.close();
    b = await openPage(EDIT_URL, shots);
    const { page } = b;
    const edit = apiClient(EDIT_URL);
    await step('an edited dashboard file shows the new panel title after a reload', async () => {
      const path = join(EDIT_DIR, 'overview.json');
      const d = JSON.parse(readFileSync(path, 'utf8'));
      const p = d.panels[0];
      await openDashboard(EDIT_URL, d.uid, panelsOf(d).length, page);
      const title = () => page.locator(`[data-panel-id="${p.id}"] [data-testid="gpanel-title"]`).textContent();
      check((await title()) === p.title, `before: ${await title()}`);
      const edited = `${p.title} (edited ${Date.now()})`;
      p.title = edited;
      writeFileSync(path, JSON.stringify(d, null, 2));
      await page.reload({ waitUntil: 'load' });
      await until('the new title', title, (t) => t === edited);
      return `panel ${p.id}: "${edited}"`;
    });

    await step('a file that is not JSON is listed with its error; an unsupported panel type says so', async () => {
      writeFileSync(join(EDIT_DIR, 'broken.json'), '{\n  "uid": "broken",\n  "title": "x"\n  "panels": []\n}\n');
      const bad = await edit.call('/api/v1/query?query=' + encodeURIComponent('sum('));
      const msg = bad.body?.error;
      check(bad.status === 400 && msg, `the API on a bad query: ${bad.status} ${bad.text}`);
      writeFileSync(
        join(EDIT_DIR, 'unsupported.json'),
        JSON.stringify({
          uid: 'e2e-unsupported',
          title: 'e2e / unsupported',
          schemaVersion: 39,
          time: { from: 'now-15m', to: 'now' },
          panels: [
            {
              id: 1,
              type: 'graph',
              title: 'An old graph',
              gridPos: { x: 0, y: 0, w: 12, h: 6 },
              targets: [],
            },
            {
              id: 2,
              type: 'stat',
              title: 'A broken query',
              gridPos: { x: 12, y: 0, w: 6, h: 6 },
              targets: [{ refId: 'A', expr: 'sum(', legendFormat: '' }],
            },
            {
              id: 3,
              type: 'stat',
              title: 'Open positions',
              gridPos: { x: 18, y: 0, w: 6, h: 6 },
              targets: [
                {
                  refId: 'A',
                  expr: 'sum(positions_open)',
                  legendFormat: 'positions',
                },
              ],
            },
          ],
        }),
      );
      await page.goto(EDIT_URL + '/dashboards', { waitUntil: 'load' });
      const err = await until(
        'broken.json listed with its error',
        () =>
          page
            .locator('[data-file="broken.json"] [data-testid="dashboard-file-error"]')
            .textContent()
            .catch(() => null),
        (t) => !!t,
      );
      check(/^broken\.json:4:\d+: /.test(err), `error "${err}" does not name broken.json:4:col`);
      await page.locator('[data-uid="e2e-unsupported"] [data-testid="dashboard-link"]').click();
      await until(
        '/d/e2e-unsupported',
        () => page.url(),
        (u) => new URL(u).pathname === '/d/e2e-unsupported',
      );
      const ps = await until(
        'the panels settle',
        () => panelStates(page),
        (x) => x.length === 3 && x[0].state === 'unsupported' && x[1].state === 'error' && x[2].state === 'data',
      );
      const box = await page.locator('[data-panel-id="1"] [data-testid="gpanel-unsupported"]').textContent();
      check(box.includes('panel type graph is not supported'), `unsupported box: ${box}`);
      check(ps[1].error.includes(msg), `the failing panel says "${ps[1].error}", the server "${msg}"`);
      await b.shot('dashboard-e2e-unsupported');
      return `"${err}"; "${box.split('.')[0]}"; "${msg}"`;
    });

    await step('no page errors in the scratch breakwatch’s page', async () => {
      // The failing query's 400 is the one error the console shows.
      const unexpected = b.log.consoleErrors.filter((e) => !/status of 400/.test(e));
      check(b.log.pageErrors.length === 0, `page errors: ${b.log.pageErrors.join(' | ')}`);
      check(unexpected.length === 0, `console errors: ${unexpected.join(' | ')}`);
      check(b.offsite.length === 0, `requests left breakwatch: ${b.offsite.join(', ')}`);
      return `${b.log.requests.length} requests`;
    });
  }
} catch (e) {
  error = e;
}
await finish(b, error);
