#!/usr/bin/env bash
# Every expression of every dashboard (monitoring/grafana/dashboards/*.json) and of every rule
# file (monitoring/rules/), evaluated by tools/compare_exprs.py on a running breakwatch and on
# a real Prometheus scraping it, returns data and gets the same label sets from both.
#
# breakwatch runs the engine at speed 600 (signals and trades within seconds) and evaluates the
# shipped rules every second; Prometheus's configuration is monitoring/prometheus.local.yml
# with the target, a 1 s scrape and evaluation interval and the rule files it names made
# absolute (no Alertmanager: its alerting section is dropped). Once both hold enough history
# for the dashboards' rates ($__rate_interval = 1m over 1 s samples needs two of each series)
# the tool compares at one time T per round, retrying what differs at a new T; the labels
# Prometheus attaches (job, instance) are read from that configuration. Then the tool is shown
# to catch a difference (those labels kept) and an operand without data.
source "$(dirname "$0")/lib.sh"
M="$SRCDIR/monitoring"
TOOL=(python3 "$SRCDIR/tools/compare_exprs.py")
t0=$SECONDS

printf 'alerting:\n  rule_files: [%s]\n  evaluation_interval: 1s\n' "$M/rules/breakwatch.rules.yml" >"$WORK/bw.yml"
start_breakwatch agree --data-dir "$WORK/data" --config "$WORK/bw.yml" --speed 600

python3 - "$M/prometheus.local.yml" "${BW_URL#http://}" >"$WORK/prometheus.yml" <<'PY' || fail "deriving the Prometheus configuration"
import os, sys, yaml
src, target = sys.argv[1:3]
cfg = yaml.safe_load(open(src))
cfg["global"].update(scrape_interval="1s", evaluation_interval="1s")
cfg["rule_files"] = [os.path.join(os.path.dirname(src), f) for f in cfg["rule_files"]]
assert os.path.join(os.path.dirname(src), "rules/breakwatch.rules.yml") in cfg["rule_files"], cfg["rule_files"]
cfg.pop("alerting")
(job,) = cfg["scrape_configs"]
assert job["job_name"] == "breakout-bot-api" and job["metrics_path"] == "/api/metrics", job
job.update(scrape_interval="1s", static_configs=[{"targets": [target]}])
yaml.safe_dump(cfg, sys.stdout, sort_keys=False)
PY
promtool check config "$WORK/prometheus.yml" >"$WORK/promtool.log" 2>&1 || { cat "$WORK/promtool.log" >&2; fail "derived configuration rejected"; }
prom_port=$(free_port)
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
  --web.listen-address="127.0.0.1:$prom_port" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
PROM="http://127.0.0.1:$prom_port"
wait_for 20 curl -fsS "$PROM/-/ready" || { tail -20 "$WORK/prometheus.log" >&2; fail "Prometheus not ready"; }

# Enough history on both sides: Prometheus scraped at least 5 times and evaluated the rules;
# both see signals, trades and cycles at a rate over 1m (two samples of a series at least).
cat >"$WORK/ready.py" <<'PY'
import json, sys, urllib.parse, urllib.request
bw, prom = sys.argv[1:3]
def n(url, q):
    r = json.load(urllib.request.urlopen(url + "/api/v1/query?" + urllib.parse.urlencode({"query": q})))
    return len(r["data"]["result"])
ok = n(prom, 'count_over_time(up{job="breakout-bot-api"}[1m]) >= 5') and n(prom, 'ALERTS{alertname="Watchdog"}')
for q in ("rate(signals_generated_total[1m]) > 0", "rate(trade_execution_duration_count[1m]) > 0",
          "rate(engine_cycles_total[1m]) > 0"):
    ok = ok and n(bw, q) and n(prom, q)
sys.exit(0 if ok else 1)
PY
wait_for 50 python3 "$WORK/ready.py" "$BW_URL" "$PROM" || fail "no signals, trades or rates on both sides within 50 s"
pass "breakwatch (speed 600, shipped rules every 1 s) and Prometheus (scraping every 1 s) have history after $((SECONDS - t0)) s"

# The number of places, counted here from the files: every dashboard target and every rule.
places=$(python3 - "$M" <<'PY'
import glob, json, sys, yaml
m = sys.argv[1]
n = 0
for f in glob.glob(m + "/grafana/dashboards/*.json"):
    stack = list(json.load(open(f))["panels"])
    while stack:
        p = stack.pop()
        stack += p.get("panels", [])
        n += len(p.get("targets", []))
for f in glob.glob(m + "/rules/*.yml"):
    n += sum(len(g["rules"]) for g in yaml.safe_load(open(f))["groups"])
print(n)
PY
)
"${TOOL[@]}" --breakwatch "$BW_URL" --prometheus "$PROM" --prometheus-config "$WORK/prometheus.yml" \
  >"$WORK/compare.out" 2>&1 || { cat "$WORK/compare.out" >&2; fail "breakwatch and Prometheus disagree"; }
summary=$(tail -n1 "$WORK/compare.out")
grep -q "^\([0-9]*\) of \1 distinct expressions ($places places in [0-9]* files) agreed" <<<"$summary" ||
  { cat "$WORK/compare.out" >&2; fail "expected all $places places to agree"; }
grep -q "labels dropped from Prometheus's answers: instance, job$" <<<"$summary" || fail "dropped labels: $summary"
grep '^transient' "$WORK/compare.out" || true
pass "$summary"

# Prometheus's target labels kept: every expression keeping them differs, and the tool says how.
rc=0
"${TOOL[@]}" --breakwatch "$BW_URL" --prometheus "$PROM" --attempts 1 >"$WORK/kept.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$WORK/kept.out" >&2; fail "labels kept: exit $rc, expected 1"; }
grep -q "only on Prometheus: {__name__=\"process_memory_percent\", instance=\"${BW_URL#http://}\", job=\"breakout-bot-api\"}" "$WORK/kept.out" ||
  { cat "$WORK/kept.out" >&2; fail "labels kept: the difference is not shown"; }
pass "with job and instance kept the tool reports: $(tail -n1 "$WORK/kept.out" | cut -d';' -f2)"

# An alert on a series that exists nowhere: the expression agrees (empty on both) but its
# operand has no data.
mkdir "$WORK/rules" "$WORK/empty"
printf 'groups:\n  - name: g\n    rules:\n      - alert: Ghost\n        expr: no_such_metric > on () group_left vector(1)\n' >"$WORK/rules/ghost.yml"
rc=0
"${TOOL[@]}" --breakwatch "$BW_URL" --prometheus "$PROM" --drop-label job --drop-label instance \
  --dashboards "$WORK/empty" --rules "$WORK/rules" --attempts 2 >"$WORK/ghost.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$WORK/ghost.out" >&2; fail "ghost alert: exit $rc, expected 1"; }
grep -q "operand \`no_such_metric\`: no data on either side" "$WORK/ghost.out" || { cat "$WORK/ghost.out" >&2; fail "ghost operand not named"; }
grep -q "group g: alert Ghost" "$WORK/ghost.out" || { cat "$WORK/ghost.out" >&2; fail "ghost alert not located"; }
pass "an alert whose operand has no data is reported with its file, group and operand ($((SECONDS - t0)) s in all)"
