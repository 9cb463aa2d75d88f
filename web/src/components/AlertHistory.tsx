import { useAlertHistory } from '../api/alerts';
import { formatDateTimeUTC } from '../lib/format';
import { flattenHistory, historyFailed, historyText, labelText } from '../lib/alerts';
import { Empty, ErrorState, Loading } from './Panel';
import { TableHead } from './TableHead';

/** Every transition, notification, acknowledgment and silence, newest first, in pages. */
export function AlertHistory() {
  const q = useAlertHistory();
  if (!q.data) {
    if (q.isError) return <ErrorState error={q.error} onRetry={() => q.refetch()} />;
    return <Loading what="Loading history" />;
  }
  const rows = flattenHistory(q.data.pages);
  if (!rows.length) return <Empty>No alert history yet.</Empty>;
  return (
    <>
      <table className="table" data-testid="alert-history">
        <TableHead columns={['Time (UTC)', 'Kind', 'Alert', 'What happened', 'Labels']} />
        <tbody>
          {rows.map((h) => (
            <tr key={h.id} data-testid="history-row" data-kind={h.kind} className={historyFailed(h) ? 'row-bad' : ''}>
              <td className="mono small">{formatDateTimeUTC(h.at_ms)}</td>
              <td>
                <span className={`pill history-${h.kind}`}>{h.kind}</span>
              </td>
              <td>{h.alertname ?? '—'}</td>
              <td>{historyText(h)}</td>
              <td className="mono small history-labels">{h.labels ? labelText(h.labels) : ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="row-center">
        {q.hasNextPage ? (
          <button
            type="button"
            className="btn btn-small"
            data-testid="history-load-older"
            disabled={q.isFetchingNextPage}
            onClick={() => q.fetchNextPage()}
          >
            {q.isFetchingNextPage ? 'Loading…' : 'Load older'}
          </button>
        ) : (
          <span className="muted small">The beginning of the history.</span>
        )}
      </div>
    </>
  );
}
