// web_bench: the monitoring page's budgets, measured in Debian's Chromium against a running
// breakwatch, beside the same measurements of Prometheus 2.42's own web UI on the same data.
//
//   node bench/web_bench.mjs BREAKWATCH_URL PROMETHEUS_URL [RUNS] [CPU_SECONDS]
//
// - first load: a fresh profile (cold cache) each run; from navigation start until the page
//   shows data (breakwatch: the real-time CPU figure, the process flow counts and an event;
//   Prometheus: the graph of the spec's p95 cycle-time query drawn). Median of RUNS.
// - transfer: the bytes of JavaScript and CSS the page fetched, as sent (gzip).
// - CPU: the tab's renderer process over CPU_SECONDS with the page open — breakwatch's
//   Monitoring page with 1 s live updates, then the same page with auto-refresh off, then
//   Prometheus's graph page — from /proc (utime + stime of every renderer under this process).
//
// Prints "key value" lines that bench/run.sh turns into a table.
import { readFileSync, readdirSync } from 'node:fs';
import { openBrowser } from '../tests/e2e/browser.mjs';

const [bw, prom, runsArg, cpuArg] = process.argv.slice(2);
if (!bw || !prom) {
  console.error('usage: node web_bench.mjs BREAKWATCH_URL PROMETHEUS_URL [RUNS] [CPU_SECONDS]');
  process.exit(2);
}
const RUNS = Number(runsArg || 5);
const CPU_SECONDS = Number(cpuArg || 30);
const QUERY = 'histogram_quantile(0.95, sum(rate(engine_cycle_time_bucket[1m])) by (le))';
const CLK_TCK = 100; // USER_HZ on Linux

const pages = {
  breakwatch: {
    url: `${bw}/`,
    ready: () => {
      const cpu = document.querySelector('[data-testid="realtime-cpu-value"]');
      const feed = document.querySelector('[data-testid="count-feed"]');
      return (
        cpu && /\d/.test(cpu.textContent) && feed && /\d/.test(feed.textContent) &&
        document.querySelector('[data-testid="event-item"]')
      );
    },
  },
  prometheus: {
    url: `${prom}/classic/graph?g0.expr=${encodeURIComponent(QUERY)}&g0.tab=0&g0.range_input=5m`,
    ready: () => document.querySelector('.graph_area svg path'),
  },
};

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

// Milliseconds from navigation start to ready, and the JS + CSS bytes as transferred.
async function load(which) {
  const p = pages[which];
  const b = await openBrowser(new URL(p.url).origin, { guard: false });
  try {
    const page = await b.context.newPage();
    let bytes = 0;
    page.on('response', async (res) => {
      const type = res.headers()['content-type'] || '';
      if (!/javascript|text\/css/.test(type)) return;
      const sizes = await res.request().sizes().catch(() => null);
      if (sizes) bytes += sizes.responseBodySize;
    });
    await page.goto(p.url);
    await page.waitForFunction(p.ready, null, { timeout: 30000, polling: 'raf' });
    const ms = await page.evaluate(() => performance.now());
    await page.waitForLoadState('networkidle').catch(() => {});
    return { ms, bytes };
  } finally {
    await b.close();
  }
}

function descendants(root) {
  const parent = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      /* gone */
    }
  }
  const out = [];
  const walk = (pid) => {
    for (const [child, pp] of parent) if (pp === pid) out.push(child), walk(child);
  };
  walk(root);
  return out;
}

// CPU ticks used so far by every renderer process below this one.
function rendererTicks() {
  let ticks = 0;
  for (const pid of descendants(process.pid)) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=renderer')) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      /* gone */
    }
  }
  return ticks;
}

// Percent of one core the tab's renderer used over CPU_SECONDS, after a 5 s settle.
async function cpu(which, prepare) {
  const p = pages[which];
  const b = await openBrowser(new URL(p.url).origin, { guard: false });
  try {
    const page = await b.context.newPage();
    await page.goto(p.url);
    await page.waitForFunction(p.ready, null, { timeout: 30000 });
    if (prepare) await prepare(page);
    await page.waitForTimeout(5000);
    const t0 = rendererTicks();
    const w0 = Date.now();
    await page.waitForTimeout(CPU_SECONDS * 1000);
    const used = (rendererTicks() - t0) / CLK_TCK;
    return (100 * used) / ((Date.now() - w0) / 1000);
  } finally {
    await b.close();
  }
}

const out = (k, v) => console.log(`${k} ${typeof v === 'number' ? +v.toFixed(2) : v}`);
for (const which of ['breakwatch', 'prometheus']) {
  const loads = [];
  for (let i = 0; i < RUNS; i++) loads.push(await load(which));
  out(`${which}_first_load_ms`, median(loads.map((l) => l.ms)));
  out(`${which}_js_css_kb`, median(loads.map((l) => l.bytes)) / 1024);
}
out('breakwatch_cpu_live_pct', await cpu('breakwatch'));
out(
  'breakwatch_cpu_paused_pct',
  await cpu('breakwatch', async (page) => {
    await page.getByTestId('auto-refresh').click();
  })
);
out('prometheus_cpu_pct', await cpu('prometheus'));
