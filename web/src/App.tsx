import { lazy, Suspense, useEffect, useSyncExternalStore } from 'react';
import { authStore } from './api/auth';
import { liveEvents } from './api/live';
import { Header } from './components/Header';
import { Notifications } from './components/Notifications';
import { SignIn } from './components/SignIn';
import { Loading } from './components/Panel';
import { Monitoring } from './pages/Monitoring';
import { uidFromPath } from './lib/dashboard';
import { usePath } from './router';
import { useSettings } from './settings';

/** Keeps the live events running while auto-refresh is on, and stops them (no requests at
 *  all) while it is off. */
function LiveConnection() {
  const { autoRefresh, intervalMs } = useSettings();
  const { token } = useSyncExternalStore(authStore.subscribe, authStore.get);
  useEffect(() => {
    if (!autoRefresh) {
      liveEvents.stop();
      return;
    }
    liveEvents.start(token, intervalMs);
    return () => liveEvents.stop();
  }, [autoRefresh, intervalMs, token]);
  return null;
}

// Dashboards and Explore load on first visit, so the Monitoring page, the one opened all day,
// parses only its own code on a first load.
const Dashboards = lazy(() => import('./pages/Dashboards').then((m) => ({ default: m.Dashboards })));
const Explore = lazy(() => import('./pages/Explore').then((m) => ({ default: m.Explore })));
const DashboardView = lazy(() => import('./pages/DashboardView').then((m) => ({ default: m.DashboardView })));
const Alerts = lazy(() => import('./pages/Alerts').then((m) => ({ default: m.Alerts })));

function NotFound() {
  return (
    <div className="page">
      <section className="panel">
        <div className="panel-body">
          <p className="state state-empty">
            No page here. Go to <a href="/">Monitoring</a>.
          </p>
        </div>
      </section>
    </div>
  );
}

export function App() {
  const path = usePath();
  const page =
    path === '/' ? (
      <Monitoring />
    ) : path === '/dashboards' ? (
      <Suspense fallback={<Loading what="Loading dashboards" />}>
        <Dashboards />
      </Suspense>
    ) : path.startsWith('/d/') && path.length > 3 ? (
      // Grafana's URL for a dashboard: /d/{uid} (an optional /{slug} after it is ignored).
      <Suspense fallback={<Loading what="Loading the dashboard" />}>
        <DashboardView uid={uidFromPath(path)} />
      </Suspense>
    ) : path === '/explore' || path === '/graph' ? (
      <Suspense fallback={<Loading what="Loading Explore" />}>
        <Explore />
      </Suspense>
    ) : path === '/alerts' ? (
      <Suspense fallback={<Loading what="Loading alerts" />}>
        <Alerts />
      </Suspense>
    ) : (
      <NotFound />
    );
  // /graph is Prometheus's path for an expression: alerts link there (generatorURL).
  const titles: Record<string, string> = {
    '/': 'Monitoring',
    '/dashboards': 'Dashboards',
    '/explore': 'Explore',
    '/graph': 'Explore',
    '/alerts': 'Alerts',
  };
  useEffect(() => {
    document.title = `${titles[path] ?? (path.startsWith('/d/') ? 'Dashboard' : 'Not found')} · breakwatch`;
  }, [path]);
  return (
    <>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <Header />
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      <Notifications />
      <SignIn />
      <LiveConnection />
    </>
  );
}
