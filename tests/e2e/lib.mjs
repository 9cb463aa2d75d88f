// Helpers for the browser end-to-end tests: named steps that print "ok: …" or fail with a
// clear message (and a screenshot of the moment), bounded polling with the last value seen in
// the failure, the API read from Node, a page that records its requests and console errors,
// and the pixels a chart's canvas has drawn.
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { openBrowser } from './browser.mjs';

// Every wait is bounded; SLOW (set by the runner under the sanitizers, where breakwatch is
// several times slower) stretches them.
export const SLOW = Number(process.env.BW_E2E_SLOW || 1);
export const T = (ms) => Math.round(ms * SLOW);

export class StepError extends Error {}

/** The script's name (monitoring, auth): failure screenshots are FAILED-<suite>-<step>.png. */
export const SUITE = basename(process.argv[1] ?? 'e2e', '.mjs');

let failShot = null;

/** Where failure screenshots go, and the page to take them of. */
export function onFailureShoot(dir, page) {
  failShot = { dir, page };
}

export const failures = [];

/** Runs one named step; fn may return a detail string, printed after the name. A failed step
 *  is reported (with a screenshot) and the run goes on to the next one, unless it is
 *  `critical` (the ones after it need what it sets up): then it throws. */
export async function step(name, fn, { critical = false } = {}) {
  const t0 = Date.now();
  try {
    const detail = await fn();
    const secs = ((Date.now() - t0) / 1000).toFixed(1);
    console.log(`ok: ${name}${detail ? ': ' + detail : ''} (${secs} s)`);
    return true;
  } catch (e) {
    const msg = e instanceof StepError ? e.message : (e && e.stack) || String(e);
    console.error(`FAIL: ${name}: ${msg}`);
    failures.push(name);
    if (failShot?.page && !failShot.page.isClosed()) {
      const file = join(failShot.dir, `FAILED-${SUITE}-${name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)}.png`);
      try {
        await failShot.page.screenshot({ path: file, fullPage: true, timeout: 10_000 });
        console.error(`  (screenshot of the page: ${file})`);
      } catch {
        /* the page is gone */
      }
    }
    if (critical) throw new StepError(`step "${name}" failed: the steps after it need it`);
    return false;
  }
}

/** Ends the run: closes the browser, prints the failed steps, exits 0 or 1. */
export async function finish(browser, error) {
  if (error && !(error instanceof StepError)) {
    console.error(`FAIL: ${error.stack || error}`);
    failures.push('(unexpected error)');
  }
  await browser?.close().catch(() => {});
  if (failures.length) console.error(`FAIL: ${failures.length} step(s) failed: ${failures.join('; ')}`);
  process.exit(failures.length ? 1 : 0);
}

/** Throws a step failure with `msg` unless `cond`. */
export function check(cond, msg) {
  if (!cond) throw new StepError(typeof msg === 'function' ? msg() : msg);
}

const show = (v) => {
  try {
    const s = JSON.stringify(v);
    return s && s.length > 600 ? s.slice(0, 600) + '…' : s;
  } catch {
    return String(v);
  }
};

/** Calls fn (async, may read the page or the API) every `every` ms until test(value) holds;
 *  returns that value. After `timeout` ms fails with `what` and the last value seen. */
export async function until(what, fn, test = (v) => !!v, { timeout = 15_000, every = 250 } = {}) {
  const end = Date.now() + T(timeout);
  let last, lastErr;
  for (;;) {
    try {
      last = await fn();
      lastErr = null;
      if (test(last)) return last;
    } catch (e) {
      lastErr = e;
    }
    if (Date.now() > end) {
      throw new StepError(
        `${what}: not so after ${(T(timeout) / 1000).toFixed(0)} s; last seen: ${
          lastErr ? 'error ' + (lastErr.message || lastErr) : show(last)
        }`,
      );
    }
    await new Promise((r) => setTimeout(r, every));
  }
}

/** The API, from Node: GET (or POST with a JSON body) → { status, body }. */
export function apiClient(base, token = null) {
  const call = async (path, { method = 'GET', body, headers = {} } = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        Accept: 'application/json',
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...headers,
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(T(30_000)),
    });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: json, text, headers: res.headers };
  };
  const get = async (path) => {
    const r = await call(path);
    check(r.status === 200, `GET ${path}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    return r.body;
  };
  return { call, get };
}

/** A browser page on `origin` that records what it does: every request (url, method, time),
 *  console errors, uncaught page errors, and requests that left the origin (blocked); with
 *  `tid(id)` (its elements by data-testid) and `maxEventId()` (the newest event in the feed). */
export async function openPage(origin, shots) {
  mkdirSync(shots, { recursive: true });
  const browser = await openBrowser(origin);
  const page = browser.context.pages()[0] ?? (await browser.context.newPage());
  page.setDefaultTimeout(T(20_000));
  const log = { requests: [], consoleErrors: [], pageErrors: [], responses: [] };
  page.on('request', (r) => log.requests.push({ url: r.url(), method: r.method(), t: Date.now() }));
  // The last JSON answer of each GET under /api/ (by path and query), to compare what the page
  // shows with what it was told.
  log.json = new Map();
  page.on('response', async (r) => {
    const u = new URL(r.url());
    log.responses.push({ url: r.url(), status: r.status(), t: Date.now() });
    if (!u.pathname.startsWith('/api/') || u.pathname.endsWith('/stream') || r.request().method() !== 'GET') return;
    if (r.status() !== 200) return;
    try {
      const body = await r.json();
      log.json.set(u.pathname + u.search, { body, t: Date.now() });
    } catch {
      /* not JSON, or gone */
    }
  });
  page.on('console', (m) => {
    if (m.type() === 'error') log.consoleErrors.push(m.text() + (m.location()?.url ? ` (${m.location().url})` : ''));
  });
  page.on('pageerror', (e) => log.pageErrors.push(String(e.stack || e)));
  onFailureShoot(shots, page);
  const shot = async (name) => {
    const path = join(shots, name + '.png');
    // From the top: a full-page capture of a scrolled page draws the sticky header mid-page.
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path, fullPage: true });
    return path;
  };
  /** Requests to /api/… made at or after time t (ms), optionally only those matching re. */
  const apiRequestsSince = (t, re = /\/api\//) =>
    log.requests.filter((r) => r.t >= t && re.test(new URL(r.url).pathname + new URL(r.url).search));
  /** The page's element(s) with data-testid `id`. */
  const tid = (id) => page.getByTestId(id);
  /** The id of the newest event the feed shows (0 with none). */
  const maxEventId = () =>
    page.evaluate(() =>
      Math.max(0, ...[...document.querySelectorAll('[data-testid="event-item"]')].map((e) => Number(e.dataset.eventId))),
    );
  return { ...browser, page, log, shot, apiRequestsSince, tid, maxEventId };
}

/** Text of the element with data-testid `id` (trimmed), or null when there is none. */
export async function textOf(page, id) {
  const el = page.getByTestId(id).first();
  if ((await el.count()) === 0) return null;
  return (await el.textContent())?.trim() ?? null;
}

/** For each canvas under the element with data-testid `testId`: its size and how many of its
 *  pixels are drawn in colour (chroma above `minChroma` and mostly opaque). Axes, grid lines
 *  and labels are grey, so a chart with no data counts (close to) zero; series lines,
 *  heatmap cells and state bands are coloured. */
export async function canvasInk(page, testId, minChroma = 48) {
  return page.evaluate(
    ([id, min]) => {
      const root = document.querySelector(`[data-testid="${id}"]`);
      if (!root) return null;
      return [...root.querySelectorAll('canvas')].map((c) => {
        const ctx = c.getContext('2d');
        const { data } = ctx.getImageData(0, 0, c.width, c.height);
        let ink = 0;
        let any = 0;
        for (let i = 0; i < data.length; i += 4) {
          const a = data[i + 3];
          if (a === 0) continue;
          any++;
          const r = data[i];
          const g = data[i + 1];
          const b = data[i + 2];
          if (a >= 96 && Math.max(r, g, b) - Math.min(r, g, b) >= min) ink++;
        }
        return { w: c.width, h: c.height, ink, any };
      });
    },
    [testId, minChroma],
  );
}

export { openBrowser };

const UNITS = {
  '': 1,
  '%': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  ns: 1e-6,
  'µs': 1e-3,
  ms: 1,
  s: 1e3,
  min: 60e3,
  h: 3600e3,
  d: 86400e3,
  '/s': 1,
  '/min': 1 / 60,
  '/h': 1 / 3600,
};

/** A value as the page shows it, back to a number: "10,003.74" → 10003.74, "4.0 %" → 4,
 *  "16.2 MiB" → bytes, "47.6 µs" → ms, "3/min" → per second, "121k" → 121000. Null for "—"
 *  or anything else. */
export function parseShown(text) {
  if (typeof text !== 'string') return null;
  const m = text
    .trim()
    .replace(/,/g, '')
    .match(/^([+-]?\d+(?:\.\d+)?)\s*(\S*)$/);
  if (!m || !(m[2] in UNITS)) return null;
  return Number(m[1]) * UNITS[m[2]];
}

/** Whether a and b agree within a relative tolerance (or an absolute one near zero). */
export function near(a, b, rel = 0.01, abs = 1e-9) {
  return typeof a === 'number' && typeof b === 'number' && Math.abs(a - b) <= Math.max(abs, rel * Math.abs(b));
}
