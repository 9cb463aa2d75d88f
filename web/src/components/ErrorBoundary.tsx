import { Component, type ReactNode } from 'react';

/** Catches what its children throw while rendering and shows fallback(message) in their place,
 *  so that one bad part of a dashboard file takes down only that part. */
export class ErrorBoundary extends Component<
  { fallback: (error: string) => ReactNode; children: ReactNode },
  { error: string | null }
> {
  state = { error: null as string | null };
  static getDerivedStateFromError(e: unknown) {
    return { error: e instanceof Error ? e.message : String(e) };
  }
  render() {
    return this.state.error === null ? this.props.children : this.props.fallback(this.state.error);
  }
}
