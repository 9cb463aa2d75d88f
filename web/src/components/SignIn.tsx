import { useEffect, useRef, useState, useSyncExternalStore, type FormEvent } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { authStore } from '../api/auth';
import { liveEvents } from '../api/live';

/** Shown when the server answered 401: asks for a token, keeps it for this tab. */
export function SignIn() {
  const auth = useSyncExternalStore(authStore.subscribe, authStore.get);
  const qc = useQueryClient();
  const [token, setToken] = useState('');
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (auth.needsSignIn) input.current?.focus();
  }, [auth.needsSignIn]);

  if (!auth.needsSignIn) return null;

  const submit = (e: FormEvent) => {
    e.preventDefault();
    const t = token.trim();
    if (!t) return;
    authStore.signIn(t);
    setToken('');
    liveEvents.reset();
    qc.resetQueries();
  };

  return (
    <div className="overlay">
      <form
        className="signin"
        onKeyDown={(e) => e.key === 'Escape' && authStore.dismiss()}
        data-testid="signin-form"
        onSubmit={submit}
        role="dialog"
        aria-modal="true"
        aria-labelledby="signin-title"
      >
        <h2 id="signin-title">Sign in to breakwatch</h2>
        <p>This breakwatch asks for a token. Paste the bearer token you were given; it is kept for this tab only.</p>
        {auth.reason && (
          <p className="signin-error" role="alert" data-testid="signin-error">
            {auth.reason}
          </p>
        )}
        <label className="field field-block">
          <span className="field-label">Token</span>
          <input
            ref={input}
            type="password"
            autoComplete="current-password"
            value={token}
            onChange={(e) => setToken(e.target.value)}
            data-testid="signin-token"
            required
          />
        </label>
        <div className="row-end">
          <button type="button" className="btn btn-ghost" onClick={() => authStore.dismiss()}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" data-testid="signin-submit" disabled={!token.trim()}>
            Sign in
          </button>
        </div>
      </form>
    </div>
  );
}
