// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { SettingsProvider } from '../settings';
import { liveEvents } from '../api/live';
import { Annotate } from './Annotate';

type Answer = { status: number; body: unknown };

/** Renders "Add note" against a fake server: whoami answers `role`, the annotation POST
 *  answers `post`. Returns the requests made. */
function setup(role: string, post: Answer = { status: 201, body: {} }, events: unknown[] = []) {
  const calls: { url: string; init?: RequestInit }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      const a: Answer = url.startsWith('/api/auth/whoami')
        ? { status: 200, body: { name: `${role}-user`, role, auth: true } }
        : url.startsWith('/api/monitoring/events')
          ? { status: 200, body: { events, next: null } }
          : post;
      return new Response(JSON.stringify(a.body), { status: a.status });
    }),
  );
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <SettingsProvider>
        <Annotate session="s-123456789" />
      </SettingsProvider>
    </QueryClientProvider>,
  );
  return calls;
}

/** A note as the events API has it: event `id` of session s-123456789, by editor-user. */
function note(id: number, message: string) {
  return {
    id,
    sim_ms: 1000,
    session_id: 's-123456789',
    type: 'annotation',
    severity: 'info',
    symbol: null,
    correlation_id: null,
    message,
    data: { author: 'editor-user' },
  };
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  liveEvents.reset();
});

describe('Annotate', () => {
  it('is not offered to a viewer', async () => {
    const calls = setup('viewer');
    await waitFor(() => expect(calls.some((c) => c.url === '/api/auth/whoami')).toBe(true));
    // whoami answered (and rendered): still no button.
    await act(() => new Promise((r) => setTimeout(r, 50)));
    expect(screen.queryByTestId('annotate-open')).toBeNull();
  });

  it('lets an editor post a note for the session and shows it in the feed at once', async () => {
    const calls = setup('editor', { status: 201, body: note(77, 'feed restarted') });
    fireEvent.click(await screen.findByTestId('annotate-open'));
    const submit = screen.getByTestId('annotate-submit') as HTMLButtonElement;
    expect(submit.disabled).toBe(true);
    fireEvent.change(screen.getByTestId('annotate-text'), { target: { value: '  feed restarted ' } });
    fireEvent.click(submit);
    await waitFor(() => expect(screen.queryByTestId('annotate-form')).toBeNull());
    const post = calls.find((c) => c.init?.method === 'POST')!;
    expect(post.url).toBe('/api/monitoring/annotations');
    expect(JSON.parse(post.init!.body as string)).toEqual({ text: 'feed restarted', session: 's-123456789' });
    expect((post.init!.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(liveEvents.get().events.map((e) => e.id)).toEqual([77]);
  });

  it('reads back the note the server answers with only its id', async () => {
    const calls = setup('editor', { status: 201, body: { id: 91 } }, [note(91, 'paused for maintenance')]);
    fireEvent.click(await screen.findByTestId('annotate-open'));
    fireEvent.change(screen.getByTestId('annotate-text'), { target: { value: 'paused for maintenance' } });
    fireEvent.keyDown(screen.getByTestId('annotate-text'), { key: 'Enter', ctrlKey: true });
    await waitFor(() => expect(liveEvents.get().events.map((e) => e.id)).toEqual([91]));
    expect(calls.map((c) => c.url)).toContain('/api/monitoring/events?session=s-123456789&before=92&limit=1');
    expect(screen.queryByTestId('annotate-form')).toBeNull();
  });

  it("shows the server's message when it refuses, and keeps the text", async () => {
    setup('admin', {
      status: 403,
      body: { status: 'error', errorType: 'forbidden', error: 'needs the editor role; token "v" is a viewer' },
    });
    fireEvent.click(await screen.findByTestId('annotate-open'));
    fireEvent.change(screen.getByTestId('annotate-text'), { target: { value: 'hello' } });
    fireEvent.click(screen.getByTestId('annotate-submit'));
    const err = await screen.findByTestId('annotate-error');
    expect(err.textContent).toContain('needs the editor role; token "v" is a viewer');
    expect((screen.getByTestId('annotate-text') as HTMLTextAreaElement).value).toBe('hello');
  });

  it('closes on Escape without sending anything', async () => {
    const calls = setup('editor');
    fireEvent.click(await screen.findByTestId('annotate-open'));
    fireEvent.keyDown(screen.getByTestId('annotate-text'), { key: 'Escape' });
    expect(screen.queryByTestId('annotate-form')).toBeNull();
    expect(calls.some((c) => c.init?.method === 'POST')).toBe(false);
  });
});
