import { useSyncExternalStore } from 'react';
import { authStore } from '../api/auth';
import { useActiveAlerts } from '../api/alerts';
import { useWhoAmI } from '../api/hooks';
import { Link, usePath } from '../router';
import { REFRESH_CHOICES_MS, useSettings } from '../settings';
import { useSelectedSession } from '../session';
import { allowedActions, parseRole } from '../lib/roles';
import { formatDateTimeUTC, formatDurationMs } from '../lib/format';
import type { Session } from '../api/types';

const PAGES = [
  { href: '/', label: 'Monitoring' },
  { href: '/dashboards', label: 'Dashboards' },
  { href: '/explore', label: 'Explore' },
  { href: '/alerts', label: 'Alerts' },
];

/** The number of firing alerts, beside "Alerts" (nothing when none fire or alerting is off). */
function FiringBadge() {
  const q = useActiveAlerts();
  const list = Array.isArray(q.data?.alerts) ? q.data.alerts : [];
  const firing = q.data?.counts?.firing ?? list.filter((a) => a.state === 'firing').length;
  if (!firing) return null;
  const critical = list.some((a) => a.state === 'firing' && a.labels.severity === 'critical');
  return (
    <span
      className={`nav-count${critical ? ' nav-count-critical' : ''}`}
      data-testid="alerts-badge"
      data-count={firing}
      aria-label={`${firing} firing`}
    >
      {firing}
    </span>
  );
}

export function sessionLabel(s: Session): string {
  const when = formatDateTimeUTC(s.started_ms).slice(5, 16);
  const state = s.active ? '● live' : s.status;
  return `${when} · ${s.mode} · ${state} · ${s.id.slice(0, 8)}`;
}

function SessionSelect() {
  const { sessions, list, id } = useSelectedSession();
  const { setSessionId } = useSettings();
  const active = list.filter((s) => s.active);
  const past = list.filter((s) => !s.active);
  const unavailable = sessions.isError && !sessions.data;
  return (
    <label className="field">
      <span className="field-label">Session</span>
      <select
        data-testid="session-select"
        value={id ?? ''}
        disabled={!list.length}
        onChange={(e) => setSessionId(e.target.value || null)}
        aria-label="Session"
      >
        {!list.length && (
          <option value="">
            {sessions.isPending ? 'Loading…' : unavailable ? 'Sessions unavailable' : 'No sessions yet'}
          </option>
        )}
        {id && !list.some((s) => s.id === id) && list.length > 0 && (
          <option value={id}>{id.slice(0, 8)} (not found)</option>
        )}
        {active.length > 0 && (
          <optgroup label="Active">
            {active.map((s) => (
              <option key={s.id} value={s.id}>
                {sessionLabel(s)}
              </option>
            ))}
          </optgroup>
        )}
        {past.length > 0 && (
          <optgroup label="Past">
            {past.map((s) => (
              <option key={s.id} value={s.id}>
                {sessionLabel(s)}
              </option>
            ))}
          </optgroup>
        )}
      </select>
    </label>
  );
}

function RefreshControl() {
  const { autoRefresh, setAutoRefresh, intervalMs, setIntervalMs } = useSettings();
  return (
    <div className="refresh">
      <button
        type="button"
        role="switch"
        aria-checked={autoRefresh}
        className={`switch ${autoRefresh ? 'on' : ''}`}
        data-testid="auto-refresh"
        onClick={() => setAutoRefresh(!autoRefresh)}
        title={autoRefresh ? 'Auto-refresh is on: click to pause all updates' : 'Auto-refresh is off: click to resume'}
      >
        <span className="switch-knob" aria-hidden="true" />
        Auto-refresh
      </button>
      <select
        data-testid="refresh-interval"
        aria-label="Refresh interval"
        value={intervalMs}
        onChange={(e) => setIntervalMs(Number(e.target.value))}
      >
        {REFRESH_CHOICES_MS.map((ms) => (
          <option key={ms} value={ms}>
            {formatDurationMs(ms)}
          </option>
        ))}
      </select>
    </div>
  );
}

function RoleBadge() {
  const auth = useSyncExternalStore(authStore.subscribe, authStore.get);
  const who = useWhoAmI(auth.token);
  const role = parseRole(who.data?.role);
  let text: string;
  let title: string;
  if (who.data && !who.data.auth) {
    text = 'open';
    title = 'Authentication is off: everything is allowed from this machine';
  } else if (role) {
    text = role;
    title = `${who.data?.name ? who.data.name + ': ' : ''}${role} — may ${allowedActions(role).join(', ')}`;
  } else {
    text = who.isPending ? '…' : auth.needsSignIn ? 'signed out' : 'role unknown';
    title = 'Role not known';
  }
  return (
    <div className="who">
      <span
        className={`badge role role-${role ?? 'none'}`}
        data-testid="role-badge"
        data-role={role ?? ''}
        title={title}
      >
        {who.data?.name && <span className="who-name">{who.data.name} · </span>}
        {text}
      </span>
      {auth.token ? (
        <button
          type="button"
          className="btn btn-small btn-ghost"
          onClick={() => authStore.signOut()}
          data-testid="signout"
        >
          Sign out
        </button>
      ) : (
        who.data?.auth !== false && (
          <button
            type="button"
            className="btn btn-small btn-ghost"
            onClick={() => authStore.unauthorized(null)}
            data-testid="signin-open"
          >
            Sign in
          </button>
        )
      )}
    </div>
  );
}

export function Header() {
  const path = usePath();
  return (
    <header className="top">
      <Link href="/" className="brand" aria-label="breakwatch: monitoring">
        <svg viewBox="0 0 32 32" width="22" height="22" aria-hidden="true">
          <path
            d="M4 22h6l3-10 5 14 3-8h7"
            fill="none"
            stroke="currentColor"
            strokeWidth="2.5"
            strokeLinecap="round"
            strokeLinejoin="round"
          />
        </svg>
        breakwatch
      </Link>
      <nav aria-label="Pages">
        <ul>
          {PAGES.map((p) => (
            <li key={p.href}>
              <Link
                href={p.href}
                aria-current={
                  path === p.href || (p.href === '/dashboards' && path.startsWith('/d/')) ? 'page' : undefined
                }
                data-testid={`nav-${p.label.toLowerCase()}`}
              >
                {p.label}
                {p.href === '/alerts' && <FiringBadge />}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="top-controls">
        <SessionSelect />
        <RefreshControl />
        <RoleBadge />
      </div>
    </header>
  );
}
