import { useMemo, useState, type KeyboardEvent } from 'react';
import { useAllAlerts, useReloadRules, type Alert } from '../api/alerts';
import { useRole } from '../api/hooks';
import { AlertFilters, AlertList } from '../components/AlertList';
import { AlertHistory } from '../components/AlertHistory';
import { AlertReceivers } from '../components/AlertReceivers';
import { AlertRules, ReloadButton, ReloadError } from '../components/AlertRules';
import { AlertSilences } from '../components/AlertSilences';
import { Empty, QueryView } from '../components/Panel';
import { SilenceForm } from '../components/SilenceForm';
import { NO_FILTER, alertnames, countStates, filterAlerts, sortAlerts } from '../lib/alerts';
import { matchersForLabels } from '../lib/silences';
import { can } from '../lib/roles';
import { getSearchParam, setSearchParam } from '../router';

const TABS = [
  { id: 'firing', label: 'Firing' },
  { id: 'pending', label: 'Pending' },
  { id: 'resolved', label: 'Resolved' },
  { id: 'silences', label: 'Silences' },
  { id: 'history', label: 'History' },
  { id: 'rules', label: 'Rules' },
  { id: 'receivers', label: 'Receivers' },
] as const;
type Tab = (typeof TABS)[number]['id'];
type StateTab = 'firing' | 'pending' | 'resolved';

const isTab = (x: string | null): x is Tab => TABS.some((t) => t.id === x);

const EMPTY: Record<StateTab, string> = {
  firing: 'Nothing is firing.',
  pending: 'Nothing is pending: no alert condition is true right now.',
  resolved: 'No alert has resolved recently.',
};

/** The Alerts view: firing, pending and resolved alerts (filtered, grouped by alertname), the
 *  silences, the history, the rules and the receivers, with what an editor may do to each. */
export function Alerts() {
  const [tab, setTabState] = useState<Tab>(() => {
    const t = getSearchParam('tab');
    return isTab(t) ? t : 'firing';
  });
  const [filter, setFilter] = useState(NO_FILTER);
  const [silencing, setSilencing] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [selectedSilence, setSelectedSilence] = useState<string | null>(null);
  const role = useRole();
  const mayAck = can(role, 'alerts.acknowledge');
  const maySilence = can(role, 'alerts.silence');
  const q = useAllAlerts();
  const reload = useReloadRules();

  const all = useMemo(() => sortAlerts(Array.isArray(q.data?.alerts) ? q.data.alerts : []), [q.data]);
  const counts = countStates(all);
  const shown = useMemo(() => filterAlerts(all, filter), [all, filter]);

  const setTab = (t: Tab) => {
    setTabState(t);
    if (t !== 'silences') setMessage(null);
    setSearchParam('tab', t === 'firing' ? null : t);
  };
  const onKey = (e: KeyboardEvent, i: number) => {
    const next =
      e.key === 'ArrowRight' ? (i + 1) % TABS.length
      : e.key === 'ArrowLeft' ? (i + TABS.length - 1) % TABS.length
      : e.key === 'Home' ? 0
      : e.key === 'End' ? TABS.length - 1
      : -1;
    if (next < 0) return;
    e.preventDefault();
    setTab(TABS[next].id);
    document.getElementById(`alerts-tab-${TABS[next].id}`)?.focus();
  };
  const openSilence = (a: Alert | null) => {
    setMessage(null);
    setSilencing(a ? matchersForLabels(a.labels) : '');
  };
  const showSilence = (id: string) => {
    setSelectedSilence(id);
    setTab('silences');
  };

  const stateTab = tab === 'firing' || tab === 'pending' || tab === 'resolved' ? tab : null;
  const inTab = stateTab ? shown.filter((a) => a.state === stateTab) : [];

  return (
    <div className="page alerts">
      <section className="panel">
        <div className="tabs-row">
          <div role="tablist" aria-label="Alerts" className="tabs">
            {TABS.map((t, i) => (
              <button
                key={t.id}
                type="button"
                role="tab"
                id={`alerts-tab-${t.id}`}
                aria-selected={tab === t.id}
                aria-controls="alerts-tabpanel"
                tabIndex={tab === t.id ? 0 : -1}
                className="tab"
                data-testid={`alerts-tab-${t.id}`}
                onClick={() => setTab(t.id)}
                onKeyDown={(e) => onKey(e, i)}
              >
                {t.label}
                {t.id in counts && q.data && (
                  <span className={`tab-count count-${t.id}`} data-testid={`alerts-count-${t.id}`}>
                    {counts[t.id as StateTab]}
                  </span>
                )}
              </button>
            ))}
          </div>
          {can(role, 'rules.reload') && <ReloadButton reload={reload} />}
        </div>
        <div
          role="tabpanel"
          id="alerts-tabpanel"
          aria-labelledby={`alerts-tab-${tab}`}
          className="panel-body"
          data-testid={`alerts-panel-${tab}`}
        >
          <ReloadError reload={reload} />
          {message && (
            <p className="alerts-message" role="status" data-testid="alerts-message">
              {message}
            </p>
          )}
          {stateTab && (
            <>
              <AlertFilters filter={filter} names={alertnames(all)} onChange={setFilter} />
              <QueryView query={q} loading="Loading alerts">
                {() =>
                  inTab.length ? (
                    <AlertList
                      alerts={inTab}
                      mayAck={mayAck}
                      maySilence={maySilence}
                      onSilence={openSilence}
                      onShowSilence={showSilence}
                    />
                  ) : (
                    <Empty>
                      {counts[stateTab] ? `No ${stateTab} alert matches the filters.` : EMPTY[stateTab]}
                    </Empty>
                  )
                }
              </QueryView>
            </>
          )}
          {tab === 'silences' && (
            <AlertSilences mayEdit={maySilence} onNew={() => openSilence(null)} selected={selectedSilence} />
          )}
          {tab === 'history' && <AlertHistory />}
          {tab === 'rules' && <AlertRules />}
          {tab === 'receivers' && <AlertReceivers mayTest={can(role, 'receivers.test')} />}
        </div>
      </section>
      {silencing !== null && (
        <SilenceForm
          initial={silencing}
          alerts={all}
          onClose={(id) => {
            setSilencing(null);
            if (id) {
              setMessage(`Silence ${id.slice(0, 8)} created.`);
              setSelectedSilence(id);
            }
          }}
        />
      )}
    </div>
  );
}
