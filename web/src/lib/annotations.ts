// Notes (annotations) that editors add to a session's event feed: the request the page sends
// to POST /api/monitoring/annotations, and how its answer and the note events are read.
import type { MonEvent } from '../api/types';

export const ANNOTATION = 'annotation';

/** Longest note, in UTF-8 bytes after trimming, as the server takes it. */
export const NOTE_MAX = 500;

const utf8 = new TextEncoder();

/** A note's length as the server counts it: UTF-8 bytes of the trimmed text. */
export function noteBytes(text: string): number {
  return utf8.encode(text.trim()).length;
}

export interface AnnotationRequest {
  text: string;
  session: string;
}

/** The body to POST, or why there is none: an empty note, or no session to attach it to. */
export function annotationRequest(text: string, session: string | null): AnnotationRequest | { error: string } {
  const t = text.trim();
  if (!t) return { error: 'Write a note first.' };
  const n = noteBytes(t);
  if (n > NOTE_MAX) return { error: `A note is at most ${NOTE_MAX} bytes (this one has ${n}).` };
  if (!session) return { error: 'Choose a session to add the note to.' };
  return { text: t, session };
}

function isEvent(x: unknown): x is MonEvent {
  const e = x as Partial<MonEvent> | null;
  return (
    !!e &&
    typeof e === 'object' &&
    typeof e.id === 'number' &&
    typeof e.type === 'string' &&
    typeof e.session_id === 'string' &&
    typeof e.sim_ms === 'number'
  );
}

/** The note event in a 201 answer: the event itself, or wrapped as {"event": …}. Null when
 *  the answer does not carry one (the stream brings it then). */
export function eventFromAnswer(body: unknown): MonEvent | null {
  if (isEvent(body)) return body;
  const wrapped = (body as { event?: unknown } | null)?.event;
  return isEvent(wrapped) ? wrapped : null;
}

/** The new note's event id in a 201 answer ({"id": 812}), null when there is none. */
export function idFromAnswer(body: unknown): number | null {
  const id = (body as { id?: unknown } | null)?.id;
  return typeof id === 'number' && Number.isInteger(id) && id > 0 ? id : null;
}

/** Who wrote a note (data.author), null when not said. */
export function authorOf(ev: Pick<MonEvent, 'data'>): string | null {
  const a = ev.data?.author;
  return typeof a === 'string' && a.trim() ? a : null;
}
