#!/usr/bin/env bash
# Under load (wrk, 64 connections, on loopback): breakwatch's /api/metrics against Python's
# prometheus_client serving the same page (bench/http_baseline.py, as bench_http.sh does), and
# breakwatch's /api/v1/query_range against a real Prometheus scraping that same breakwatch
# (start_pair), the same query over the same stretch of time. Prints req/s, p50 and p99 of
# each and breakwatch's req/s over the baseline's.
# Usage: bench/load_bench.sh BUILD_DIR [SECONDS]  (SECONDS per wrk run, default 10)
set -euo pipefail
build=${1:-build}
secs=${2:-10}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"

start_pair "$build" ""
curl -fsS "$BW_URL/api/metrics" >"$WORK/page.txt"
py_port=$(free_port)
spawn /usr/bin/python3 "$here/http_baseline.py" "$WORK/page.txt" "$py_port"
wait_url "127.0.0.1:$py_port/metrics"

# load URL: "REQS RPS P50_MS P99_MS ERRORS" of one wrk run (errors: socket errors and non-2xx).
load() {
  wrk -t2 -c64 -d"${secs}s" --latency "$1" | awk '
    function ms(v) {
      if (v ~ /us$/) return v * 1e-3
      if (v ~ /ms$/) return v + 0
      return v * 1000
    }
    / requests in / { reqs = $1 }
    /^Requests\/sec:/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    /Socket errors:/ { gsub(",", ""); err += $4 + $6 + $8 + $10 }
    /Non-2xx or 3xx responses:/ { err += $5 }
    END { printf "%d %.0f %.2f %.2f %d\n", reqs, rps, p50, p99, err }'
}

# row LABEL BW_FIGURES BASE_FIGURES
row() {
  read -r _ brps bp50 bp99 berr <<<"$2"
  read -r _ prps pp50 pp99 perr <<<"$3"
  printf '%-34s %9s %8s %8s %9s %8s %8s %7s\n' "$1" "$brps" "$bp50" "$bp99" "$prps" "$pp50" \
    "$pp99" "$(/usr/bin/python3 -c "print('%.1fx' % ($brps / max($prps, 1)))")"
  [ "$berr" = 0 ] && [ "$perr" = 0 ] ||
    echo "  errors (socket errors + non-2xx answers): breakwatch $berr, baseline $perr"
}

bw_metrics=$(load "$BW_URL/api/metrics")
py_metrics=$(load "http://127.0.0.1:$py_port/metrics")

# Both sides have recorded the same engine for as long as this has run; the range covers it.
now=$(date +%s)
q="query=rate%28engine_cycles_total%5B1m%5D%29&start=$((now - 600))&end=$now&step=5"
bw_range=$(load "$BW_URL/api/v1/query_range?$q")
prom_range=$(load "$PROM_URL/api/v1/query_range?$q")

printf '%-34s %9s %8s %8s %9s %8s %8s %7s\n' "wrk -t2 -c64 -d${secs}s" "bw req/s" "p50 ms" \
  "p99 ms" "base r/s" "p50 ms" "p99 ms" "ratio"
row "/api/metrics vs prometheus_client" "$bw_metrics" "$py_metrics"
row "query_range vs Prometheus" "$bw_range" "$prom_range"
echo "(query_range: rate(engine_cycles_total[1m]) over the last 10 min at 5 s step;" \
  "page $(wc -c <"$WORK/page.txt") bytes)"
