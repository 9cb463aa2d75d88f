import { useRef } from 'react';

/** A ref that always holds the latest value: for chart hooks that uPlot calls later. */
export function useLatest<T>(value: T) {
  const ref = useRef(value);
  ref.current = value;
  return ref;
}
