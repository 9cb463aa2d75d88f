// Alerting on the page, auth on: node alerts.mjs URL SCREENSHOT_DIR, with the tokens and the
// rule file to change in the environment (BW_VIEWER_TOKEN, BW_VIEWER_NAME, BW_EDITOR_TOKEN,
// BW_EDITOR_NAME, BW_LATE_RULES: a rule file of the configuration whose alert does not fire).
//
// Against a breakwatch evaluating rules every second (test_web_alerts.sh): alerts already
// firing when the page loads are counted on the "Alerts" tab but make no toast; an alert that
// starts firing later (the late rule file rewritten and reloaded) makes a toast with its
// summary; a viewer gets no "Acknowledge" there nor in the Alerts view; an editor acknowledges
// from the toast, and the toast, the list and the API all name the editor; the editor silences
// an alert from its "Silence…" and the silence is in /api/silences with the alert's labels as
// matchers; the Rules section shows the rules' states as /api/v1/rules has them; a bad rule
// file reloaded from the page shows the server's error; the history, the receivers and a test
// notification; auto-refresh off sends nothing.
import { readFileSync, writeFileSync } from 'node:fs';
import { T, apiClient, check, finish, openPage, step, textOf, until } from './lib.mjs';

const [origin, shots] = process.argv.slice(2);
const {
  BW_VIEWER_TOKEN: viewerTok,
  BW_VIEWER_NAME: viewerName,
  BW_EDITOR_TOKEN: editorTok,
  BW_EDITOR_NAME: editorName,
  BW_LATE_RULES: lateRules,
} = process.env;
if (!origin || !shots || !viewerTok || !viewerName || !editorTok || !editorName || !lateRules) {
  console.error(
    'usage: BW_VIEWER_TOKEN=… BW_VIEWER_NAME=… BW_EDITOR_TOKEN=… BW_EDITOR_NAME=… BW_LATE_RULES=FILE node alerts.mjs URL SCREENSHOT_DIR',
  );
  process.exit(2);
}

const LATE = 'TestLateFiring';
const ALWAYS = 'TestAlwaysFiring';
const MEMORY = 'EngineMemoryHigh';
// The late rule's summary template is "late alert at {{ $value }}" and its expression
// vector(7): what the page must show, worked out here.
const LATE_SUMMARY = 'late alert at 7';

const api = apiClient(origin, editorTok);
const b = await openPage(origin, shots);
const { page, log, tid } = b;

const alertsNow = async (state = 'firing,pending') => (await api.get(`/api/alerts?state=${state}`)).alerts;
const firingNames = async () => (await alertsNow('firing')).map((a) => a.labels.alertname);

async function signIn(token, role, name) {
  await until('the sign-in form is open', () => tid('signin-form').isVisible(), (v) => v);
  await tid('signin-token').fill(token);
  await tid('signin-submit').click();
  await until('the sign-in form closes', () => tid('signin-form').count(), (n) => n === 0);
  await until(
    `the role badge says ${name}, ${role}`,
    async () => ({ role: await tid('role-badge').getAttribute('data-role'), text: await textOf(page, 'role-badge') }),
    (x) => x.role === role && x.text.includes(name),
  );
}

/** The toasts of alerts: alertname, title, summary, acknowledgment, whether it offers
 *  "Acknowledge", its level. */
const alertToasts = () =>
  page.$$eval('[data-testid="toast"][data-alertname]', (els) =>
    els.map((e) => ({
      alertname: e.dataset.alertname,
      title: e.querySelector('[data-testid="toast-title"]')?.textContent ?? null,
      summary: e.querySelector('[data-testid="toast-summary"]')?.textContent ?? null,
      ack: e.querySelector('[data-testid="toast-ack"]')?.textContent ?? null,
      canAck: !!e.querySelector('[data-testid="toast-acknowledge"]'),
      link: e.querySelector('[data-testid="toast-alerts-link"]')?.getAttribute('href') ?? null,
      level: [...e.classList].find((c) => c.startsWith('level-')),
    })),
  );
const lateToast = async () => (await alertToasts()).find((t) => t.alertname === LATE);

/** The alert items the Alerts view shows: fingerprint, state, alertname, ack text, buttons. */
const alertItems = () =>
  page.$$eval('[data-testid="alert-item"]', (els) =>
    els.map((e) => ({
      fp: e.dataset.fingerprint,
      state: e.dataset.state,
      alertname: e.dataset.alertname,
      summary: e.querySelector('[data-testid="alert-summary"]')?.textContent ?? null,
      ack: e.querySelector('[data-testid="alert-ack"]')?.textContent ?? null,
      buttons: [...e.querySelectorAll('button[data-testid]')].map((x) => x.dataset.testid),
    })),
  );

const rulesShown = () =>
  page.$$eval('[data-testid="rule-row"]', (els) =>
    els.map((e) => ({
      name: e.dataset.rule,
      state: e.dataset.state,
      health: e.dataset.health,
      error: e.querySelector('.rule-error')?.textContent ?? '',
    })),
  );

async function openTab(id) {
  await tid(`alerts-tab-${id}`).click();
  await until(`the ${id} tab is shown`, () => tid(`alerts-panel-${id}`).count(), (n) => n === 1);
}

const lateOriginal = readFileSync(lateRules, 'utf8');
const lateFiring = lateOriginal.replace(/expr: .*/, 'expr: vector(7)');
let error = null;
try {
  await step('before the page: the always-firing rule and the engine-memory rule are firing', async () => {
    // Each alert carries its rule's name as the label alertname, as in Prometheus.
    const firing = await until(
      'both alerts fire (API), each labelled with its alertname',
      () => alertsNow('firing'),
      (as) => as.length >= 2 && as.every((a) => a.labels.alertname),
      { timeout: 30_000 },
    );
    const names = firing.map((a) => a.labels.alertname);
    check(names.includes(ALWAYS) && names.includes(MEMORY), `firing: ${names}`);
    check(!names.includes(LATE), `${LATE} fires before its rule changed`);
    check(lateFiring !== lateOriginal, `the late rule file has no "expr:" line to change: ${lateOriginal}`);
    return `firing: ${names.join(', ')}`;
  }, { critical: true });

  await step('a viewer signs in: the firing count is on the Alerts tab, and what already fired makes no toast', async () => {
    await page.goto(origin + '/');
    await signIn(viewerTok, 'viewer', viewerName);
    const want = (await api.get('/api/alerts?state=firing,pending')).counts.firing;
    const shown = await until(
      'the Alerts tab shows the firing count',
      () => page.$eval('[data-testid="alerts-badge"]', (e) => Number(e.dataset.count)).catch(() => null),
      (n) => n === want,
    );
    // A few polls later, still no toast for the alerts that were firing on arrival.
    await page.waitForTimeout(T(3000));
    const toasts = await alertToasts();
    check(toasts.length === 0, `toasts for alerts already firing: ${JSON.stringify(toasts)}`);
    const polls = log.requests.filter((r) => new URL(r.url).pathname === '/api/alerts');
    check(polls.length >= 2, `the page polled /api/alerts ${polls.length} times`);
    await b.shot('alerts-first-load');
    return `badge ${shown} (API counts.firing ${want}), no toast after ${polls.length} polls; screenshot alerts-first-load.png`;
  }, { critical: true });

  await step('an alert that starts firing makes a toast with its summary; the viewer gets no "Acknowledge"', async () => {
    writeFileSync(lateRules, lateFiring);
    const r = await api.call('/api/rules/reload', { method: 'POST', body: {} });
    check(r.status === 200 && r.body?.status === 'success', `POST /api/rules/reload: ${r.status} ${r.text}`);
    const t0 = Date.now();
    const toast = await until('the toast for the new alert appears', lateToast, (t) => !!t, { timeout: 20_000 });
    const ms = Date.now() - t0;
    const a = (await alertsNow('firing')).find((x) => x.labels.alertname === LATE);
    check(a, `${LATE} is not firing in the API`);
    check(a.annotations.summary === LATE_SUMMARY, `the API's summary "${a.annotations.summary}", expected "${LATE_SUMMARY}"`);
    check(toast.summary === LATE_SUMMARY, `the toast's summary "${toast.summary}"`);
    check(toast.title === `${LATE} firing`, `the toast's title "${toast.title}"`);
    check(toast.level === 'level-critical', `the toast's level ${toast.level} for severity ${a.labels.severity}`);
    check(!toast.canAck, 'a viewer is offered "Acknowledge"');
    check(toast.link === '/alerts', `the toast links to ${toast.link}`);
    const others = (await alertToasts()).filter((t) => t.alertname !== LATE);
    check(others.length === 0, `toasts for alerts that were already firing: ${JSON.stringify(others)}`);
    await b.shot('alerts-toast-viewer');
    return `"${toast.title}: ${toast.summary}" ${ms} ms after the reload; no Acknowledge for the viewer; screenshot alerts-toast-viewer.png`;
  }, { critical: true });

  await step('the Alerts view as a viewer: firing alerts with labels and summaries, no editor actions', async () => {
    await tid('toast-alerts-link').first().click();
    await until('the Alerts view', () => page.evaluate(() => location.pathname), (p) => p === '/alerts');
    check((await tid('nav-alerts').getAttribute('aria-current')) === 'page', 'Alerts is not the current page');
    check((await page.title()) === 'Alerts · breakwatch', `title "${await page.title()}"`);
    const api_ = await alertsNow('firing');
    const items = await until(
      'the firing alerts are listed as the API has them',
      alertItems,
      (xs) => xs.length === api_.length && api_.every((a) => xs.some((x) => x.fp === a.fingerprint)),
    );
    const late = items.find((x) => x.alertname === LATE);
    check(late?.summary === LATE_SUMMARY && late.state === 'firing', `the late alert's item: ${JSON.stringify(late)}`);
    check(items.every((x) => x.buttons.length === 0), `a viewer has buttons: ${JSON.stringify(items.map((x) => x.buttons))}`);
    check((await tid('rules-reload').count()) === 0, 'a viewer is offered "Reload rules"');
    const count = Number(await textOf(page, 'alerts-count-firing'));
    check(count === api_.length, `the Firing tab says ${count}, the API has ${api_.length}`);
    await b.shot('alerts-viewer');
    return `${items.length} firing alerts, as the API; no actions; screenshot alerts-viewer.png`;
  });

  await step('the Rules section lists the rules with their states as /api/v1/rules has them', async () => {
    await openTab('rules');
    const want = (await api.get('/api/v1/rules')).data.groups.flatMap((g) => g.rules);
    const rows = await until(
      'the rules are listed, the always-firing one firing',
      rulesShown,
      (rs) => rs.length === want.length && rs.find((r) => r.name === ALWAYS)?.state === 'firing',
    );
    for (const w of want.filter((r) => r.type === 'alerting')) {
      const r = rows.find((x) => x.name === w.name);
      check(r && r.state === w.state && r.health === w.health, `rule ${w.name}: page ${JSON.stringify(r)}, API ${w.state}/${w.health}`);
    }
    await b.shot('alerts-rules');
    return rows.map((r) => `${r.name} ${r.state || '-'} ${r.health}`).join('; ') + '; screenshot alerts-rules.png';
  });

  await step('an editor acknowledges from the toast: the toast, the list and the API name the editor', async () => {
    await openTab('firing');
    await tid('signout').click();
    await signIn(editorTok, 'editor', editorName);
    const btn = page.locator('[data-testid="toast"][data-alertname="TestLateFiring"] [data-testid="toast-acknowledge"]');
    await until('the toast offers "Acknowledge" to the editor', () => btn.count(), (n) => n === 1);
    const answered = page.waitForResponse(
      (r) => /^\/api\/alerts\/[0-9a-f]+\/ack$/.test(new URL(r.url()).pathname) && r.request().method() === 'POST',
      { timeout: T(20_000) },
    );
    await btn.click();
    const post = await answered;
    check(post.status() === 200, `POST …/ack: HTTP ${post.status()} ${await post.text()}`);
    check(post.request().headers().authorization === `Bearer ${editorTok}`, 'the ack was not sent with the editor’s token');
    const toast = await until('the toast says who acknowledged', lateToast, (t) => t?.ack === `acknowledged by ${editorName}`);
    check(!toast.canAck, 'the toast still offers "Acknowledge"');
    const a = (await alertsNow()).find((x) => x.labels.alertname === LATE);
    check(a.ack?.by === editorName, `the API's ack: ${JSON.stringify(a.ack)}`);
    check(new URL(post.url()).pathname === `/api/alerts/${a.fingerprint}/ack`, `acknowledged ${post.url()}`);
    const item = await until(
      'the list shows the acknowledgment',
      async () => (await alertItems()).find((x) => x.fp === a.fingerprint),
      (x) => x?.ack?.startsWith(`acknowledged by ${editorName}`),
    );
    check(item.buttons.includes('alert-unacknowledge'), `the editor's buttons: ${item.buttons}`);
    await b.shot('alerts-acknowledged');
    return `toast "${toast.ack}", list "${item.ack}", API ack.by "${a.ack.by}"; screenshot alerts-acknowledged.png`;
  }, { critical: true });

  await step('an editor silences an alert from the page: the silence is in /api/silences', async () => {
    const target = (await alertsNow('firing')).find((x) => x.labels.alertname === ALWAYS);
    await page.locator(`[data-testid="alert-item"][data-fingerprint="${target.fingerprint}"] [data-testid="alert-silence"]`).click();
    await until('the silence form opens', () => tid('silence-form').isVisible(), (v) => v);
    const text = await tid('silence-matchers').inputValue();
    check(text.includes(`alertname="${ALWAYS}"`), `the matchers are not prefilled: ${text}`);
    const caught = await textOf(page, 'silence-caught');
    check(caught === 'Matches 1 of the pending and firing alerts now.', `the form says "${caught}"`);
    await tid('silence-duration').selectOption('1h');
    const comment = `e2e silence ${Date.now()}`;
    await tid('silence-comment').fill(comment);
    await b.shot('alerts-silence-form');
    const t0 = Date.now();
    await tid('silence-submit').click();
    await until('the form closes', () => tid('silence-form').count(), (n) => n === 0);
    const s = (await api.get('/api/silences')).silences.find((x) => x.comment === comment);
    check(s, 'the silence is not in /api/silences');
    check(s.created_by === editorName && s.state === 'active', `silence ${JSON.stringify(s)}`);
    const want = Object.entries(target.labels).map(([k, v]) => `${k}=${v}`).sort();
    const got = s.matchers.map((m) => `${m.name}${m.isEqual ? '' : '!'}${m.isRegex ? '~' : ''}=${m.value}`).sort();
    check(JSON.stringify(got) === JSON.stringify(want), `matchers ${got}, the alert's labels ${want}`);
    const hours = (s.ends_ms - s.starts_ms) / 3600e3;
    check(Math.abs(hours - 1) < 0.01, `the silence lasts ${hours} h, 1 h was chosen`);
    await until('the alert is silenced by it (API)', async () => (await alertsNow()).find((x) => x.fingerprint === target.fingerprint)?.silenced_by, (id) => id === s.id);
    await openTab('silences');
    await until('the Silences section lists it', () => page.locator(`[data-testid="silence-row"][data-silence-id="${s.id}"]`).count(), (n) => n === 1);
    await b.shot('alerts-silences');
    return `silence ${s.id.slice(0, 8)} by ${s.created_by} for 1 h, matchers ${got.join(', ')}, listed ${Date.now() - t0} ms after the click; screenshot alerts-silences.png`;
  });

  await step('a bad rule file reloaded from the page: the server’s error is shown, the old rules keep running', async () => {
    await openTab('rules');
    writeFileSync(lateRules, lateFiring.replace(/expr: .*/, 'expr: vector(1) +'));
    try {
      const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/rules/reload', { timeout: T(20_000) });
      await tid('rules-reload').click();
      const res = await answered;
      const body = await res.json();
      check(res.status() === 400 && body.errorType === 'bad_data', `reload: ${res.status()} ${JSON.stringify(body)}`);
      const shown = await until('the error is shown', () => textOf(page, 'rules-reload-error'), (t) => !!t);
      check(shown === body.error, `the page says "${shown}", the server "${body.error}"`);
      check(shown.includes(lateRules.split('/').pop()), `the error does not name the file: ${shown}`);
      const names = await firingNames();
      check(names.includes(LATE), `the old rules stopped: firing ${names}`);
      await b.shot('alerts-reload-error');
      return `"${shown}"; ${LATE} still firing; screenshot alerts-reload-error.png`;
    } finally {
      writeFileSync(lateRules, lateFiring);
    }
  });

  await step('the History section lists the acknowledgment and the transitions', async () => {
    await openTab('history');
    const rows = await until(
      'history rows include the ack',
      () => page.$$eval('[data-testid="history-row"]', (els) => els.map((e) => ({ kind: e.dataset.kind, text: e.textContent }))),
      (rs) => rs.some((r) => r.kind === 'ack' && r.text.includes(editorName)) && rs.some((r) => r.kind === 'transition'),
    );
    const api_ = (await api.get('/api/alerts/history?limit=50')).history;
    check(api_.some((h) => h.kind === 'ack' && h.who === editorName && h.alertname === LATE), 'the API has no ack row');
    await b.shot('alerts-history');
    return `${rows.length} rows (${[...new Set(rows.map((r) => r.kind))].join(', ')}); screenshot alerts-history.png`;
  });

  await step('the Receivers section, and a test notification sent from the page', async () => {
    await openTab('receivers');
    const name = (await api.get('/api/alerts/receivers')).receivers[0]?.name;
    check(name, 'no receiver configured');
    const row = page.locator(`[data-testid="receiver-row"][data-receiver="${name}"]`);
    await until('the receiver is listed', () => row.count(), (n) => n === 1);
    const before = (await api.get('/api/alerts/receivers')).receivers.find((r) => r.name === name).last_attempt_ms ?? 0;
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/alerts/receivers/${name}/test`, {
      timeout: T(20_000),
    });
    await row.locator('[data-testid="receiver-test"]').click();
    const res = await answered;
    check(res.status() === 202, `test notification: HTTP ${res.status()} ${await res.text()}`);
    const r = await until(
      'the receiver made a new attempt (API)',
      async () => (await api.get('/api/alerts/receivers')).receivers.find((x) => x.name === name),
      (x) => (x.last_attempt_ms ?? 0) > before,
    );
    await b.shot('alerts-receivers');
    return `${name}: test queued; last attempt ${new Date(r.last_attempt_ms).toISOString()}, last error "${r.last_error}"; screenshot alerts-receivers.png`;
  });

  await step("an alert's generator link opens its expression in Explore", async () => {
    const a = (await api.get('/api/alerts?state=firing')).alerts.find((x) => x.labels.alertname === ALWAYS);
    check(a, `${ALWAYS} is not firing`);
    const link = new URL(a.generator_url);
    check(link.pathname === '/graph', `generator_url ${a.generator_url} is not Prometheus's /graph link`);
    await page.goto(origin + link.pathname + link.search);
    const box = tid('explore-query');
    await until('Explore holds the expression', () => box.inputValue(), (v) => v === 'vector(1)');
    await page.goto(origin + '/alerts');
    return `${link.pathname}${link.search} → Explore with "vector(1)"`;
  });

  await step('auto-refresh off: no request for 4 s', async () => {
    await openTab('firing');
    const sw = tid('auto-refresh');
    await sw.click();
    await until('the switch is off', () => sw.getAttribute('aria-checked'), (v) => v === 'false');
    await page.waitForTimeout(600);
    const t0 = Date.now();
    await page.waitForTimeout(4000);
    const made = b.apiRequestsSince(t0);
    check(made.length === 0, `${made.length} requests while auto-refresh was off: ${made.map((r) => r.url).slice(0, 5).join(', ')}`);
    await sw.click();
    const t1 = Date.now();
    await until('polling /api/alerts resumes', async () => b.apiRequestsSince(t1, /^\/api\/alerts\?/).length, (n) => n > 0);
    return 'none while off; polling resumed when on';
  });

  await step('no page error, no request off breakwatch; failures only the expected refusals', async () => {
    check(b.offsite.length === 0, `requests left breakwatch: ${b.offsite.join(', ')}`);
    check(log.pageErrors.length === 0, `page errors: ${log.pageErrors.join(' | ')}`);
    const failed = log.responses.filter((r) => r.status >= 400);
    const unexpected = failed.filter(
      (r) => r.status !== 401 && !(r.status === 400 && new URL(r.url).pathname === '/api/rules/reload'),
    );
    check(unexpected.length === 0, `failed requests: ${unexpected.map((r) => `${r.status} ${r.url}`).slice(0, 5).join(', ')}`);
    const other = log.consoleErrors.filter((m) => !/status of 40[01]\b/.test(m));
    check(other.length === 0, `console errors: ${other.join(' | ')}`);
    return `${log.requests.length} requests; refusals: ${failed.length} (401 before sign-in, the bad reload's 400)`;
  });
} catch (e) {
  error = e;
} finally {
  writeFileSync(lateRules, lateOriginal);
}
await finish(b, error);
