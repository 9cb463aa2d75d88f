import { useSessions } from './api/hooks';
import { CURRENT, type Session } from './api/types';
import { useSettings } from './settings';

/** The default session: the active one (the newest if several), else the newest. */
export function defaultSession(sessions: Session[]): Session | null {
  return sessions.find((s) => s.active) ?? sessions[0] ?? null;
}


/** The session the page shows: the one chosen, else the default. `id` is its real id once
 *  known; `fetchId` is what the views ask for: the chosen id, else CURRENT, so they load in
 *  parallel with the session list instead of after it (null once the list is known empty). */
export function useSelectedSession() {
  const sessions = useSessions();
  const { sessionId } = useSettings();
  const list = sessions.data?.sessions ?? [];
  const session =
    (sessionId ? list.find((s) => s.id === sessionId) : null) ?? (sessionId ? null : defaultSession(list));
  const fetchId = sessionId ?? (sessions.isSuccess && list.length === 0 ? null : CURRENT);
  return { sessions, list, id: sessionId ?? session?.id ?? null, fetchId, session };
}
