import { useExpireSilence, useSilences, type Silence } from '../api/alerts';
import { formatDateTimeUTC, formatRelative } from '../lib/format';
import { matcherText } from '../lib/silences';
import { useNow } from '../lib/useNow';
import { QueryView, describeError } from './Panel';
import { TableHead } from './TableHead';

function SilenceRow({ s, mayExpire, highlight }: { s: Silence; mayExpire: boolean; highlight: boolean }) {
  const now = useNow();
  const expire = useExpireSilence();
  const err = expire.isError ? describeError(expire.error) : null;
  return (
    <tr
      data-testid="silence-row"
      data-silence-id={s.id}
      data-state={s.state}
      className={`silence-${s.state}${highlight ? ' selected' : ''}`}
    >
      <td>
        <span className={`pill silence-state-${s.state}`}>{s.state}</span>
      </td>
      <td className="mono small">
        {s.matchers.map((m, i) => (
          <span key={i} className="label-chip">
            {matcherText(m)}
          </span>
        ))}
      </td>
      <td>{s.created_by || '—'}</td>
      <td className="silence-comment">{s.comment}</td>
      <td title={formatDateTimeUTC(s.starts_ms) + ' UTC'}>{formatRelative(s.starts_ms, now)}</td>
      <td title={formatDateTimeUTC(s.ends_ms) + ' UTC'}>{formatRelative(s.ends_ms, now)}</td>
      <td className="mono small" title={s.id}>
        {s.id.slice(0, 8)}
      </td>
      {mayExpire && (
        <td>
          {s.state !== 'expired' && (
            <button
              type="button"
              className="btn btn-small"
              data-testid="silence-expire"
              disabled={expire.isPending}
              onClick={() => expire.mutate(s.id)}
              aria-label={`Expire silence ${s.id.slice(0, 8)}`}
            >
              Expire
            </button>
          )}
          {err && (
            <span className="form-error" role="alert">
              {err.title}: {err.detail}
            </span>
          )}
        </td>
      )}
    </tr>
  );
}

/** Silences: active first, then pending, then expired, as the server lists them. */
export function AlertSilences({
  mayEdit,
  onNew,
  selected,
}: {
  mayEdit: boolean;
  onNew: () => void;
  selected: string | null;
}) {
  const q = useSilences();
  return (
    <>
      {mayEdit && (
        <div className="row section-actions">
          <button type="button" className="btn btn-small" data-testid="silence-new" onClick={onNew}>
            New silence…
          </button>
        </div>
      )}
      <QueryView
        query={q}
        loading="Loading silences"
        isEmpty={(d) => !d.silences?.length}
        empty="No silences. A silence keeps matching alerts from notifying while it lasts."
      >
        {(d) => (
          <table className="table" data-testid="silences">
            <TableHead
              columns={[
                'State',
                'Matchers',
                'Created by',
                'Comment',
                'Starts',
                'Ends',
                'Id',
                ...(mayEdit ? [<span className="sr-only">Actions</span>] : []),
              ]}
            />
            <tbody>
              {d.silences.map((s) => (
                <SilenceRow key={s.id} s={s} mayExpire={mayEdit} highlight={s.id === selected} />
              ))}
            </tbody>
          </table>
        )}
      </QueryView>
    </>
  );
}
