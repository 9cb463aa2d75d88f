import { useReloadRules, useRules, type RuleGroup } from '../api/alerts';
import { formatRelative, formatSeconds } from '../lib/format';
import { useNow } from '../lib/useNow';
import { QueryView, describeError } from './Panel';
import { TableHead } from './TableHead';

const ms = (rfc3339: string | undefined) => {
  const t = rfc3339 ? Date.parse(rfc3339) : NaN;
  // Prometheus writes 0001-01-01T00:00:00Z for "never".
  return Number.isFinite(t) && t > 0 ? t : null;
};

function Group({ g }: { g: RuleGroup }) {
  const now = useNow();
  return (
    <section className="rule-group" data-testid="rule-group" data-group={g.name} aria-label={`Rule group ${g.name}`}>
      <h3 className="rule-group-head">
        {g.name}
        <span className="muted small">
          {g.file} · every {formatSeconds(g.interval)} · evaluated {formatRelative(ms(g.lastEvaluation), now)} in{' '}
          {formatSeconds(g.evaluationTime)}
        </span>
      </h3>
      <table className="table rules-table">
        <TableHead columns={['Rule', 'State', 'Health', 'Last evaluation', 'Evaluation time', 'Error']} />
        <tbody>
          {g.rules.map((r) => (
            <tr
              key={`${r.type}:${r.name}:${r.query}`}
              data-testid="rule-row"
              data-rule={r.name}
              data-state={r.state ?? ''}
              data-health={r.health}
            >
              <td>
                <strong>{r.name}</strong>
                <span className="muted small"> {r.type === 'alerting' ? 'alert' : 'record'}</span>
                <code className="rule-query">{r.query}</code>
                {r.type === 'alerting' && !!r.duration && (
                  <span className="muted small"> for {formatSeconds(r.duration)}</span>
                )}
              </td>
              <td>
                {r.type === 'alerting' ? (
                  <span className={`pill rule-state-${r.state}`} data-testid="rule-state">
                    {r.state}
                    {r.alerts?.length ? ` (${r.alerts.length})` : ''}
                  </span>
                ) : (
                  '—'
                )}
              </td>
              <td>
                <span className={`pill health-${r.health}`}>{r.health}</span>
              </td>
              <td>{formatRelative(ms(r.lastEvaluation), now)}</td>
              <td>{formatSeconds(r.evaluationTime)}</td>
              <td className="rule-error" data-testid={r.lastError ? 'rule-error' : undefined}>
                {r.lastError}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

/** The rule groups as Prometheus' /api/v1/rules gives them. */
export function AlertRules() {
  const q = useRules();
  return (
    <QueryView
      query={q}
      loading="Loading rules"
      isEmpty={(d) => !d.length}
      empty="No rules loaded. List rule files under alerting: rule_files in the configuration."
    >
      {(groups) => (
        <div data-testid="rules">
          {groups.map((g) => (
            <Group key={`${g.file}:${g.name}`} g={g} />
          ))}
        </div>
      )}
    </QueryView>
  );
}

type Reload = ReturnType<typeof useReloadRules>;

/** "Reload rules" (editors), with the answer's counts. */
export function ReloadButton({ reload }: { reload: Reload }) {
  return (
    <div className="reload">
      <button
        type="button"
        className="btn btn-small"
        data-testid="rules-reload"
        disabled={reload.isPending}
        onClick={() => reload.mutate()}
      >
        {reload.isPending ? 'Reloading…' : 'Reload rules'}
      </button>
      <span role="status" className="small">
        {reload.isSuccess && (
          <span className="pos" data-testid="rules-reload-ok">
            Reloaded: {reload.data.groups} groups, {reload.data.rules} rules
          </span>
        )}
      </span>
    </div>
  );
}

/** A refused reload: the server's error (file:line:col); the old rules keep running. */
export function ReloadError({ reload }: { reload: Reload }) {
  if (!reload.isError) return null;
  return (
    <pre className="error-msg reload-error" role="alert" data-testid="rules-reload-error">
      {describeError(reload.error).detail}
    </pre>
  );
}
