import { useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { useCreateSilence, type Alert } from '../api/alerts';
import { formatDateTimeUTC } from '../lib/format';
import { matchesLabels, parseDuration, parseMatchers } from '../lib/silences';
import { describeError } from './Panel';

export const SILENCE_DURATIONS = ['30m', '1h', '2h', '4h', '12h', '1d', '1w'];

/** "Silence…": a dialog for a new silence: matchers (prefilled from an alert's labels), how
 *  long, a comment. It says how many of the current alerts the matchers catch before it is
 *  sent, and the server's refusal if there is one. */
export function SilenceForm({
  initial,
  alerts,
  onClose,
}: {
  initial: string;
  alerts: readonly Alert[];
  onClose: (created: string | null) => void;
}) {
  const [text, setText] = useState(initial);
  const [duration, setDuration] = useState('2h');
  const [custom, setCustom] = useState('');
  const [comment, setComment] = useState('');
  const [invalid, setInvalid] = useState<string | null>(null);
  const first = useRef<HTMLTextAreaElement>(null);
  const post = useCreateSilence();
  useEffect(() => first.current?.focus(), []);

  const parsed = parseMatchers(text);
  const dur = duration === 'custom' ? custom.trim() : duration;
  const durMs = parseDuration(dur);
  const caught =
    'matchers' in parsed
      ? alerts.filter((a) => a.state !== 'resolved' && matchesLabels(parsed.matchers, a.labels)).length
      : null;

  const submit = (e?: FormEvent) => {
    e?.preventDefault();
    if (post.isPending) return;
    if ('error' in parsed) return setInvalid(parsed.error);
    if (durMs === null) return setInvalid(`"${dur}" is not a duration (e.g. 2h, 90m, 1d)`);
    if (!comment.trim()) return setInvalid('Say why (the comment is shown with the silence).');
    setInvalid(null);
    post.mutate(
      { matchers: parsed.matchers, duration: dur, comment: comment.trim() },
      { onSuccess: (r) => onClose(r.id) },
    );
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      onClose(null);
    } else if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      submit();
    }
  };
  const refused = post.isError ? describeError(post.error) : null;
  const err = invalid ?? (refused ? `${refused.title}: ${refused.detail}` : null);

  return (
    <div className="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose(null)}>
      <form
        className="dialog silence-form"
        role="dialog"
        aria-modal="true"
        aria-labelledby="silence-title"
        data-testid="silence-form"
        onSubmit={submit}
        onKeyDown={onKey}
      >
        <h2 id="silence-title">New silence</h2>
        <label className="field-block">
          <span className="field-label">Matchers (Alertmanager syntax, one per line or comma-separated)</span>
          <textarea
            ref={first}
            rows={4}
            spellCheck={false}
            data-testid="silence-matchers"
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setInvalid(null);
            }}
            aria-describedby="silence-caught"
          />
        </label>
        <p id="silence-caught" className="muted small" data-testid="silence-caught">
          {'error' in parsed
            ? parsed.error
            : `Matches ${caught} of the pending and firing alerts now.`}
        </p>
        <div className="row">
          <label className="field">
            <span className="field-label">For</span>
            <select data-testid="silence-duration" value={duration} onChange={(e) => setDuration(e.target.value)}>
              {SILENCE_DURATIONS.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
              <option value="custom">other…</option>
            </select>
          </label>
          {duration === 'custom' && (
            <label className="field">
              <span className="sr-only">Duration</span>
              <input
                data-testid="silence-duration-custom"
                value={custom}
                placeholder="e.g. 90m"
                size={8}
                onChange={(e) => setCustom(e.target.value)}
              />
            </label>
          )}
          <span className="muted small">
            {durMs !== null ? `until ${formatDateTimeUTC(Date.now() + durMs)} UTC` : 'not a duration'}
          </span>
        </div>
        <label className="field-block">
          <span className="field-label">Comment</span>
          <input
            data-testid="silence-comment"
            value={comment}
            placeholder="Why: maintenance, known issue, ticket…"
            onChange={(e) => {
              setComment(e.target.value);
              setInvalid(null);
            }}
          />
        </label>
        {err && (
          <p className="form-error" role="alert" data-testid="silence-error">
            {err}
          </p>
        )}
        <div className="row-end">
          <button type="button" className="btn btn-small btn-ghost" onClick={() => onClose(null)}>
            Cancel
          </button>
          <button
            type="submit"
            className="btn btn-small btn-primary"
            data-testid="silence-submit"
            disabled={post.isPending}
          >
            {post.isPending ? 'Creating…' : 'Create silence'}
          </button>
        </div>
      </form>
    </div>
  );
}
