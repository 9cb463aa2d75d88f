// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { SettingsProvider } from '../settings';
import type { Alert } from '../api/alerts';
import { Notifications } from './Notifications';

function alert(fingerprint: string, name: string, p: Partial<Alert> = {}): Alert {
  return {
    fingerprint,
    labels: { alertname: name, severity: 'critical' },
    annotations: { summary: `${name} summary` },
    state: 'firing',
    value: 1,
    active_ms: 1000,
    fired_ms: 1000,
    resolved_ms: null,
    receiver: 'ops',
    silenced_by: null,
    ack: null,
    ...p,
  };
}

/** A fake breakwatch: whoami says `role` (as "ed"); /api/alerts answers what `alerts` holds
 *  now; POST …/ack acknowledges. Returns the requests and the alert list to change. */
function setup(role: string) {
  const state = { alerts: [alert('aaaa', 'Old')] };
  const calls: { method: string; url: string; body: unknown }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const method = init?.method ?? 'GET';
      calls.push({ method, url, body: init?.body ? JSON.parse(String(init.body)) : null });
      const json = (b: unknown, status = 200) => new Response(JSON.stringify(b), { status });
      if (url.startsWith('/api/auth/whoami')) return json({ name: 'ed', role, auth: true });
      const ack = /^\/api\/alerts\/(\w+)\/ack$/.exec(url);
      if (ack && method === 'POST') {
        if (role === 'viewer')
          return json({ status: 'error', errorType: 'forbidden', error: 'editor role needed' }, 403);
        const a = state.alerts.find((x) => x.fingerprint === ack[1])!;
        a.ack = { by: 'ed', at_ms: 5000, comment: '' };
        return json({ fingerprint: a.fingerprint, ack: a.ack });
      }
      if (url.startsWith('/api/alerts?')) return json({ alerts: state.alerts, counts: {} });
      return json({ status: 'error', errorType: 'not_found', error: 'no such endpoint' }, 404);
    }),
  );
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <SettingsProvider>
        <Notifications />
      </SettingsProvider>
    </QueryClientProvider>,
  );
  return { state, calls };
}

/** Lets the page poll for `ms` (its updates inside act). */
const sleep = (ms: number) => act(() => new Promise<void>((r) => setTimeout(r, ms)));

const alertToasts = () => screen.queryAllByTestId('toast').filter((t) => t.dataset.alertname);

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe('alert notifications', () => {
  it('toast only alerts that start firing after the first answer; an editor acknowledges', async () => {
    const { state, calls } = setup('editor');
    await waitFor(() => expect(calls.some((c) => c.url.startsWith('/api/alerts?state=firing%2Cpending'))).toBe(true));
    // The first answer: Old was already firing. A poll later, still no toast.
    await sleep(1200);
    expect(alertToasts()).toHaveLength(0);

    const warning = { labels: { alertname: 'New', severity: 'warning' } };
    state.alerts = [...state.alerts, alert('bbbb', 'New'), alert('cccc', 'New', warning)];
    await waitFor(() => expect(alertToasts()).toHaveLength(1), { timeout: 3000 });
    const t = alertToasts()[0];
    expect(t.dataset.alertname).toBe('New');
    expect(t.dataset.count).toBe('2');
    expect(t.className).toContain('level-critical');
    expect(screen.getByTestId('toast-title').textContent).toBe('2 × New firing');
    expect(screen.getByTestId('toast-summary').textContent).toBe('New summary');

    const btn = await screen.findByTestId('toast-acknowledge');
    expect(btn.textContent).toBe('Acknowledge 2');
    fireEvent.click(btn);
    await waitFor(() => expect(screen.getByTestId('toast-ack').textContent).toBe('acknowledged by ed'), {
      timeout: 3000,
    });
    const posts = calls.filter((c) => c.method === 'POST').map((c) => c.url).sort();
    expect(posts).toEqual(['/api/alerts/bbbb/ack', '/api/alerts/cccc/ack']);
    expect(screen.queryByTestId('toast-acknowledge')).toBeNull();
  });

  it('offers a viewer no "Acknowledge"', async () => {
    const { state, calls } = setup('viewer');
    await waitFor(() => expect(calls.some((c) => c.url.startsWith('/api/alerts?'))).toBe(true));
    await sleep(100);
    state.alerts = [alert('dddd', 'Fresh')];
    await waitFor(() => expect(alertToasts()).toHaveLength(1), { timeout: 3000 });
    await waitFor(() => expect(calls.some((c) => c.url.startsWith('/api/auth/whoami'))).toBe(true));
    await sleep(50);
    expect(screen.queryByTestId('toast-acknowledge')).toBeNull();
    expect(screen.getByTestId('toast-alerts-link').getAttribute('href')).toBe('/alerts');
  });
});
