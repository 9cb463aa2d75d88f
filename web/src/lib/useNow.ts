import { useSyncExternalStore } from 'react';

// One clock for the whole page, ticking once a second while anything shows a relative time,
// so that every "3 min ago" updates in the same frame.
let now = Date.now();
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;

function subscribe(l: () => void) {
  listeners.add(l);
  if (!timer)
    timer = setInterval(() => {
      now = Date.now();
      listeners.forEach((f) => f());
    }, 1000);
  return () => {
    listeners.delete(l);
    if (!listeners.size && timer) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** The wall clock, to the second: for "3 min ago" texts. Only the component that shows such a
 *  text should call it, so that the ticks re-render nothing else. */
export function useNow(): number {
  return useSyncExternalStore(subscribe, () => now);
}
