// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { SettingsProvider } from '../settings';
import { authStore } from '../api/auth';
import { SignIn } from './SignIn';
import { Header } from './Header';

const KEY = 'breakwatch.token';
const GOOD = 'bw_good';

/** Renders the header and the sign-in form against a fake breakwatch with auth on: `GOOD`
 *  is a viewer's token, any other token (or none) is answered 401. Returns the requests made,
 *  with the token each was sent with. */
function setup() {
  const calls: { url: string; token: string | null }[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init?: RequestInit) => {
      const auth = (init?.headers as Record<string, string> | undefined)?.Authorization ?? null;
      const token = auth?.replace(/^Bearer /, '') ?? null;
      calls.push({ url, token });
      if (token !== GOOD) {
        const error = token ? 'invalid token' : 'a bearer token is required';
        return new Response(JSON.stringify({ status: 'error', errorType: 'unauthorized', error }), { status: 401 });
      }
      const body = url.startsWith('/api/auth/whoami')
        ? { name: 'ops', role: 'viewer', auth: true }
        : { sessions: [], next: null };
      return new Response(JSON.stringify(body), { status: 200 });
    }),
  );
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  render(
    <QueryClientProvider client={qc}>
      <SettingsProvider>
        <Header />
        <SignIn />
      </SettingsProvider>
    </QueryClientProvider>,
  );
  return calls;
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  act(() => authStore.signOut());
  sessionStorage.clear();
});

describe('a token the server refuses', () => {
  it('is forgotten: the header offers only "Sign in", the form says why', async () => {
    act(() => authStore.signIn('bw_bad'));
    expect(sessionStorage.getItem(KEY)).toBe('bw_bad');
    const calls = setup();
    await waitFor(() => expect(screen.getByTestId('role-badge').textContent).toBe('signed out'));
    expect(calls.some((c) => c.token === 'bw_bad')).toBe(true);
    expect(sessionStorage.getItem(KEY)).toBeNull();
    expect(authStore.token()).toBeNull();
    expect(screen.queryByTestId('signout')).toBeNull();
    expect(screen.getByTestId('signin-open').textContent).toBe('Sign in');
    expect(screen.getByTestId('signin-error').textContent).toBe('invalid token');
  });

  it('is kept when it works: the header offers "Sign out"', async () => {
    act(() => authStore.signIn(GOOD));
    setup();
    await waitFor(() => expect(screen.getByTestId('role-badge').getAttribute('data-role')).toBe('viewer'));
    expect(sessionStorage.getItem(KEY)).toBe(GOOD);
    expect(screen.getByTestId('signout')).toBeTruthy();
    expect(screen.queryByTestId('signin-open')).toBeNull();
    expect(screen.queryByTestId('signin-form')).toBeNull();
  });

  it('does not sign out a token signed in after the refused request was sent', () => {
    act(() => authStore.signIn(GOOD));
    act(() => authStore.rejected('bw_old', 'invalid token'));
    expect(authStore.get()).toEqual({ token: GOOD, needsSignIn: false, reason: null });
    expect(sessionStorage.getItem(KEY)).toBe(GOOD);
    act(() => authStore.rejected(null, null));
    expect(authStore.get().token).toBe(GOOD);
    expect(authStore.get().needsSignIn).toBe(false);
  });
});
