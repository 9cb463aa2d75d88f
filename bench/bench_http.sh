#!/usr/bin/env bash
# /api/metrics throughput with wrk on loopback: breakwatch serving a ~100 KiB page against
# Python's prometheus_client serving an equivalent page (same families, label sets and
# values), measured in the same run. Usage: bench/bench_http.sh BUILD_DIR
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/bw-bench-http.XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$work"' EXIT

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# 96 symbols make a page of about 100 KiB.
symbols=$(/usr/bin/python3 -c 'print(",".join("S%02dUSDT" % i for i in range(96)))')
bw_port=$(port)
"$build/breakwatch" run --listen "127.0.0.1:$bw_port" --data-dir "$work/data" \
  --symbols "$symbols" 2>"$work/bw.log" &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "127.0.0.1:$bw_port/api/health" >/dev/null 2>&1 && break; sleep 0.1; done
sleep 2
curl -fsS "127.0.0.1:$bw_port/api/metrics" >"$work/page.txt"
bytes=$(wc -c <"$work/page.txt")
lines=$(grep -vc '^#' "$work/page.txt")

py_port=$(port)
/usr/bin/python3 "$here/http_baseline.py" "$work/page.txt" "$py_port" &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "127.0.0.1:$py_port/metrics" >/dev/null 2>&1 && break; sleep 0.1; done
py_bytes=$(curl -fsS "127.0.0.1:$py_port/metrics" | wc -c)

rps() { wrk -t2 -c16 -d"${WRK_SECONDS:-8}"s "$1" | awk '/^Requests\/sec:/{print $2}'; }
bw_rps=$(rps "http://127.0.0.1:$bw_port/api/metrics")
py_rps=$(rps "http://127.0.0.1:$py_port/metrics")

printf '%-44s %12s %12s %8s\n' "benchmark" "breakwatch" "baseline" "ratio"
printf '%-44s %12s %12s %8s\n' "/api/metrics page size (bytes; samples)" "$bytes; $lines" "$py_bytes" "-"
ratio=$(/usr/bin/python3 -c "print('%.1f' % ($bw_rps / $py_rps))")
printf '%-44s %12.0f %12.0f %7sx\n' "/api/metrics requests/s (wrk -t2 -c16)" "$bw_rps" "$py_rps" "$ratio"
