// The monitoring page with auth on: node auth.mjs URL SCREENSHOT_DIR, with the tokens in the
// environment (BW_VIEWER_TOKEN, BW_VIEWER_NAME, BW_EDITOR_TOKEN, BW_EDITOR_NAME).
//
// Against a breakwatch whose configuration holds a viewer and an editor token: the page asks
// for a token; a bad one is turned away with the server's message; a viewer sees the data and
// its role, live events over the stream (the token as access_token), and no "Add note", and
// the server refuses the viewer's note with 403; an editor adds a note through the page and it
// shows in the feed, with the editor's name, as the API has it.
import { StepError, T, apiClient, check, finish, openPage, step, textOf, until } from './lib.mjs';

const [origin, shots] = process.argv.slice(2);
const { BW_VIEWER_TOKEN: viewerTok, BW_VIEWER_NAME: viewerName, BW_EDITOR_TOKEN: editorTok, BW_EDITOR_NAME: editorName } =
  process.env;
if (!origin || !shots || !viewerTok || !viewerName || !editorTok || !editorName) {
  console.error('usage: BW_VIEWER_TOKEN=… BW_VIEWER_NAME=… BW_EDITOR_TOKEN=… BW_EDITOR_NAME=… node auth.mjs URL SCREENSHOT_DIR');
  process.exit(2);
}

const anon = apiClient(origin);
const editorApi = apiClient(origin, editorTok);
const b = await openPage(origin, shots);
const { page, log, tid, maxEventId } = b;
const streamStatus = () => textOf(page, 'event-stream-status');

async function signIn(token) {
  await until('the sign-in form is open', () => tid('signin-form').isVisible(), (v) => v);
  await tid('signin-token').fill(token);
  await tid('signin-submit').click();
}

/** Waits for the role badge to say `role` (whoami answered for the token signed in). */
async function badgeIs(role, name) {
  return until(
    `the role badge says ${name}, ${role}`,
    async () => ({ role: await tid('role-badge').getAttribute('data-role'), text: await textOf(page, 'role-badge') }),
    (x) => x.role === role && x.text.includes(name) && x.text.includes(role),
  );
}

/** The feed gets a new event over the stream, opened with the token as access_token, and
 *  the page polls no /events meanwhile. */
async function liveOverStream(token) {
  const s = await until(
    'the event stream is live (EventSource with ?access_token=)',
    streamStatus,
    (x) => x === 'live',
    { timeout: 20_000 },
  ).catch((e) => {
    throw new StepError(
      `${e.message}. The page falls back to polling while the server refuses the token as ` +
        `?access_token= on /api/monitoring/events/stream`,
    );
  });
  const opened = log.requests.filter(
    (r) => new URL(r.url).pathname === '/api/monitoring/events/stream' && new URL(r.url).searchParams.get('access_token') === token,
  );
  check(opened.length >= 1, 'no stream request carried the token as access_token');
  const ok = log.responses.filter((r) => new URL(r.url).pathname === '/api/monitoring/events/stream' && r.status === 200);
  check(ok.length >= 1, 'no stream request was answered 200');
  await until('the feed has events', () => tid('event-item').count(), (n) => n > 0);
  const before = await maxEventId();
  const t0 = Date.now();
  const after = await until('a new event arrives', maxEventId, (m) => m > before, { timeout: 20_000, every: 100 });
  const polls = b.apiRequestsSince(t0, /^\/api\/monitoring\/events(\?|$)/);
  check(polls.length === 0, `the feed polled /events meanwhile: ${polls.map((r) => r.url).join(', ')}`);
  return `stream ${s}, event ${after} after ${before} in ${Date.now() - t0} ms`;
}

let error = null;
let session;
try {
  await step('auth on: the page asks for a token and shows no data', async () => {
    const r = await anon.call('/api/monitoring/sessions');
    check(r.status === 401, `/api/monitoring/sessions without a token: HTTP ${r.status}`);
    const home = await anon.call('/');
    check(home.status === 200 && (home.headers.get('content-type') ?? '').startsWith('text/html'), `GET / without a token: HTTP ${home.status}`);
    await page.goto(origin + '/');
    await until('the sign-in form opens', () => tid('signin-form').isVisible(), (v) => v);
    check((await tid('signin-error').count()) === 0, 'an error is shown before any token was tried');
    check((await tid('event-item').count()) === 0, 'events are shown without a token');
    const badge = await until('the role badge says signed out', () => textOf(page, 'role-badge'), (t) => t === 'signed out');
    await b.shot('signin');
    return `sign-in form open, role badge "${badge}", no events; screenshot signin.png`;
  }, { critical: true });

  await step('a bad token is turned away with a visible error', async () => {
    const bad = 'bw_' + 'x'.repeat(43);
    const t0 = Date.now();
    await signIn(bad);
    const msg = await until(
      'the sign-in form comes back with the server’s message',
      async () => ((await tid('signin-error').count()) ? textOf(page, 'signin-error') : null),
      (t) => !!t,
    );
    const r = await anon.call('/api/auth/whoami', { headers: { Authorization: `Bearer ${bad}` } });
    check(r.status === 401 && msg === r.body.error, `the page says "${msg}", the server ${r.status} "${r.body?.error}"`);
    const refused = log.responses.filter((x) => x.t >= t0 && x.status === 401);
    check(refused.length >= 1, 'no request with the bad token was answered 401');
    check(!(await tid('role-badge').getAttribute('data-role')), 'a role is shown for a bad token');
    check((await tid('signout').count()) === 0, 'the header offers "Sign out" with the refused token');
    check((await tid('signin-open').count()) === 1, 'the header does not offer "Sign in"');
    const kept = await page.evaluate(() => sessionStorage.getItem('breakwatch.token'));
    check(kept === null, 'the refused token is still stored');
    check((await tid('event-item').count()) === 0, 'events are shown with a bad token');
    await b.shot('signin-bad-token');
    return `"${msg}" (${refused.length} requests answered 401), the token forgotten, "Sign in" offered; screenshot signin-bad-token.png`;
  });

  await step('a viewer signs in and sees the data, the viewer badge, no "Add note"', async () => {
    await tid('signin-token').fill(viewerTok);
    await tid('signin-submit').click();
    await until('the sign-in form closes', () => tid('signin-form').count(), (n) => n === 0);
    const badge = await badgeIs('viewer', viewerName);
    const sessions = (await editorApi.get('/api/monitoring/sessions?active=true')).sessions;
    check(sessions.length === 1, `active sessions: ${JSON.stringify(sessions)}`);
    session = sessions[0].id;
    const v = await until(
      "the session's data is shown",
      async () => ({
        info: await textOf(page, 'session-info'),
        feed: Number(await tid('stage-feed').getAttribute('data-count')),
        equity: await textOf(page, 'realtime-equity-value'),
        events: await tid('event-item').count(),
      }),
      (x) => x.info?.includes(session) && x.feed > 0 && x.equity && x.equity !== '—' && x.events > 0,
    );
    check((await tid('event-feed').count()) === 1, 'no event feed');
    check((await tid('annotate-open').count()) === 0, 'a viewer is offered "Add note"');
    await b.shot('viewer');
    return `badge "${badge.text}"; session ${session.slice(0, 8)}, feed ${v.feed}, equity ${v.equity}, ${v.events} events; no "Add note"; screenshot viewer.png`;
  }, { critical: true });

  await step('the live feed works with auth on (stream with access_token)', async () => liveOverStream(viewerTok));

  await step("the server refuses a viewer's note: 403 from the page's own context", async () => {
    const text = `viewer note ${Date.now()}`;
    const r = await page.evaluate(
      async ([body]) => {
        const token = sessionStorage.getItem('breakwatch.token');
        const res = await fetch('/api/monitoring/annotations', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
        });
        return { status: res.status, body: await res.text() };
      },
      [{ text, session }],
    );
    let body = null;
    try {
      body = JSON.parse(r.body);
    } catch {
      /* shown below */
    }
    check(r.status === 403, `POST /api/monitoring/annotations as a viewer: HTTP ${r.status} ${r.body.slice(0, 200)}`);
    check(body?.errorType === 'forbidden' && /editor/.test(body.error), `403 body: ${r.body}`);
    const notes = (await editorApi.get(`/api/monitoring/events?type=annotation&limit=1000`)).events;
    check(!notes.some((e) => e.message === text), 'the refused note was recorded');
    return `403 "${body.error}"; nothing recorded`;
  });

  await step('an editor signs in, adds a note through the page, and it shows in the feed with their name', async () => {
    await tid('signout').click();
    await until('signed out: the sign-in form opens', () => tid('signin-form').isVisible(), (v) => v);
    await signIn(editorTok);
    await until('the sign-in form closes', () => tid('signin-form').count(), (n) => n === 0);
    await badgeIs('editor', editorName);
    const open = tid('annotate-open');
    await until('"Add note" is offered to the editor', () => open.isVisible(), (v) => v);
    await open.click();
    await until('the note form opens', () => tid('annotate-form').isVisible(), (v) => v);
    const text = `e2e: checked the feed by hand (${new Date().toISOString()})`;
    await tid('annotate-text').fill(text);
    await b.shot('editor-note-form');
    const t0 = Date.now();
    const answered = page.waitForResponse(
      (r) => new URL(r.url()).pathname === '/api/monitoring/annotations' && r.request().method() === 'POST',
      { timeout: T(20_000) },
    );
    await tid('annotate-submit').click();
    const post = await answered;
    const posted = post.request().postDataJSON();
    check(post.status() === 201, `POST /api/monitoring/annotations: HTTP ${post.status()} ${await post.text()}`);
    check(posted.text === text && posted.session === session, `the page posted ${JSON.stringify(posted)}`);
    check(post.request().headers().authorization === `Bearer ${editorTok}`, 'the note was not sent with the editor’s token');
    await until('the form closes', () => tid('annotate-form').count(), (n) => n === 0);
    const row = await until(
      'the note shows in the feed as an annotation with the author',
      () =>
        page.$$eval('[data-testid="event-item"][data-type="annotation"]', (els) =>
          els.map((e) => ({
            id: Number(e.dataset.eventId),
            text: e.textContent,
            author: e.querySelector('[data-testid="event-author"]')?.textContent,
            note: e.classList.contains('event-note'),
            accent: getComputedStyle(e).boxShadow,
          })),
        ),
      (rows) => rows.some((r) => r.text.includes(text)),
      { timeout: 20_000 },
    ).then((rows) => rows.find((r) => r.text.includes(text)));
    const ms = Date.now() - t0;
    check(row.author?.includes(editorName), `author shown: ${row.author}`);
    check(row.note && row.accent && row.accent !== 'none', `the note does not look distinct: ${JSON.stringify(row)}`);
    const ev = (await editorApi.get(`/api/monitoring/events?session=${session}&type=annotation&limit=100`)).events.find(
      (e) => e.id === row.id,
    );
    check(ev && ev.message === text && ev.data?.author === editorName, `the API's note ${row.id}: ${JSON.stringify(ev)}`);
    // The type filter: only notes.
    await tid('filter-type-annotation').click();
    const types = await until(
      'the annotation filter shows only notes',
      () => page.$$eval('[data-testid="event-item"]', (els) => els.map((e) => e.dataset.type)),
      (t) => t.length >= 1 && t.every((x) => x === 'annotation'),
    );
    await tid('event-feed').scrollIntoViewIfNeeded();
    await b.shot('editor-note');
    await tid('filter-type-annotation').click();
    return `note ${row.id} shown ${ms} ms after the click, by "${row.author.replace(/\s*wrote$/, '').trim()}", as the API has it; the annotation filter shows ${types.length} note(s); screenshots editor-note-form.png, editor-note.png`;
  });

  await step('the live feed works for the editor too', async () => liveOverStream(editorTok));

  await step('no page error, no request off breakwatch; console errors only for the refusals', async () => {
    check(b.offsite.length === 0, `requests left breakwatch: ${b.offsite.join(', ')}`);
    check(log.pageErrors.length === 0, `page errors: ${log.pageErrors.join(' | ')}`);
    const other = log.consoleErrors.filter((m) => !/status of 40[13]\b/.test(m));
    check(other.length === 0, `console errors: ${other.join(' | ')}`);
    const codes = [...new Set(log.responses.filter((r) => r.status >= 400).map((r) => r.status))];
    check(codes.every((c) => c === 401 || c === 403), `failed requests other than 401/403: ${codes}`);
    return `${log.requests.length} requests; refusals ${codes.join(', ') || 'none'} only, as expected`;
  });
} catch (e) {
  error = e;
}
await finish(b, error);
