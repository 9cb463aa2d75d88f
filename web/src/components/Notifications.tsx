import { useEffect, useState } from 'react';
import { liveEvents } from '../api/live';
import { EMPTY_NOTES, addEvents, dismiss, expire, groupText, type NoteState } from '../lib/notifications';

const TTL_MS = 15_000;

/** Toasts for notable live events, grouped and deduplicated; critical ones stay until
 *  dismissed. */
export function Notifications() {
  const [notes, setNotes] = useState<NoteState>(EMPTY_NOTES);

  useEffect(() => liveEvents.onBatch((batch) => setNotes((s) => addEvents(s, batch, Date.now()))), []);

  const expiring = notes.groups.some((g) => !g.sticky);
  useEffect(() => {
    if (!expiring) return;
    const t = setInterval(() => setNotes((s) => expire(s, Date.now(), TTL_MS)), 1000);
    return () => clearInterval(t);
  }, [expiring]);

  return (
    <section className="toasts" data-testid="notifications" aria-label="Notifications" aria-live="polite">
      {notes.groups.map((g) => (
        <div
          key={g.id}
          className={`toast level-${g.level}`}
          data-testid="toast"
          data-count={g.count}
          role={g.level === 'critical' ? 'alert' : 'status'}
        >
          <span className="toast-icon" aria-hidden="true" />
          <span className="toast-text">{groupText(g)}</span>
          <button
            type="button"
            className="toast-close"
            aria-label={`Dismiss: ${groupText(g)}`}
            onClick={() => setNotes((s) => dismiss(s, g.id))}
          >
            ×
          </button>
        </div>
      ))}
    </section>
  );
}
