import { useReceivers, useTestReceiver, type Receiver } from '../api/alerts';
import { formatDateTimeUTC, formatRelative } from '../lib/format';
import { useNow } from '../lib/useNow';
import { QueryView, describeError } from './Panel';
import { TableHead } from './TableHead';

function ReceiverRow({ r, mayTest }: { r: Receiver; mayTest: boolean }) {
  const now = useNow();
  const test = useTestReceiver();
  const err = test.isError ? describeError(test.error) : null;
  const failing = !!r.last_error;
  return (
    <tr data-testid="receiver-row" data-receiver={r.name} className={failing ? 'row-bad' : ''}>
      <th scope="row">{r.name}</th>
      <td>{r.integrations.join(', ') || '—'}</td>
      <td title={formatDateTimeUTC(r.last_attempt_ms) + ' UTC'}>{formatRelative(r.last_attempt_ms, now)}</td>
      <td title={formatDateTimeUTC(r.last_success_ms) + ' UTC'}>{formatRelative(r.last_success_ms, now)}</td>
      <td className="receiver-error">{r.last_error || (r.last_attempt_ms ? 'ok' : '')}</td>
      {mayTest && (
        <td>
          <button
            type="button"
            className="btn btn-small"
            data-testid="receiver-test"
            disabled={test.isPending}
            onClick={() => test.mutate(r.name)}
          >
            Send test notification
          </button>
          <span role="status" className="small">
            {test.isSuccess && <span className="pos"> {test.data.status}</span>}
            {err && (
              <span className="form-error">
                {' '}
                {err.title}: {err.detail}
              </span>
            )}
          </span>
        </td>
      )}
    </tr>
  );
}

/** Where notifications go, and how the last attempt went. */
export function AlertReceivers({ mayTest }: { mayTest: boolean }) {
  const q = useReceivers();
  return (
    <QueryView
      query={q}
      loading="Loading receivers"
      isEmpty={(d) => !d.receivers?.length}
      empty="No receivers configured (alerting: receivers)."
    >
      {(d) => (
        <table className="table" data-testid="receivers">
          <TableHead
            columns={[
              'Receiver',
              'Integrations',
              'Last attempt',
              'Last success',
              'Last error',
              ...(mayTest ? [<span className="sr-only">Actions</span>] : []),
            ]}
          />
          <tbody>
            {d.receivers.map((r) => (
              <ReceiverRow key={r.name} r={r} mayTest={mayTest} />
            ))}
          </tbody>
        </table>
      )}
    </QueryView>
  );
}
