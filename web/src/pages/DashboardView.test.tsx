// @vitest-environment jsdom
// The dashboard view when the renderer fails in a way nobody foresaw: an error box naming the
// dashboard, with the link back to the list, instead of a blank page.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { DashboardView } from './DashboardView';

vi.mock('../components/GrafanaDashboard', () => ({
  GrafanaDashboard: () => {
    throw new Error('something unforeseen');
  },
}));

beforeEach(() => {
  vi.spyOn(console, 'error').mockImplementation(() => {});
  vi.stubGlobal(
    'fetch',
    vi.fn(
      async () =>
        new Response(JSON.stringify({ status: 'success', data: { uid: 'lat', title: 'Latency', panels: [] } }), {
          status: 200,
        }),
    ),
  );
});

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('a dashboard the renderer cannot draw', () => {
  it('shows an error naming it, never a blank page', async () => {
    const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={qc}>
        <DashboardView uid="lat" />
      </QueryClientProvider>,
    );
    const box = await waitFor(() => screen.getByTestId('dashboard-error'));
    expect(box.textContent).toBe('The dashboard “Latency” (lat) could not be drawnsomething unforeseen');
    expect(screen.getByText('← All dashboards').getAttribute('href')).toBe('/dashboards');
  });
});
