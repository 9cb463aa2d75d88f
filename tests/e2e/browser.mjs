// browser: starts Debian's Chromium through playwright-core (installed with the web page's
// packages in web/node_modules), headless, with a fresh profile each time, and keeps every
// request on the one origin under test: a request anywhere else fails the run, since the page
// must work with no network beyond breakwatch.
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Opens a browser. With guard (the default), its pages may only talk to origin: offsite lists
// every request that went elsewhere (blocked). Benchmarks turn the guard off, since routing
// every request through Playwright adds its own latency. Returns { context, close, offsite }.
export async function openBrowser(origin, { viewport = { width: 1440, height: 900 }, guard = true } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'bw-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport,
  });
  const offsite = [];
  if (guard) await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + '/') || url === origin || url.startsWith('data:')) {
      return route.continue();
    }
    offsite.push(url);
    return route.abort();
  });
  const close = async () => {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  };
  return { context, close, offsite };
}
