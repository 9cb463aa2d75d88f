import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useMutation } from '@tanstack/react-query';
import { getJSON, postJSON } from '../api/client';
import { useRole } from '../api/hooks';
import { liveEvents } from '../api/live';
import { describeError } from './Panel';
import type { EventsResponse } from '../api/types';
import {
  NOTE_MAX,
  annotationRequest,
  eventFromAnswer,
  idFromAnswer,
  noteBytes,
  type AnnotationRequest,
} from '../lib/annotations';
import { can } from '../lib/roles';

export const ANNOTATIONS_PATH = '/api/monitoring/annotations';

/** Reads the new note back (the server answers once it is committed) and shows it in the feed
 *  at once, even with the stream paused or unavailable; if that fails, the stream brings it. */
function showNote(id: number | null, session: string) {
  if (id === null) return;
  getJSON<EventsResponse>('/api/monitoring/events', { session, before: id + 1, limit: 1 })
    .then((r) => {
      const ev = r.events[0];
      if (ev?.id === id) liveEvents.insert(ev);
    })
    .catch(() => {});
}

/** The form: a note for the selected session, sent with the user's token. On success the note
 *  shows in the feed at once (the stream brings it too). */
function AnnotateForm({ session, onClose }: { session: string; onClose: (added: boolean) => void }) {
  const [text, setText] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const area = useRef<HTMLTextAreaElement>(null);
  const post = useMutation({
    mutationFn: (req: AnnotationRequest) => postJSON<unknown>(ANNOTATIONS_PATH, req),
    onSuccess: (body, req) => {
      const ev = eventFromAnswer(body);
      if (ev) liveEvents.insert(ev);
      else showNote(idFromAnswer(body), req.session);
      onClose(true);
    },
  });

  useEffect(() => area.current?.focus(), []);

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (post.isPending) return;
    const req = annotationRequest(text, session);
    if ('error' in req) return setInvalid(req.error);
    setInvalid(null);
    post.mutate(req);
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose(false);
    } else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submit();
    }
  };
  const error = invalid ?? (post.isError ? describeError(post.error) : null);

  return (
    <form
      id="annotate-form"
      className="annotate-form"
      data-testid="annotate-form"
      onSubmit={submit}
      onKeyDown={onKey}
      aria-labelledby="annotate-title"
    >
      <h3 id="annotate-title">Add a note to session {session.slice(0, 8)}</h3>
      <label className="sr-only" htmlFor="annotate-text">
        Note
      </label>
      <textarea
        id="annotate-text"
        ref={area}
        data-testid="annotate-text"
        value={text}
        maxLength={NOTE_MAX}
        rows={3}
        placeholder="What happened, what you did — everyone watching this session sees it in the feed"
        onChange={(e) => {
          setText(e.target.value);
          setInvalid(null);
        }}
        aria-describedby={error ? 'annotate-error' : undefined}
      />
      {error && (
        <p className="annotate-error" id="annotate-error" role="alert" data-testid="annotate-error">
          {typeof error === 'string' ? error : `${error.title}: ${error.detail}`}
        </p>
      )}
      <div className="row-end">
        <span className="muted small annotate-count">
          {noteBytes(text)}/{NOTE_MAX} · Ctrl/⌘ + Enter
        </span>
        <button type="button" className="btn btn-small btn-ghost" onClick={() => onClose(false)}>
          Cancel
        </button>
        <button
          type="submit"
          className="btn btn-small btn-primary"
          data-testid="annotate-submit"
          disabled={post.isPending || !text.trim()}
        >
          {post.isPending ? 'Adding…' : 'Add note'}
        </button>
      </div>
    </form>
  );
}

/** "Add note" in the event feed's header: for the roles that may annotate (editor, admin). */
export function Annotate({ session }: { session: string | null }) {
  const role = useRole();
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => setOpen(false), [session]);
  if (!can(role, 'events.annotate')) return null;
  const close = () => {
    setOpen(false);
    button.current?.focus();
  };
  return (
    <div className="annotate">
      <button
        ref={button}
        type="button"
        className={`btn btn-small ${open ? 'active' : ''}`}
        data-testid="annotate-open"
        aria-expanded={open}
        aria-controls={open ? 'annotate-form' : undefined}
        disabled={!session}
        title={session ? 'Add a note to this session’s event feed' : 'Choose a session first'}
        onClick={() => (open ? close() : setOpen(true))}
      >
        <span aria-hidden="true">✎ </span>Add note
      </button>
      {open && session && <AnnotateForm session={session} onClose={close} />}
    </div>
  );
}
