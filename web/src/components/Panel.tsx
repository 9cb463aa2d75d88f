// A titled section of the page, and the states every panel shows the same way: loading,
// unavailable, failed, empty.
import type { ReactNode } from 'react';
import type { UseQueryResult } from '@tanstack/react-query';
import { ApiError } from '../api/client';

export function Panel({
  title,
  testId,
  actions,
  children,
  className = '',
}: {
  title: ReactNode;
  testId?: string;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  const id = testId ? `panel-${testId}` : undefined;
  return (
    <section className={`panel ${className}`} data-testid={testId} aria-labelledby={id}>
      <header className="panel-head">
        <h2 id={id}>{title}</h2>
        {actions && <div className="panel-actions">{actions}</div>}
      </header>
      <div className="panel-body">{children}</div>
    </section>
  );
}

export function Loading({ what = 'Loading' }: { what?: string }) {
  return (
    <div className="state state-loading" role="status" aria-busy="true" data-testid="state-loading">
      <span className="spinner" aria-hidden="true" />
      {what}…
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <div className="state state-empty" data-testid="state-empty">
      {children}
    </div>
  );
}

/** What a failed request means to the reader. */
export function describeError(error: unknown): { title: string; detail: string; kind: 'missing' | 'auth' | 'error' } {
  if (error instanceof ApiError) {
    if (error.status === 404 && /no such endpoint/i.test(error.message))
      return { title: 'Not available', detail: 'This breakwatch does not serve this view yet.', kind: 'missing' };
    if (error.status === 404) return { title: 'Not found', detail: error.message, kind: 'missing' };
    if (error.status === 401)
      return { title: 'Sign in needed', detail: 'Sign in with a token to see this.', kind: 'auth' };
    if (error.status === 403) return { title: 'Not allowed', detail: error.message, kind: 'auth' };
    if (error.status === 503) return { title: 'Unavailable', detail: error.message, kind: 'missing' };
    if (error.status === 0) return { title: 'Offline', detail: error.message, kind: 'error' };
    return { title: `Error ${error.status || ''}`.trim(), detail: error.message, kind: 'error' };
  }
  return { title: 'Error', detail: error instanceof Error ? error.message : String(error), kind: 'error' };
}

export function ErrorState({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const d = describeError(error);
  return (
    <div className={`state state-error state-${d.kind}`} role="alert" data-testid="state-error">
      <strong>{d.title}</strong>
      <span>{d.detail}</span>
      {onRetry && d.kind === 'error' && (
        <button type="button" className="btn btn-small" onClick={onRetry}>
          Retry
        </button>
      )}
    </div>
  );
}

/** Renders a query's data, or its loading, error or empty state. With data already shown,
 *  a failed refresh keeps it and says so. */
export function QueryView<T>({
  query,
  empty,
  isEmpty,
  loading,
  children,
}: {
  query: UseQueryResult<T>;
  empty?: ReactNode;
  isEmpty?: (d: T) => boolean;
  loading?: string;
  children: (d: T) => ReactNode;
}) {
  if (query.data === undefined) {
    if (query.isError) return <ErrorState error={query.error} onRetry={() => query.refetch()} />;
    if (query.isPending && query.fetchStatus === 'idle') return <Empty>{empty ?? 'Nothing selected.'}</Empty>;
    return <Loading what={loading} />;
  }
  return (
    <>
      {query.isError && (
        <div className="stale" role="status">
          Showing the last answer: {describeError(query.error).detail}
        </div>
      )}
      {isEmpty?.(query.data) ? <Empty>{empty ?? 'No data.'}</Empty> : children(query.data)}
    </>
  );
}
