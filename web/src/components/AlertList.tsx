import { useState, type FormEvent } from 'react';
import { useAckAlerts, useUnackAlert, type Alert } from '../api/alerts';
import { DASH, formatDateTimeUTC, formatDurationMs, formatRelative, formatValue } from '../lib/format';
import { SEVERITY_ORDER, groupAlerts, labelNames, severityOf, type AlertFilter } from '../lib/alerts';
import { useNow } from '../lib/useNow';
import { describeError } from './Panel';

/** The alert list's filters: alert name, severities, free text. */
export function AlertFilters({
  filter,
  names,
  onChange,
}: {
  filter: AlertFilter;
  names: string[];
  onChange: (f: AlertFilter) => void;
}) {
  const toggle = (s: string) =>
    onChange({
      ...filter,
      severities: filter.severities.includes(s) ? filter.severities.filter((x) => x !== s) : [...filter.severities, s],
    });
  return (
    <div className="filters" role="group" aria-label="Filter alerts">
      <label className="field">
        <span className="field-label">Alert</span>
        <select
          data-testid="alert-filter-name"
          value={filter.alertname}
          onChange={(e) => onChange({ ...filter, alertname: e.target.value })}
        >
          <option value="">all</option>
          {names.map((n) => (
            <option key={n} value={n}>
              {n}
            </option>
          ))}
        </select>
      </label>
      <div className="chips" role="group" aria-label="Severity">
        {[...SEVERITY_ORDER, 'other'].map((s) => (
          <button
            key={s}
            type="button"
            className={`chip sev-${s}`}
            aria-pressed={filter.severities.includes(s)}
            data-testid={`alert-filter-${s}`}
            onClick={() => toggle(s)}
          >
            {s}
          </button>
        ))}
      </div>
      <label className="field">
        <span className="sr-only">Search labels and annotations</span>
        <input
          type="search"
          data-testid="alert-filter-text"
          placeholder="Search labels, summary…"
          value={filter.text}
          onChange={(e) => onChange({ ...filter, text: e.target.value })}
        />
      </label>
    </div>
  );
}

function Since({ a }: { a: Alert }) {
  const now = useNow();
  if (a.state === 'resolved')
    return <span title={formatDateTimeUTC(a.resolved_ms) + ' UTC'}>resolved {formatRelative(a.resolved_ms, now)}</span>;
  const from = a.state === 'firing' ? (a.fired_ms ?? a.active_ms) : a.active_ms;
  // Whole seconds: the clock ticks once a second.
  const secs = Math.floor((now - from) / 1000);
  return (
    <span title={`since ${formatDateTimeUTC(from)} UTC`}>
      {a.state} {secs < 1 ? 'just now' : `for ${formatDurationMs(secs * 1000)}`}
    </span>
  );
}

function AckForm({ a, onDone }: { a: Alert; onDone: () => void }) {
  const [comment, setComment] = useState('');
  const ack = useAckAlerts();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    ack.mutate({ fingerprints: [a.fingerprint], comment: comment.trim() || undefined }, { onSuccess: onDone });
  };
  const err = ack.isError ? describeError(ack.error) : null;
  return (
    <form
      className="ack-form"
      data-testid="ack-form"
      onSubmit={submit}
      onKeyDown={(e) => e.key === 'Escape' && onDone()}
    >
      <label className="sr-only" htmlFor={`ack-${a.fingerprint}`}>
        Comment (optional)
      </label>
      <input
        id={`ack-${a.fingerprint}`}
        data-testid="ack-comment"
        autoFocus
        value={comment}
        placeholder="Comment (optional): looking at it…"
        onChange={(e) => setComment(e.target.value)}
      />
      <button type="submit" className="btn btn-small btn-primary" data-testid="ack-submit" disabled={ack.isPending}>
        {ack.isPending ? 'Acknowledging…' : 'Acknowledge'}
      </button>
      <button type="button" className="btn btn-small btn-ghost" onClick={onDone}>
        Cancel
      </button>
      {err && (
        <span className="form-error" role="alert">
          {err.title}: {err.detail}
        </span>
      )}
    </form>
  );
}

function AlertItem({
  a,
  mayAck,
  maySilence,
  onSilence,
  onShowSilence,
}: {
  a: Alert;
  mayAck: boolean;
  maySilence: boolean;
  onSilence: (a: Alert) => void;
  onShowSilence: (id: string) => void;
}) {
  const now = useNow();
  const [acking, setAcking] = useState(false);
  const unack = useUnackAlert();
  const sev = severityOf(a);
  const { summary, description, ...other } = a.annotations ?? {};
  const open = a.state !== 'resolved';
  const unackErr = unack.isError ? describeError(unack.error) : null;
  return (
    <li
      className={`alert-item alert-${a.state} sev-border-${sev}`}
      data-testid="alert-item"
      data-fingerprint={a.fingerprint}
      data-state={a.state}
      data-alertname={a.labels.alertname}
    >
      <div className="alert-head">
        <span className={`pill sev-${sev}`}>{a.labels.severity ?? 'no severity'}</span>
        <span className={`alert-state state-${a.state}`}>
          <Since a={a} />
        </span>
        {a.silenced_by && (
          <button type="button" className="pill pill-silenced link" onClick={() => onShowSilence(a.silenced_by!)}>
            silenced
          </button>
        )}
        {a.ack && (
          <span className="alert-ack" data-testid="alert-ack" title={formatDateTimeUTC(a.ack.at_ms) + ' UTC'}>
            acknowledged by {a.ack.by} {formatRelative(a.ack.at_ms, now)}
            {a.ack.comment ? ` — “${a.ack.comment}”` : ''}
          </span>
        )}
      </div>
      {summary && (
        <p className="alert-summary" data-testid="alert-summary">
          {summary}
        </p>
      )}
      {description && <p className="alert-desc">{description}</p>}
      <ul className="labels" aria-label="Labels">
        {labelNames(a.labels).map((n) => (
          <li key={n} className="label-chip">
            <span className="label-name">{n}</span>=<span className="label-value">{a.labels[n]}</span>
          </li>
        ))}
      </ul>
      <dl className="alert-facts">
        <div>
          <dt>Value</dt>
          <dd className="mono">{formatValue(a.value)}</dd>
        </div>
        <div>
          <dt>Active since</dt>
          <dd>{formatDateTimeUTC(a.active_ms)}</dd>
        </div>
        <div>
          <dt>Fired</dt>
          <dd>{a.fired_ms ? formatDateTimeUTC(a.fired_ms) : DASH}</dd>
        </div>
        {a.resolved_ms && (
          <div>
            <dt>Resolved</dt>
            <dd>{formatDateTimeUTC(a.resolved_ms)}</dd>
          </div>
        )}
        <div>
          <dt>Receiver</dt>
          <dd>{a.receiver ?? DASH}</dd>
        </div>
        <div>
          <dt>Silenced by</dt>
          <dd className="mono">{a.silenced_by ? a.silenced_by.slice(0, 8) : DASH}</dd>
        </div>
        {Object.entries(other).map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      {open && (mayAck || maySilence) && (
        <div className="alert-actions">
          {mayAck && !a.ack && !acking && (
            <button
              type="button"
              className="btn btn-small"
              data-testid="alert-acknowledge"
              onClick={() => setAcking(true)}
            >
              Acknowledge…
            </button>
          )}
          {mayAck && a.ack && (
            <button
              type="button"
              className="btn btn-small btn-ghost"
              data-testid="alert-unacknowledge"
              disabled={unack.isPending}
              onClick={() => unack.mutate(a.fingerprint)}
            >
              Unacknowledge
            </button>
          )}
          {maySilence && !a.silenced_by && (
            <button type="button" className="btn btn-small" data-testid="alert-silence" onClick={() => onSilence(a)}>
              Silence…
            </button>
          )}
          {unackErr && (
            <span className="form-error" role="alert">
              {unackErr.title}: {unackErr.detail}
            </span>
          )}
        </div>
      )}
      {acking && <AckForm a={a} onDone={() => setAcking(false)} />}
    </li>
  );
}

/** Alerts grouped by alertname, each with its labels, annotations, value, times, receiver,
 *  silence and acknowledgment, and the actions the user may take. */
export function AlertList(props: {
  alerts: Alert[];
  mayAck: boolean;
  maySilence: boolean;
  onSilence: (a: Alert) => void;
  onShowSilence: (id: string) => void;
}) {
  const { alerts, ...rest } = props;
  return (
    <div className="alert-groups" data-testid="alert-list">
      {groupAlerts(alerts).map((g) => (
        <section key={g.alertname} className="alert-group" aria-label={g.alertname}>
          <h3 className="alert-group-head">
            <span className={`sev-dot sev-${g.severity}`} aria-hidden="true" />
            {g.alertname}
            <span className="badge">{g.alerts.length}</span>
          </h3>
          <ul className="alert-items">
            {g.alerts.map((a) => (
              <AlertItem key={a.fingerprint} a={a} {...rest} />
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}
