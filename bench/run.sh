#!/usr/bin/env bash
# bench/run.sh BUILD_DIR [SCALE] — runs breakwatch's benchmarks and prints a table per section.
#
# Each section is a function named section_<name>, listed in SECTIONS at the bottom; to add
# one, write the function and append its name. SCALE (default 1) multiplies iteration counts:
# 0.1 gives a quick, noisier run. Every figure is the best of several runs (the benchmarks do
# that themselves), which filters out a machine shared with other work.
set -euo pipefail

BUILD=${1:?usage: bench/run.sh BUILD_DIR [SCALE]}
SCALE=${2:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# A python3 with prometheus_client: Debian's python3-prometheus-client is in /usr/bin's.
find_python() {
  local p
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import prometheus_client' 2>/dev/null; then
      echo "$p"
      return
    fi
  done
}

# compare C_OUT PY_OUT KEY LABEL GOAL...: one row per KEY — the C figure, the Python figure,
# their ratio, and whether the C figure meets GOAL (a maximum; "-" for none).
compare() {
  local c=$1 py=$2
  shift 2
  printf '%-44s %12s %14s %10s  %s\n' "operation" "C" "Python" "Python/C" "goal"
  while [ $# -gt 0 ]; do
    awk -v key="$1" -v label="$2" -v goal="$3" '
      FNR == 1 { file++ }
      $1 == key { v[file] = $2 }
      END {
        c = (1 in v) ? v[1] : "n/a"; p = (2 in v) ? v[2] : "n/a"
        ratio = (c != "n/a" && p != "n/a" && c > 0) ? sprintf("%.0fx", p / c) : "-"
        verdict = goal == "-" ? "" : (c != "n/a" && c + 0 <= goal + 0 ? "<= " goal " ok" : "<= " goal " MISSED")
        printf "%-44s %12s %14s %10s  %s\n", label, c, p, ratio, verdict
      }' "$c" "$py"
    shift 3
  done
}

section_metrics() {
  echo "== metrics: instrumentation hot path and exposition (ns) =="
  "$BUILD/bench_metrics" "$SCALE" >"$TMP/c.txt"
  local py
  py=$(find_python)
  if [ -n "$py" ]; then
    # Python is about a thousand times slower: a tenth of the iterations keeps it short.
    "$py" "$HERE/baseline_prometheus_client.py" "$(awk -v s="$SCALE" 'BEGIN{print s/10}')" \
      >"$TMP/py.txt"
  else
    echo "(python3-prometheus-client not installed: no baseline)"
    : >"$TMP/py.txt"
  fi
  compare "$TMP/c.txt" "$TMP/py.txt" \
    counter_inc_1t_ns "counter inc, 1 thread" 2 \
    counter_inc_4c_ns "counter inc, 4 counters in turn" 2 \
    counter_inc_2t_ns_per_thread "counter inc, 2 threads, per thread" - \
    counter_inc_2t_ns_aggregate "counter inc, 2 threads, aggregate" - \
    histogram_observe_ns "histogram observe, 22 buckets" 8 \
    expose_text_ns_per_line "exposition text 0.0.4, per line" 100 \
    expose_om_ns_per_line "exposition OpenMetrics, per line" 100 \
    expose_text_us_per_scrape "exposition text 0.0.4, per scrape (us)" - \
    expose_text_bytes "exposition text 0.0.4, bytes" - \
    expose_text_lines "exposition text 0.0.4, lines" - \
    expose_text_allocs_per_scrape "exposition, allocations per warm scrape" 0
  grep '^#' "$TMP/c.txt" || true
  echo
}

section_engine() {
  echo "== engine: cycle time with instrumentation on and off (same run, cycle by cycle) =="
  "$BUILD/bench_engine" "$(awk -v s="$SCALE" 'BEGIN{d=int(5*s); print d < 1 ? 1 : d}')" 6
  echo
}

section_http() {
  echo "== http: /api/metrics throughput with wrk on loopback =="
  WRK_SECONDS=$(awk -v s="$SCALE" 'BEGIN{d=int(8*s); print d < 2 ? 2 : d}') \
    "$HERE/bench_http.sh" "$BUILD"
  echo
}

section_load() {
  echo "== load: wrk -c64 on /api/metrics against prometheus_client, and query_range against Prometheus =="
  "$HERE/load_bench.sh" "$BUILD" "$(awk -v s="$SCALE" 'BEGIN{d=int(10*s); print d < 3 ? 3 : d}')"
  echo
}

section_query() {
  echo "== query: /api/v1/query_range latency, breakwatch against Prometheus on the same data =="
  /usr/bin/python3 "$HERE/query_bench.py" "$BUILD/breakwatch" "$TMP/query" \
    "$(awk -v s="$SCALE" 'BEGIN{d=int(7*s); print d < 3 ? 3 : d}')"
  echo
}

section_web() {
  echo "== web: the monitoring page in Chromium, against Prometheus's own web UI on the same data =="
  "$HERE/web_bench.sh" "$BUILD" "$(awk -v s="$SCALE" 'BEGIN{d=int(60*s); print d < 15 ? 15 : d}')" \
    "$(awk -v s="$SCALE" 'BEGIN{d=int(30*s); print d < 10 ? 10 : d}')"
  echo
}

section_rules() {
  echo "== rules: the shipped rule file evaluated every second, breakwatch against Prometheus =="
  "$HERE/rules_bench.sh" "$BUILD" "$(awk -v s="$SCALE" 'BEGIN{d=int(60*s); print d < 20 ? 20 : d}')" \
    "$(awk -v s="$SCALE" 'BEGIN{d=int(60*s); print d < 15 ? 15 : d}')"
  echo
}

section_tsdb() {
  echo "== tsdb: bytes per sample on disk (vs Prometheus 2.x blocks), ingest rate, head memory =="
  "$BUILD/bench_tsdb" "$SCALE" "$TMP/tsdb.om" >"$TMP/tsdb.txt"
  local samples prom_bytes=""
  samples=$(awk '$1 == "disk_samples" { print $2 }' "$TMP/tsdb.txt")
  if command -v promtool >/dev/null; then
    # The same samples, backfilled by promtool into 2 h blocks: chunks, index and meta files.
    promtool tsdb create-blocks-from openmetrics "$TMP/tsdb.om" "$TMP/prom" >/dev/null
    prom_bytes=$(du -sb "$TMP/prom" | awk '{ print $1 }')
    promtool --version 2>&1 | head -1 | sed 's/^/# /'
  else
    echo "(promtool not installed: no baseline)"
  fi
  awk -v samples="$samples" -v prom="$prom_bytes" '
    function row(label, v, goal, cmp,   verdict) {
      verdict = goal == "" ? "" : ((cmp == "<=" ? v + 0 <= goal : v + 0 >= goal) ? cmp " " goal " ok" : cmp " " goal " MISSED")
      printf "%-48s %12s  %s\n", label, v, verdict
    }
    $1 !~ /^#/ { f[$1] = $2 }
    END {
      printf "%-48s %12s  %s\n", "figure", "value", "goal"
      row("bytes/sample, persisted chunks", f["disk_chunk_bytes_per_sample"], 1.0, "<=")
      row("bytes/sample, whole database file", f["disk_file_bytes_per_sample"], "", "")
      if (prom != "") {
        p = prom / samples
        row("bytes/sample, Prometheus blocks (promtool)", sprintf("%.3f", p), "", "")
        row("Prometheus / breakwatch chunks", sprintf("%.2fx", p / f["disk_chunk_bytes_per_sample"]), "", "")
        row("Prometheus / breakwatch file", sprintf("%.2fx", p / f["disk_file_bytes_per_sample"]), "", "")
      }
      row("ingest, M samples/s, in memory", f["ingest_msamples_per_s_memory"], 5, ">=")
      row("ingest, M samples/s, into the store", f["ingest_msamples_per_s_store"], 5, ">=")
      row("head bytes per active series", f["head_bytes_per_series"], 500, "<=")
    }' "$TMP/tsdb.txt"
  grep '^#' "$TMP/tsdb.txt" || true
  echo
}

section_remote() {
  echo "== remote write: breakwatch against Prometheus sending to the same receiver =="
  "$HERE/remote_bench.sh" "$BUILD" "$(awk -v s="$SCALE" 'BEGIN{d=int(40*s); print d < 10 ? 10 : d}')" \
    "$(awk -v s="$SCALE" 'BEGIN{d=int(15*s); print d < 8 ? 8 : d}')"
  echo
}

section_dashboards() {
  echo "== dashboards: each dashboard's queries as Grafana sends them on load, breakwatch against Prometheus =="
  "$HERE/dashboards_bench.sh" "$BUILD" "$(awk -v s="$SCALE" 'BEGIN{d=int(180*s); print d < 30 ? 30 : d}')" \
    "$(awk -v s="$SCALE" 'BEGIN{d=int(7*s); print d < 3 ? 3 : d}')"
  echo
}

SECTIONS=(metrics engine http load query tsdb rules web remote dashboards)

for s in "${SECTIONS[@]}"; do
  "section_$s"
done
