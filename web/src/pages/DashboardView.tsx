// /d/{uid}: one dashboard file from monitoring/grafana/dashboards/, read afresh on every
// visit (the server reads the file on every request), drawn by GrafanaDashboard.
import { useEffect } from 'react';
import { useDashboard } from '../api/dashboards';
import { GrafanaDashboard } from '../components/GrafanaDashboard';
import { Loading, ErrorState } from '../components/Panel';
import { Link } from '../router';

export function DashboardView({ uid }: { uid: string }) {
  const q = useDashboard(uid);
  useEffect(() => {
    if (q.data?.title) document.title = `${q.data.title} · breakwatch`;
  }, [q.data?.title]);
  if (q.data) return <GrafanaDashboard key={uid} dash={q.data} />;
  return (
    <div className="page">
      <p className="hint">
        <Link href="/dashboards">← All dashboards</Link>
      </p>
      <section className="panel">
        <div className="panel-body">
          {q.isError ? (
            <ErrorState error={q.error} onRetry={() => q.refetch()} />
          ) : (
            <Loading what="Loading the dashboard" />
          )}
        </div>
      </section>
    </div>
  );
}
