// The bearer token (kept in sessionStorage, so it ends with the tab) and whether the server
// has asked for one. A tiny external store that React reads with useSyncExternalStore.

const KEY = 'breakwatch.token';

interface AuthState {
  token: string | null;
  /** The last request was answered 401: show the sign-in form. */
  needsSignIn: boolean;
  /** Why, when the server said (a rejected token, for instance). */
  reason: string | null;
}

function load(): string | null {
  try {
    return sessionStorage.getItem(KEY);
  } catch {
    return null;
  }
}

function forget() {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    /* nothing stored */
  }
}

let state: AuthState = { token: load(), needsSignIn: false, reason: null };
const listeners = new Set<() => void>();

function set(next: Partial<AuthState>) {
  state = { ...state, ...next };
  listeners.forEach((l) => l());
}

export const authStore = {
  get: (): AuthState => state,
  subscribe(l: () => void): () => void {
    listeners.add(l);
    return () => listeners.delete(l);
  },
  token: (): string | null => state.token,
  signIn(token: string) {
    try {
      sessionStorage.setItem(KEY, token);
    } catch {
      /* storage disabled: keep it in memory */
    }
    set({ token, needsSignIn: false, reason: null });
  },
  signOut() {
    forget();
    set({ token: null, needsSignIn: false, reason: null });
  },
  /** Closes the sign-in form without signing in. */
  dismiss() {
    set({ needsSignIn: false, reason: null });
  },
  /** Opens the sign-in form (unless it is open), saying `reason`. */
  unauthorized(reason: string | null) {
    if (!state.needsSignIn) set({ needsSignIn: true, reason });
  },
  /** The server answered 401 to a request sent with `sent` (the token then, or null). A
   *  token it refused is forgotten, in storage too, so the page is signed out, not signed in
   *  with a token that does not work; the sign-in form opens with `reason`. An answer to a
   *  token since replaced (or to none, with one since signed in) is stale: nothing changes. */
  rejected(sent: string | null, reason: string | null) {
    if (sent !== state.token) return;
    if (sent === null) {
      authStore.unauthorized(reason);
      return;
    }
    forget();
    set({ token: null, needsSignIn: true, reason });
  },
};
