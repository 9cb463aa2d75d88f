#!/usr/bin/env bash
# /api/metrics throughput with wrk on loopback: breakwatch serving a ~100 KiB page against
# Python's prometheus_client serving an equivalent page (same families, label sets and
# values), measured in the same run. Usage: bench/bench_http.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib.sh"
work=$WORK

# 96 symbols make a page of about 100 KiB.
symbols=$(/usr/bin/python3 -c 'print(",".join("S%02dUSDT" % i for i in range(96)))')
bw_port=$(free_port)
spawn "$build/breakwatch" run --listen "127.0.0.1:$bw_port" --data-dir "$work/data" \
  --symbols "$symbols" 2>"$work/bw.log"
wait_url "127.0.0.1:$bw_port/api/health"
sleep 2
curl -fsS "127.0.0.1:$bw_port/api/metrics" >"$work/page.txt"
bytes=$(wc -c <"$work/page.txt")
lines=$(grep -vc '^#' "$work/page.txt")

py_port=$(free_port)
spawn /usr/bin/python3 "$here/http_baseline.py" "$work/page.txt" "$py_port"
wait_url "127.0.0.1:$py_port/metrics"
py_bytes=$(curl -fsS "127.0.0.1:$py_port/metrics" | wc -c)

rps() { wrk -t2 -c16 -d"${WRK_SECONDS:-8}"s "$1" | awk '/^Requests\/sec:/{print $2}'; }
bw_rps=$(rps "http://127.0.0.1:$bw_port/api/metrics")
py_rps=$(rps "http://127.0.0.1:$py_port/metrics")

printf '%-44s %12s %12s %8s\n' "benchmark" "breakwatch" "baseline" "ratio"
printf '%-44s %12s %12s %8s\n' "/api/metrics page size (bytes; samples)" "$bytes; $lines" "$py_bytes" "-"
ratio=$(/usr/bin/python3 -c "print('%.1f' % ($bw_rps / $py_rps))")
printf '%-44s %12.0f %12.0f %7sx\n' "/api/metrics requests/s (wrk -t2 -c16)" "$bw_rps" "$py_rps" "$ratio"
