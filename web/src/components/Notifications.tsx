import { useEffect, useRef, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { useAckAlerts, useActiveAlerts } from '../api/alerts';
import { useRole } from '../api/hooks';
import { liveEvents } from '../api/live';
import { Link } from '../router';
import {
  EMPTY_NOTES,
  addEvents,
  dismiss,
  expire,
  groupText,
  type NoteGroup,
  type NoteState,
} from '../lib/notifications';
import {
  addAlerts,
  alertToastStatus,
  alertToastTitle,
  newlyFiring,
  syncAlertNotes,
  unacknowledged,
} from '../lib/alerts';
import { can } from '../lib/roles';
import { describeError } from './Panel';

const TTL_MS = 15_000;

/** An alert's toast: what fires, its summary, who acknowledged it; "Acknowledge" for those who
 *  may, and a link to the Alerts view. */
function AlertToastBody({ g }: { g: NoteGroup }) {
  const role = useRole();
  const ack = useAckAlerts();
  const n = g.alert!;
  const status = alertToastStatus(n);
  const open = unacknowledged(n);
  const err = ack.isError ? describeError(ack.error) : null;
  return (
    <span className="toast-text">
      <strong className="toast-title" data-testid="toast-title">
        {alertToastTitle(g)}
      </strong>
      {n.summary && (
        <span className="toast-summary" data-testid="toast-summary">
          {n.summary}
        </span>
      )}
      {status && (
        <span className="toast-status" data-testid="toast-ack">
          {status}
        </span>
      )}
      {err && (
        <span className="toast-error" role="alert">
          {err.title}: {err.detail}
        </span>
      )}
      <span className="toast-actions">
        {can(role, 'alerts.acknowledge') && open.length > 0 && (
          <button
            type="button"
            className="btn btn-small"
            data-testid="toast-acknowledge"
            disabled={ack.isPending}
            onClick={() => ack.mutate({ fingerprints: open })}
          >
            {ack.isPending ? 'Acknowledging…' : open.length > 1 ? `Acknowledge ${open.length}` : 'Acknowledge'}
          </button>
        )}
        <Link href="/alerts" className="toast-link" data-testid="toast-alerts-link">
          View in Alerts
        </Link>
      </span>
    </span>
  );
}

/** Toasts for notable live events and for alerts that start firing, grouped and
 *  deduplicated; critical events stay until dismissed, alerts until acknowledged or resolved. */
export function Notifications() {
  const [notes, setNotes] = useState<NoteState>(EMPTY_NOTES);
  const qc = useQueryClient();
  const alerts = useActiveAlerts();
  // The alerts seen firing (null until the first answer: what fires then is not news).
  const seen = useRef<string[] | null>(null);

  useEffect(
    () =>
      liveEvents.onBatch((batch) => {
        setNotes((s) => addEvents(s, batch, Date.now()));
        // An alert changed state: read the alerts now rather than at the next poll.
        if (batch.some((e) => e.type === 'alert')) qc.invalidateQueries({ queryKey: ['alerts'] });
      }),
    [qc],
  );

  useEffect(() => {
    const list = alerts.data?.alerts;
    if (!Array.isArray(list)) return;
    const r = newlyFiring(seen.current, list);
    seen.current = r.seen;
    const now = Date.now();
    setNotes((s) => syncAlertNotes(addAlerts(s, r.fresh, now), list, now));
  }, [alerts.data]);

  const expiring = notes.groups.some((g) => !g.sticky);
  useEffect(() => {
    if (!expiring) return;
    const t = setInterval(() => setNotes((s) => expire(s, Date.now(), TTL_MS)), 1000);
    return () => clearInterval(t);
  }, [expiring]);

  return (
    <section className="toasts" data-testid="notifications" aria-label="Notifications" aria-live="polite">
      {notes.groups.map((g) => {
        const text = g.alert ? alertToastTitle(g) : groupText(g);
        return (
          <div
            key={g.id}
            className={`toast level-${g.level}${g.alert ? ' toast-alert' : ''}`}
            data-testid="toast"
            data-count={g.count}
            data-alertname={g.alert?.alertname}
            role={g.level === 'critical' ? 'alert' : 'status'}
          >
            <span className="toast-icon" aria-hidden="true" />
            {g.alert ? <AlertToastBody g={g} /> : <span className="toast-text">{text}</span>}
            <button
              type="button"
              className="toast-close"
              aria-label={`Dismiss: ${text}`}
              onClick={() => setNotes((s) => dismiss(s, g.id))}
            >
              ×
            </button>
          </div>
        );
      })}
    </section>
  );
}
