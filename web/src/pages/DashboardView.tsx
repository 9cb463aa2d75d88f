// /d/{uid}: one dashboard file from monitoring/grafana/dashboards/, read afresh on every
// visit (the server reads the file on every request), drawn by GrafanaDashboard. Whatever the
// file's shape, the page stays: anything the renderer did not foresee is caught here and shown
// as an error naming the dashboard.
import { useEffect, type ReactNode } from 'react';
import { useDashboard } from '../api/dashboards';
import { ErrorBoundary } from '../components/ErrorBoundary';
import { GrafanaDashboard } from '../components/GrafanaDashboard';
import { Loading, ErrorState } from '../components/Panel';
import { text } from '../lib/dashboard';
import { Link } from '../router';

function Frame({ children }: { children: ReactNode }) {
  return (
    <div className="page">
      <p className="hint">
        <Link href="/dashboards">← All dashboards</Link>
      </p>
      <section className="panel">
        <div className="panel-body">{children}</div>
      </section>
    </div>
  );
}

function DashboardBoundary({ name, children }: { name: string; children: ReactNode }) {
  return (
    <ErrorBoundary
      fallback={(error) => (
        <Frame>
          <div className="state state-error" role="alert" data-testid="dashboard-error">
            <strong>The dashboard {name} could not be drawn</strong>
            <span className="error-msg">{error}</span>
          </div>
        </Frame>
      )}
    >
      {children}
    </ErrorBoundary>
  );
}

export function DashboardView({ uid }: { uid: string }) {
  const q = useDashboard(uid);
  const title = text(q.data?.title);
  useEffect(() => {
    if (title) document.title = `${title} · breakwatch`;
  }, [title]);
  if (q.data)
    return (
      <DashboardBoundary key={uid} name={title ? `“${title}” (${uid})` : uid}>
        <GrafanaDashboard dash={q.data} />
      </DashboardBoundary>
    );
  return (
    <Frame>
      {q.isError ? (
        <ErrorState error={q.error} onRetry={() => q.refetch()} />
      ) : (
        <Loading what="Loading the dashboard" />
      )}
    </Frame>
  );
}
