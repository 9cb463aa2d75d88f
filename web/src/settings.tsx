// Page-wide settings: auto-refresh (on by default, every second) and the selected session.
import { createContext, useContext, useMemo, useState, type ReactNode } from 'react';
import { getSearchParam, setSearchParam } from './router';

export const REFRESH_CHOICES_MS = [1000, 2000, 5000, 10000, 30000];

export interface Settings {
  autoRefresh: boolean;
  intervalMs: number;
  setAutoRefresh(on: boolean): void;
  setIntervalMs(ms: number): void;
  /** The session the user chose; null: the active one (or the newest). */
  sessionId: string | null;
  setSessionId(id: string | null): void;
}

const Ctx = createContext<Settings | null>(null);

export function SettingsProvider({ children }: { children: ReactNode }) {
  const [autoRefresh, setAutoRefresh] = useState(true);
  const [intervalMs, setIntervalMs] = useState(1000);
  const [sessionId, setSession] = useState<string | null>(() => getSearchParam('session'));
  const value = useMemo<Settings>(
    () => ({
      autoRefresh,
      intervalMs,
      setAutoRefresh,
      setIntervalMs,
      sessionId,
      setSessionId(id) {
        setSession(id);
        setSearchParam('session', id);
      },
    }),
    [autoRefresh, intervalMs, sessionId],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSettings(): Settings {
  const s = useContext(Ctx);
  if (!s) throw new Error('useSettings outside SettingsProvider');
  return s;
}

/** The refetchInterval for TanStack Query: false (no polling at all) when auto-refresh is
 *  off; otherwise the chosen interval, or `atLeastMs` if that is longer (a chart whose points
 *  are a minute apart need not be fetched every second). */
export function useRefetchInterval(atLeastMs = 0): number | false {
  const { autoRefresh, intervalMs } = useSettings();
  return autoRefresh ? Math.max(intervalMs, atLeastMs) : false;
}
