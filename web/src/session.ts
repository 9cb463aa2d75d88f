import { useSessions } from './api/hooks';
import type { Session } from './api/types';
import { useSettings } from './settings';

/** The default session: the active one (the newest if several), else the newest. */
export function defaultSession(sessions: Session[]): Session | null {
  return sessions.find((s) => s.active) ?? sessions[0] ?? null;
}

/** The session the page shows: the one chosen, else the default. */
export function useSelectedSession() {
  const sessions = useSessions();
  const { sessionId } = useSettings();
  const list = sessions.data?.sessions ?? [];
  const session =
    (sessionId ? list.find((s) => s.id === sessionId) : null) ?? (sessionId ? null : defaultSession(list));
  return { sessions, list, id: sessionId ?? session?.id ?? null, session };
}
