// The monitoring page end to end, auth off: node monitoring.mjs URL SCREENSHOT_DIR
//
// Against a breakwatch running the engine fast (the runner starts it with --speed 600 on a
// data directory that already holds a finished session), every step compares what the page
// shows with what the API answers: the page loads from the binary alone; each Monitoring
// component shows the running engine's values; choosing the past session shows that
// session's; a new event arrives over the stream; auto-refresh off sends nothing; each
// dashboard draws; Explore draws a graph and a table. Screenshots of every view go to
// SCREENSHOT_DIR.
import { apiClient, canvasInk, check, finish, near, openPage, parseShown, step, textOf, until } from './lib.mjs';

const [origin, shots] = process.argv.slice(2);
if (!origin || !shots) {
  console.error('usage: node monitoring.mjs URL SCREENSHOT_DIR');
  process.exit(2);
}

const api = apiClient(origin);
const STAGES = ['feed', 'scan', 'signal', 'confirm', 'risk', 'execute', 'manage', 'close'];
const TILES = ['cpu', 'memory', 'cycle-time', 'scan-rate', 'signal-rate', 'equity', 'positions', 'risk-budget'];

const b = await openPage(origin, shots);
const { page, log, tid, maxEventId } = b;
const lastJson = (key) => log.json.get(key)?.body;

let active, past;
let error = null;
try {
  // ---- the page comes from the binary ------------------------------------------------------
  await step('the page loads from breakwatch alone', async () => {
    const r = await api.call('/');
    check(r.status === 200, `GET /: HTTP ${r.status}`);
    const ctype = r.headers.get('content-type') ?? '';
    check(ctype.startsWith('text/html'), `GET /: Content-Type ${ctype}, want text/html`);
    check(r.text.includes('<div id="root">'), 'GET /: no <div id="root"> in the HTML');
    const csp = r.headers.get('content-security-policy') ?? '';
    check(csp.includes("default-src 'self'"), `GET /: Content-Security-Policy ${csp || 'missing'}`);
    const assets = [...r.text.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
    check(assets.length >= 2, `GET /: expected script and stylesheet under /assets/, found ${assets}`);

    const t0 = Date.now();
    const res = await page.goto(origin + '/', { waitUntil: 'load' });
    check(res.status() === 200, `page: HTTP ${res.status()}`);
    await until('the Monitoring page rendered (session panel)', () => tid('session-info').count(), (n) => n > 0, {
      timeout: 20_000,
    });
    const loadMs = Date.now() - t0;
    check((await tid('nav-monitoring').getAttribute('aria-current')) === 'page', 'Monitoring is not the current page');
    check((await page.title()) === 'Monitoring · breakwatch', `title "${await page.title()}"`);
    const bad = log.responses.filter((x) => new URL(x.url).pathname.startsWith('/assets/') && x.status !== 200);
    check(bad.length === 0, `asset answers not 200: ${JSON.stringify(bad)}`);
    check(b.offsite.length === 0, `requests left breakwatch: ${b.offsite.join(', ')}`);
    check(log.pageErrors.length === 0, `page errors: ${log.pageErrors.join(' | ')}`);
    check(log.consoleErrors.length === 0, `console errors: ${log.consoleErrors.join(' | ')}`);
    const origins = new Set(log.requests.map((x) => new URL(x.url).origin));
    return `text/html with CSP, ${assets.length} assets, rendered in ${loadMs} ms, ${log.requests.length} requests all to ${[...origins].join(', ')}`;
  }, { critical: true });

  // ---- sessions ------------------------------------------------------------------------------
  await step('the session selector lists the active and the past session', async () => {
    const all = (await api.get('/api/monitoring/sessions')).sessions;
    active = all.find((s) => s.active);
    past = all.find((s) => !s.active && s.status === 'completed');
    check(active && past, `the API lists no active plus completed session: ${JSON.stringify(all.map((s) => [s.id, s.status]))}`);
    const opts = await until(
      'the session select lists both sessions',
      () => tid('session-select').evaluate((s) => [...s.options].map((o) => ({ v: o.value, t: o.textContent, g: o.parentElement.label }))),
      (o) => o.some((x) => x.v === active.id) && o.some((x) => x.v === past.id),
    );
    const a = opts.find((x) => x.v === active.id);
    const p = opts.find((x) => x.v === past.id);
    check(a.g === 'Active' && /live/.test(a.t), `the active session's option: ${JSON.stringify(a)}`);
    check(p.g === 'Past' && /completed/.test(p.t), `the past session's option: ${JSON.stringify(p)}`);
    const value = await tid('session-select').inputValue();
    check(value === active.id, `selected ${value}, want the active session ${active.id}`);
    await until('the session panel shows the active session, running', () => textOf(page, 'session-info'), (t) =>
      t?.includes(active.id) && /running/.test(t),
    );
    return `${opts.length} options; active ${active.id.slice(0, 8)} selected, past ${past.id.slice(0, 8)} (${p.t})`;
  }, { critical: true });

  // ---- process flow --------------------------------------------------------------------------
  await step('process flow: real counts at every stage, as the API counts them', async () => {
    // The default view asks for the newest session as "current", beside the session list.
    const key = '/api/monitoring/sessions/current';
    // The page's counts equal the answer it last got, and feed and scan are under way.
    const seen = await until(
      'the process flow shows the counts of its last answer, feed and scan > 0',
      async () => {
        const counts = {};
        for (const s of STAGES) counts[s] = await tid(`stage-${s}`).getAttribute('data-count');
        const texts = {};
        for (const s of ['feed', 'scan']) texts[s] = await textOf(page, `count-${s}`);
        const answer = lastJson(key)?.process_flow?.stages;
        return { counts, texts, answer };
      },
      ({ counts, answer }) =>
        Number(counts.feed) > 0 &&
        Number(counts.scan) > 0 &&
        answer &&
        answer.every((x) => String(x.count ?? '') === counts[x.stage]),
    );
    for (const s of ['feed', 'scan']) {
      const shown = parseShown(seen.texts[s]);
      check(near(shown, Number(seen.counts[s]), 0.006), `count-${s} shows "${seen.texts[s]}" for ${seen.counts[s]}`);
    }
    check(
      lastJson(key)?.session?.id === active.id,
      `"current" answered session ${lastJson(key)?.session?.id}, not the active ${active.id}`,
    );
    const now = (await api.get(key)).process_flow.stages;
    const apiBy = Object.fromEntries(now.map((x) => [x.stage, x.count]));
    for (const s of ['feed', 'scan']) {
      const shown = Number(seen.counts[s]);
      // The page's answer is up to a refresh (and a render) older than the API's now.
      check(
        shown <= apiBy[s] && shown >= apiBy[s] / 10,
        `${s}: the page shows ${shown}, the API now ${apiBy[s]}: not the same order of magnitude`,
      );
    }
    const c = Object.fromEntries(STAGES.map((s) => [s, Number(seen.counts[s])]));
    check(c.signal >= c.confirm && c.confirm >= c.execute && c.execute >= c.close, `stage counts not a funnel: ${JSON.stringify(c)}`);
    return `feed ${c.feed} (API ${apiBy.feed}), scan ${c.scan} (API ${apiBy.scan}), signal ${c.signal} → close ${c.close}`;
  });

  // ---- real-time metrics ---------------------------------------------------------------------
  await step('real-time metrics: every tile shows the value of the last /realtime answer', async () => {
    const read = async () => {
      const v = {};
      for (const t of TILES) v[t] = await textOf(page, `realtime-${t}-value`);
      return { v, rt: lastJson('/api/monitoring/realtime'), status: await textOf(page, 'realtime-status') };
    };
    const agree = ({ v, rt }) =>
      rt &&
      TILES.every((t) => v[t] && v[t] !== '—') &&
      near(parseShown(v.cpu), rt.cpu_percent, 0.05, 0.006) &&
      near(parseShown(v.memory), rt.memory_bytes, 0.01) &&
      near(parseShown(v['cycle-time']), rt.cycle_time_ms.p95, 0.01) &&
      near(parseShown(v['scan-rate']), rt.scan_rate, 0.01) &&
      near(parseShown(v['signal-rate']), rt.signal_rate, 0.01) &&
      near(parseShown(v.equity), rt.equity, 0, 0.006) &&
      parseShown(v.positions) === rt.positions_open &&
      near(parseShown(v['risk-budget']), rt.risk_budget_remaining * 100, 0.01, 0.006);
    const { v, rt, status } = await until('the tiles show the values of the last /realtime answer', read, agree, {
      timeout: 30_000,
    });
    check(rt.engine === 'running' && rt.session_id === active.id, `realtime: engine ${rt.engine}, session ${rt.session_id}`);
    check(/Engine running/.test(status), `realtime status: ${status}`);
    const fresh = await api.get('/api/monitoring/realtime');
    check(near(fresh.memory_bytes, rt.memory_bytes, 0.5), `memory: page ${rt.memory_bytes}, API now ${fresh.memory_bytes}`);
    check(fresh.counts.cycles >= rt.counts.cycles, 'cycles went backwards');
    const lat = await tid('realtime-latency').locator('tbody tr').evaluateAll((rows) =>
      rows.map((r) => [...r.querySelectorAll('th,td')].map((c) => c.textContent.trim())),
    );
    check(lat.length === 4, `latency table has ${lat.length} rows`);
    for (const row of lat) check(row.slice(1).every((x) => parseShown(x) !== null), `latency row without values: ${row}`);
    const sparks = await tid('realtime').locator('.spark canvas').count();
    check(sparks >= 6, `only ${sparks} sparklines drawn`);
    return TILES.map((t) => `${t} ${v[t]}`).join(', ') + `; P99 engine cycle ${lat[0][4]}; ${sparks} sparklines`;
  });

  // ---- event feed -----------------------------------------------------------------------------
  await step('event feed: the newest events of the session, newest first', async () => {
    const items = await until(
      'the feed lists events',
      () => page.$$eval('[data-testid="event-item"]', (els) => els.map((e) => ({ id: Number(e.dataset.eventId), type: e.dataset.type }))),
      (x) => x.length >= 20,
    );
    for (let i = 1; i < items.length; i++)
      check(items[i - 1].id > items[i].id, `feed not newest first at ${items[i - 1].id}, ${items[i].id}`);
    const newest = (await api.get(`/api/monitoring/events?session=${active.id}&severity=info&limit=1`)).events[0];
    check(items[0].id <= newest.id && items[0].id > newest.id - 2000, `feed's newest ${items[0].id}, API's ${newest.id}`);
    const some = (await api.get(`/api/monitoring/events?session=${active.id}&before=${items[5].id + 1}&limit=1`)).events[0];
    check(some.id === items[5].id && some.type === items[5].type, `event ${items[5].id}: page ${items[5].type}, API ${JSON.stringify(some)}`);
    const types = new Set(items.map((x) => x.type));
    check(types.size >= 3, `only types ${[...types]}`);
    check((await textOf(page, 'event-stream-status')) === 'live', `stream status: ${await textOf(page, 'event-stream-status')}`);
    return `${items.length} events, ids ${items.at(-1).id}..${items[0].id} (API newest ${newest.id}), types ${[...types].join(', ')}; stream live`;
  });

  // ---- state machine --------------------------------------------------------------------------
  await step('state machine: every state, the current one highlighted, edges with their counts', async () => {
    const key = '/api/monitoring/state-machine?session=current';
    const read = async () => {
      const sm = lastJson(key);
      const nodes = await page.$$eval('[data-testid^="state-node-"]', (els) =>
        els.map((e) => ({ name: e.dataset.testid.slice(11), current: e.getAttribute('aria-current') === 'true' })),
      );
      const edges = await page.$$eval('[data-testid^="state-edge-"]', (els) =>
        els.map((e) => ({ id: e.dataset.testid.slice(11), label: e.querySelector('text')?.textContent })),
      );
      return { sm, nodes, edges };
    };
    const agree = ({ sm, nodes, edges }) =>
      sm &&
      sm.states.every((s) => nodes.some((n) => n.name === s.name)) &&
      nodes.filter((n) => n.current).map((n) => n.name).join() === sm.current &&
      sm.edges.every((e) => {
        const shown = edges.find((x) => x.id === `${e.from}-${e.to}`);
        return shown && near(parseShown(shown.label), e.count, 0.006);
      });
    const { sm, nodes, edges } = await until('the state machine shows its last answer', read, agree);
    check(sm.session_id === active.id, `state machine of ${sm.session_id}`);
    const total = sm.edges.reduce((n, e) => n + e.count, 0);
    check(total > 0 && sm.edges.filter((e) => e.count > 0).length >= 3, `edge counts ${JSON.stringify(sm.edges)}`);
    const now = await api.get('/api/monitoring/state-machine');
    const nowTotal = now.edges.reduce((n, e) => n + e.count, 0);
    check(nowTotal >= total && nowTotal < total + 2000, `transitions: page ${total}, API now ${nowTotal}`);
    return `${nodes.length} states (${sm.states.map((s) => s.name).join(', ')}), current ${sm.current}; ${edges.length} edges, ${total} transitions (API now ${nowTotal})`;
  });

  // ---- progress ----------------------------------------------------------------------------------
  await step('progress: the milestones reached, as the API has them', async () => {
    // The default view asks for the newest session as "current", beside the session list.
    const key = '/api/monitoring/sessions/current';
    const { reached, want } = await until(
      'the milestones shown reached are those of the last answer',
      async () => ({
        reached: await tid('progress-milestones').locator('li[data-done="true"]').evaluateAll((l) => l.map((e) => e.dataset.step)),
        want: lastJson(key)?.progress.session.milestones.filter((m) => m.sim_ms !== null).map((m) => m.name),
      }),
      ({ reached, want }) => want && reached.join() === want.join() && reached.length >= 3,
    );
    check(reached.includes('session_started') && reached.includes('first_scan'), `reached: ${reached}`);
    check(!reached.includes('session_ended'), 'a running session shows session_ended reached');
    const trade = await textOf(page, 'progress-trade');
    const t = lastJson(key).progress.trade;
    check(t && trade.includes(t.symbol), `current trade: page "${trade}", API ${JSON.stringify(t)}`);
    return `${reached.length} reached (${reached.join(', ')}); current trade ${trade}`;
  });

  // ---- notifications -------------------------------------------------------------------------------
  await step('a notification toast for a notable event', async () => {
    check((await tid('notifications').count()) === 1, 'no notifications region');
    const toast = await until(
      'a toast appears (losing closes and rejected orders are frequent at this speed)',
      async () => {
        const t = tid('toast').first();
        if (!(await t.count())) return null;
        return { text: (await t.locator('.toast-text').textContent()).trim(), count: Number(await t.getAttribute('data-count')) };
      },
      (x) => x && x.count >= 1,
      { timeout: 45_000, every: 200 },
    );
    const m = toast.text.match(/^(?:(\d+) × )?(.+?)(?: \((.+)\))?$/);
    const title = m[2];
    const symbols = (m[3] ?? '').replace(/ \+\d+$/, '').split(', ').filter(Boolean);
    if (title === 'position closed at a loss' || title === 'order rejected') {
      const type = title === 'order rejected' ? 'order' : 'close';
      const events = (await api.get(`/api/monitoring/events?type=${type}&severity=warning&limit=1000`)).events;
      for (const s of symbols)
        check(events.some((e) => e.symbol === s), `toast "${toast.text}": the API has no ${type} warning for ${s}`);
    }
    await b.shot('monitoring');
    return `"${toast.text}" (count ${toast.count}), backed by the API's events; screenshot monitoring.png`;
  });

  // ---- another session ---------------------------------------------------------------------------
  await step('choosing the past session shows its values', async () => {
    await tid('session-select').selectOption(past.id);
    const want = await api.get(`/api/monitoring/sessions/${past.id}`);
    const smWant = await api.get(`/api/monitoring/state-machine?session=${past.id}`);
    const newest = (await api.get(`/api/monitoring/events?session=${past.id}&severity=info&limit=1`)).events[0];
    const read = async () => ({
      info: await textOf(page, 'session-info'),
      counts: Object.fromEntries(
        await Promise.all(STAGES.map(async (s) => [s, await tid(`stage-${s}`).getAttribute('data-count')])),
      ),
      current: await page.$$eval('[data-testid^="state-node-"][aria-current="true"]', (e) => e.map((x) => x.dataset.testid.slice(11)).join()),
      top: await maxEventId(),
      ended: await tid('progress-milestones').locator('li[data-step="session_ended"]').getAttribute('data-done'),
      url: page.url(),
    });
    const byStage = Object.fromEntries(want.process_flow.stages.map((x) => [x.stage, String(x.count ?? '')]));
    const v = await until(
      "the page shows the past session's info, flow, state machine, progress and events",
      read,
      (x) =>
        x.info?.includes(past.id) &&
        /completed/.test(x.info) &&
        STAGES.every((s) => x.counts[s] === byStage[s]) &&
        x.current === smWant.current &&
        x.top === newest.id &&
        x.ended === 'true',
    );
    check(new URL(v.url).searchParams.get('session') === past.id, `URL ${v.url} does not name the session`);
    const sum = past.summary;
    check(
      Number(v.counts.feed) === sum.messages && Number(v.counts.scan) === sum.scans,
      `feed/scan ${v.counts.feed}/${v.counts.scan}, summary ${sum.messages}/${sum.scans}`,
    );
    check(/Ended in/.test(await textOf(page, 'state-machine')), 'the state machine does not say the session ended');
    // An ended session no longer changes: its views are not polled.
    const t0 = Date.now();
    await page.waitForTimeout(3000);
    const repolled = b
      .apiRequestsSince(t0, /^\/api\/monitoring\/(sessions\/|state-machine)/)
      .filter((r) => r.url.includes(past.id));
    check(repolled.length === 0, `the ended session was polled: ${repolled.map((r) => r.url).join(', ')}`);
    await b.shot('monitoring-past-session');
    await tid('session-select').selectOption(active.id);
    await until('back on the active session', () => textOf(page, 'session-info'), (t) => t?.includes(active.id) && /running/.test(t));
    return `feed ${v.counts.feed} = summary messages, scan ${v.counts.scan} = summary scans, signal ${v.counts.signal} → close ${v.counts.close} as the API; ended in ${v.current}; newest event ${v.top}; screenshot monitoring-past-session.png`;
  });

  // ---- live events ---------------------------------------------------------------------------
  await step('a new event arrives in the feed live, over the stream', async () => {
    // A fresh page, so the feed holds few live events (nothing is trimmed meanwhile).
    await page.goto(origin + '/');
    await until('the stream is live and the feed has events', async () => ({
      status: await textOf(page, 'event-stream-status'),
      n: await tid('event-item').count(),
    }), (x) => x.status === 'live' && x.n > 0);
    const before = await maxEventId();
    const t0 = Date.now();
    const after = await until('an event newer than the newest shown arrives', maxEventId, (m) => m > before, {
      timeout: 20_000,
      every: 100,
    });
    const ms = Date.now() - t0;
    const polls = b.apiRequestsSince(t0, /^\/api\/monitoring\/events(\?|$)/);
    check(polls.length === 0, `the feed polled /events meanwhile: ${polls.map((r) => r.url).join(', ')}`);
    const streams = log.requests.filter((r) => new URL(r.url).pathname === '/api/monitoring/events/stream' && r.t < t0);
    check(streams.length >= 1, 'no event stream was opened');
    const ev = (await api.get(`/api/monitoring/events?before=${after + 1}&limit=1`)).events[0];
    const row = tid('event-item').and(page.locator(`[data-event-id="${after}"]`));
    check(ev.id === after && (await row.getAttribute('data-type')) === ev.type, `event ${after}: API ${JSON.stringify(ev)}`);
    const url = new URL(streams.at(-1).url);
    return `event ${after} (${ev.type}) after ${before}, ${ms} ms later, no reload, no /events request; stream ${url.pathname}${url.search}`;
  });

  // ---- auto-refresh --------------------------------------------------------------------------
  await step('auto-refresh off: no request at all for 5 s; on again: polling and the stream resume', async () => {
    const sw = tid('auto-refresh');
    check((await sw.getAttribute('aria-checked')) === 'true', 'auto-refresh is not on by default');
    await sw.click();
    await until('the switch is off and the feed paused', async () => ({
      checked: await sw.getAttribute('aria-checked'),
      status: await textOf(page, 'event-stream-status'),
    }), (x) => x.checked === 'false' && x.status === 'paused');
    await page.waitForTimeout(600); // the feed's last flush (0.5 s) and answers under way
    const t0 = Date.now();
    const shownBefore = await maxEventId();
    const apiBefore = (await api.get('/api/monitoring/events?limit=1')).events[0].id;
    await page.waitForTimeout(5000);
    const made = b.apiRequestsSince(t0);
    check(made.length === 0, `${made.length} requests while auto-refresh was off: ${made.map((r) => r.url).slice(0, 5).join(', ')}`);
    const shownAfter = await maxEventId();
    const apiAfter = (await api.get('/api/monitoring/events?limit=1')).events[0].id;
    check(shownAfter === shownBefore, `the feed changed while paused: ${shownBefore} → ${shownAfter}`);
    check(apiAfter > apiBefore, `the engine made no events in 5 s (${apiBefore} → ${apiAfter})`);

    const t1 = Date.now();
    await sw.click();
    await until('the switch is on and the stream live', async () => ({
      checked: await sw.getAttribute('aria-checked'),
      status: await textOf(page, 'event-stream-status'),
    }), (x) => x.checked === 'true' && x.status === 'live');
    const resumed = await until(
      'polling resumes (/realtime asked twice)',
      async () => b.apiRequestsSince(t1, /^\/api\/monitoring\/realtime/).length,
      (n) => n >= 2,
      { timeout: 10_000 },
    );
    const stream = b.apiRequestsSince(t1, /^\/api\/monitoring\/events\/stream/);
    check(stream.length >= 1, 'the stream was not reopened');
    const last = new URL(stream[0].url).searchParams.get('last_event_id');
    // After the newest event the page had seen: at least the newest it shows, at most the
    // newest there was when it paused.
    check(
      Number(last) >= shownBefore && Number(last) <= apiBefore,
      `the stream resumed after ${last}, not after the newest seen (${shownBefore}..${apiBefore})`,
    );
    const top = await until('the events made while paused arrive', maxEventId, (m) => m >= apiAfter, { timeout: 15_000 });
    return `0 requests in 5 s off (the engine made ${apiAfter - apiBefore} events meanwhile); on: ${resumed} /realtime requests, stream resumed after ${last}, feed now at ${top}`;
  });

  // ---- dashboards -------------------------------------------------------------------------------
  await step('each dashboard draws data', async () => {
    await tid('nav-dashboards').click();
    await until('the Dashboards page', () => page.title(), (t) => t === 'Dashboards · breakwatch');
    await tid('range-5m').click();
    await until('the range is the last 5 minutes', () => textOf(page, 'range-label'), (t) => t === 'Last 5m');
    const want = {
      'dashboard-state-timeline': 300,
      'heatmap-symbol': 500,
      'heatmap-regime': 300,
      'latency-engine_cycle_time': 150,
      'latency-market_scan_duration': 150,
      'latency-trade_execution_duration': 150,
      'latency-websocket_message_processing': 150,
      'dashboard-memory': 100,
    };
    const got = {};
    for (const [id, min] of Object.entries(want)) {
      const c = await until(
        `${id} draws at least ${min} coloured pixels on each of its charts`,
        () => canvasInk(page, id),
        (cs) => cs && cs.length >= 1 && cs.every((x) => x.ink >= min) && (id !== 'dashboard-memory' || cs.length === 2),
        { timeout: 30_000 },
      );
      got[id] = c.map((x) => x.ink).join('+');
    }
    for (const id of ['dashboard-state-timeline', 'dashboard-signal-heatmap', 'dashboard-latency', 'dashboard-memory']) {
      const empty = await tid(id).locator('[data-testid="state-empty"], [data-testid="state-error"]').count();
      check(empty === 0, `${id} shows an empty or error state`);
    }
    const rows = await tid('state-transition-counts').locator('tbody tr').evaluateAll((r) =>
      r.map((x) => [x.cells[0].textContent.trim(), Number(x.cells[1].textContent)]),
    );
    check(rows.length >= 3 && rows.every(([, n]) => n > 0), `transition counts: ${JSON.stringify(rows)}`);
    const growth = await textOf(page, 'memory-growth');
    check(/MiB\/h/.test(growth), `memory growth: ${growth}`);
    await b.shot('dashboards');
    return `coloured pixels ${Object.entries(got).map(([k, v]) => `${k.replace(/^(dashboard|latency|heatmap)-/, '')} ${v}`).join(', ')}; ${rows.length} transition kinds (${rows[0][0]} ${rows[0][1]}); ${growth}; screenshot dashboards.png`;
  });

  await step('dragging across a chart zooms every chart to that range', async () => {
    const over = tid('dashboard-state-timeline').locator('.u-over').first();
    const box = await over.boundingBox();
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.8, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.9, y, { steps: 5 });
    await page.mouse.move(box.x + box.width * 0.99, y, { steps: 5 });
    await page.mouse.up();
    const label = await until('the range is zoomed', () => textOf(page, 'range-label'), (t) => t && t !== 'Last 5m');
    check(await tid('zoom-reset').isEnabled(), 'Reset zoom is not enabled');
    const ink = await until(
      'the zoomed state timeline and latency chart draw',
      async () => [...(await canvasInk(page, 'dashboard-state-timeline')), ...(await canvasInk(page, 'latency-engine_cycle_time'))],
      (cs) => cs.length === 2 && cs[0].ink >= 300 && cs[1].ink >= 150,
    );
    await tid('zoom-reset').click();
    await until('zoom reset', () => textOf(page, 'range-label'), (t) => t === 'Last 5m');
    return `zoomed to ${label}; state timeline ${ink[0].ink}, cycle time ${ink[1].ink} coloured pixels; reset`;
  });

  // ---- explore ---------------------------------------------------------------------------------
  await step('Explore: a query draws a graph (and an all-NaN one draws none)', async () => {
    await tid('nav-explore').click();
    await until('the Explore page', () => page.title(), (t) => t === 'Explore · breakwatch');
    const run = async (q) => {
      await tid('explore-query').fill(q);
      await tid('explore-run').click();
    };
    // An empty chart: the same axes and grid, no line; its coloured pixels are the baseline.
    await run('vector(0) / 0');
    await until('the NaN query is drawn', () => textOf(page, 'explore-graph'), (t) => /1 series/.test(t ?? ''));
    const base = (await canvasInk(page, 'explore-graph'))[0];
    check(base && base.ink < 20, `an empty chart has ${base?.ink} coloured pixels`);
    const q = 'rate(engine_cycles_total[1m])';
    await run(q);
    const cs = await until(
      `${q} draws a line`,
      () => canvasInk(page, 'explore-graph'),
      (c) => c && c.length === 1 && c[0].ink >= Math.max(150, 10 * base.ink),
    );
    const end = Date.now() / 1000;
    const r = await api.get(`/api/v1/query_range?query=${encodeURIComponent(q)}&start=${end - 300}&end=${end}&step=5`);
    const text = await textOf(page, 'explore-graph');
    const n = Number(text.match(/(\d+) series/)?.[1]);
    check(n === r.data.result.length && n >= 1, `the page says ${n} series, the API ${r.data.result.length}`);
    check(new URL(page.url()).searchParams.get('q') === q, `URL ${page.url()} does not hold the query`);
    await b.shot('explore-graph');
    return `${q}: ${n} series, ${cs[0].ink} coloured pixels (empty chart: ${base.ink}); screenshot explore-graph.png`;
  });

  await step('Explore: the table tab shows the rows', async () => {
    await tid('explore-tab-table').click();
    const rows = await until(
      'the result table has rows',
      () => page.$$eval('[data-testid="explore-result-table"] tbody tr', (r) => r.map((x) => [x.cells[0].textContent, x.cells[1].textContent])),
      (r) => r.length >= 1,
    );
    const want = await api.get(`/api/v1/query?query=${encodeURIComponent('rate(engine_cycles_total[1m])')}`);
    const v = Number(rows[0][1]);
    const a = Number(want.data.result[0].value[1]);
    check(rows.length === want.data.result.length, `${rows.length} rows, the API ${want.data.result.length}`);
    check(v > 0 && near(v, a, 0.5), `table value ${v}, the API's ${a}`);
    await b.shot('explore-table');
    return `${rows.length} row: ${rows[0][0]} = ${rows[0][1]} (API ${a}); screenshot explore-table.png`;
  });

  await step('no console error, no page error, no request off breakwatch, no failed request', async () => {
    check(b.offsite.length === 0, `requests left breakwatch: ${b.offsite.join(', ')}`);
    check(log.pageErrors.length === 0, `page errors: ${log.pageErrors.join(' | ')}`);
    check(log.consoleErrors.length === 0, `console errors: ${log.consoleErrors.join(' | ')}`);
    const failed = log.responses.filter((r) => r.status >= 400);
    check(failed.length === 0, `failed requests: ${failed.map((r) => `${r.status} ${r.url}`).slice(0, 5).join(', ')}`);
    const apiCount = log.requests.filter((r) => new URL(r.url).pathname.startsWith('/api/')).length;
    return `${log.requests.length} requests (${apiCount} to the API), all answered`;
  });
} catch (e) {
  error = e;
}
await finish(b, error);
