import { useDashboardList } from '../api/dashboards';
import { Panel, QueryView } from '../components/Panel';
import { RangeBar, useZoomableRange } from '../components/RangePicker';
import { TableHead } from '../components/TableHead';
import { Link } from '../router';
import { LatencyPanel, MemoryPanel, SignalHeatmapPanel, StateTimelinePanel } from '../components/DashboardPanels';
import { HOUR } from '../lib/range';
import { tagsOf } from '../lib/dashboard';

/** The dashboard files the server reads (monitoring/grafana/dashboards/ with `make run`), each
 *  opening at /d/{uid} as in Grafana; a file that is not valid JSON shows the parser's error. */
function DashboardFiles() {
  const q = useDashboardList();
  return (
    <Panel title="Dashboard files" testId="dashboard-files">
      <p className="hint">
        The Grafana dashboards breakwatch reads from its <code>--dashboards-dir</code> (with <code>make run</code>,{' '}
        <code>monitoring/grafana/dashboards/</code>), drawn here as Grafana draws them and at the same address,{' '}
        <code>/d/&#123;uid&#125;</code>. A file is read again on every load: change it, reload, and the change shows
        here and in Grafana.
      </p>
      {q.data?.warnings.map((w) => (
        <div key={w} className="state state-error dashboards-warning" role="alert" data-testid="dashboards-warning">
          {w}
        </div>
      ))}
      <QueryView query={q} isEmpty={(d) => d.files.length === 0} empty="No dashboard files (see --dashboards-dir).">
        {({ files }) => (
          <table className="table compact">
            <TableHead columns={['Dashboard', 'Tags', 'File']} />
            <tbody>
              {files.map((f) => (
                <tr key={f.file} data-testid="dashboard-file" data-file={f.file} data-uid={f.uid ?? ''}>
                  <td>
                    {f.error || !f.uid ? (
                      <span className="state-error" data-testid="dashboard-file-error">
                        {f.error ?? 'no uid'}
                      </span>
                    ) : (
                      <Link href={`/d/${encodeURIComponent(f.uid)}`} data-testid="dashboard-link">
                        {f.title || f.uid}
                      </Link>
                    )}
                  </td>
                  <td>
                    {tagsOf(f.tags).map((t) => (
                      <span key={t} className="badge">
                        {t}
                      </span>
                    ))}
                  </td>
                  <td className="mono">{f.file}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </QueryView>
    </Panel>
  );
}

export function Dashboards() {
  const r = useZoomableRange({ kind: 'relative', ms: HOUR });
  const props = { range: r.range, onZoom: r.onZoom };
  return (
    <div className="page dashboards">
      <div className="toolbar">
        <h1>Dashboards</h1>
        <RangeBar r={r} />
      </div>
      <DashboardFiles />
      <p className="hint">Drag across any chart to zoom every chart to that range.</p>
      <StateTimelinePanel {...props} />
      <SignalHeatmapPanel {...props} />
      <LatencyPanel {...props} />
      <MemoryPanel {...props} />
    </div>
  );
}
