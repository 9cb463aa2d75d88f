#!/usr/bin/env bash
# A real Prometheus (Debian's) scrapes a real breakwatch and answers the spec's queries.
source "$(dirname "$0")/lib.sh"

start_breakwatch bw --data-dir "$WORK/data" --speed 120
target=${BW_URL#http://}
prom_port=$(free_port)

cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: breakwatch
    metrics_path: /api/metrics
    static_configs:
      - targets: ['$target']
YML
promtool check config "$WORK/prometheus.yml" >/dev/null || fail "generated config rejected"

prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
  --web.listen-address="127.0.0.1:$prom_port" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
PROM="http://127.0.0.1:$prom_port"

query() { curl -fsS --get "$PROM/api/v1/query" --data-urlencode "query=$1"; }

scrapes_ge_3() {
  query 'count_over_time(up{job="breakwatch"}[5m])' |
    python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; sys.exit(0 if r and float(r[0]["value"][1]) >= 3 else 1)'
}
wait_for 60 scrapes_ge_3 || { tail -20 "$WORK/prometheus.log" >&2; fail "Prometheus did not scrape breakwatch 3 times"; }
pass "Prometheus scraped breakwatch at least 3 times"

# up must be exactly 1 for our target.
query 'up{job="breakwatch"}' | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
assert len(r) == 1 and r[0]["value"][1] == "1", r' || fail "up is not 1"
pass "up == 1"

check() {
  local q=$1 want_nonempty=$2
  query "$q" | python3 -c '
import json, math, sys
q, want_nonempty = sys.argv[1], sys.argv[2] == "1"
d = json.load(sys.stdin)
assert d["status"] == "success", d
assert d["data"]["resultType"] == "vector", (q, d["data"]["resultType"])
res = d["data"]["result"]
if want_nonempty:
    assert res, "empty result for " + q
for s in res:
    float(s["value"][1])  # a number, NaN included
print("%s -> %d series" % (q, len(res)))
' "$q" "$want_nonempty" || fail "query $q"
}

check 'rate(signals_generated_total[5m])' 1
check 'increase(daily_loss_limit_triggered_total[1h])' 1
check 'histogram_quantile(0.95, sum(rate(engine_cycle_time_bucket[5m])) by (le))' 1
check 'process_cpu_usage' 1
check 'process_memory_percent' 1
check 'rate(trade_execution_duration_sum[5m]) / rate(trade_execution_duration_count[5m])' 1

# The engine's cycle-time quantile must be a real, finite number of seconds.
query 'histogram_quantile(0.95, sum(rate(engine_cycle_time_bucket[5m])) by (le))' | python3 -c '
import json, math, sys
v = float(json.load(sys.stdin)["data"]["result"][0]["value"][1])
assert math.isfinite(v) and 0 < v < 10, v' || fail "p95 engine cycle time is not a finite positive number"
pass "all spec queries answered"

# The engine really trades: Prometheus sees signals and engine cycles increase.
positive() {
  query "$1" | python3 -c '
import json, sys
r = json.load(sys.stdin)["data"]["result"]
sys.exit(0 if r and float(r[0]["value"][1]) > 0 else 1)'
}
wait_for 30 positive 'sum(increase(signals_generated_total[5m]))' || fail "no signal seen by Prometheus"
positive 'sum(rate(engine_state_transitions_total[5m]))' || fail "no state transition seen by Prometheus"
positive 'rate(engine_cycles_total[1m])' || fail "engine_cycles_total does not move"
pass "Prometheus sees signals, transitions and cycles increase"
