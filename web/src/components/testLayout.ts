// For tests of components that measure themselves: every element 600 px wide, and a
// ResizeObserver that never fires (jsdom has neither layout nor ResizeObserver).
import { vi } from 'vitest';

export function stubLayout() {
  Object.defineProperty(HTMLElement.prototype, 'clientWidth', { configurable: true, get: () => 600 });
  vi.stubGlobal(
    'ResizeObserver',
    class {
      observe() {}
      disconnect() {}
    },
  );
}
