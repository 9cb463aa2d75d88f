#!/usr/bin/env bash
# Load: wrk with 64 connections against /api/metrics, /api/v1/query_range and
# /api/monitoring/realtime, one endpoint after the other, while the engine runs (--speed 60)
# and four SSE clients stay connected to /api/monitoring/events/stream. Each endpoint gets a
# short warm-up round first, once the server is in its steady state (70 s after the start, see
# below; the whole test takes about 3 min 20 s). Asserts: no socket errors and no non-2xx
# answers, every SSE client received events during every round, and resident memory after the
# load within 5 % of what it was after the warm-up. Prints per endpoint requests, req/s, p50,
# p99 and errors, and the size of the SQLite WAL after each round (to see whether queries
# starve its checkpoints).
#
# Under the sanitizer build (AddressSanitizer's quarantine holds freed memory back, so RSS says
# nothing about leaks) the rounds are shorter and the RSS check is skipped, saying so.
source "$(dirname "$0")/lib.sh"

[ -x /usr/bin/wrk ] || fail "wrk is not installed (/usr/bin/wrk, Debian package wrk)"
ROUND=30
WARMUP=8
CONNS=64
asan=0
# BW_SANITIZE comes from ctest; the symbol catches a sanitizer binary run by hand (gcc links
# libasan dynamically, clang statically: both leave __asan_init in the binary).
if [ "${BW_SANITIZE:-OFF}" = ON ] || grep -qa __asan_init "$BREAKWATCH"; then
  asan=1
  ROUND=5
  WARMUP=2
fi

# Ten minutes of history for the range query (one sample a second, ending now), imported
# before the server starts; the running engine's scrapes continue the same series.
now=$(date +%s)
python3 - "$WORK/history.om" "$now" <<'PY'
import sys
out, end = sys.argv[1], int(sys.argv[2])
with open(out, "w") as f:
    f.write("# TYPE engine_cycles counter\n")
    for i in range(660):
        t = end - 660 + i
        f.write("engine_cycles_total %d %d.500\n" % (i * 20, t))
    f.write("# EOF\n")
PY
"$BREAKWATCH" import --data-dir "$WORK/data" "$WORK/history.om" >"$WORK/import.log" 2>&1 ||
  { cat "$WORK/import.log" >&2; fail "importing the history"; }

# Scrapes every 0.5 s (twice the default: more writes), so that the tsdb cuts and persists its
# first chunks (every 120 scrapes) after a minute. Until then every recent sample is in memory;
# after it, the live page's queries (/api/monitoring/realtime: 60-point sparklines over rate
# windows of a minute) read the newest chunks back from SQLite, which fills the readers' page
# caches and makes each request about three times dearer. The warm-up waits for that steady
# state, or it would measure a lighter server than the load does.
start_breakwatch load --data-dir "$WORK/data" --speed 60 --scrape-interval 500ms
started=$(date +%s)
wal="$WORK/data/breakwatch.db-wal"

# The SSE clients, connected for the whole run.
for i in 1 2 3 4; do
  curl -sN "$BW_URL/api/monitoring/events/stream" >"$WORK/sse$i.txt" 2>/dev/null &
  PIDS+=("$!")
done
sleep 2
sse_counts() {
  local out=""
  for i in 1 2 3 4; do out+="$(grep -c '^id: ' "$WORK/sse$i.txt" || true) "; done
  echo "$out"
}

q='query=rate%28engine_cycles_total%5B1m%5D%29'
range_url="$BW_URL/api/v1/query_range?$q&start=$((now - 600))&end=$now&step=5"
# The range query is realistic only if it finds the history: 121 points of one series.
pts=$(curl -fsS "$range_url" | python3 -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(sum(len(s["values"]) for s in r))') || fail "query_range"
[ "$pts" -ge 115 ] || fail "query_range over the imported history has $pts points, want ~121"
pass "query_range rate(engine_cycles_total[1m]) over 10 min at 5 s step: $pts points"

declare -A URLS=([metrics]="$BW_URL/api/metrics" [query_range]="$range_url"
  [realtime]="$BW_URL/api/monitoring/realtime")
ORDER=(metrics query_range realtime)

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$BW_PID/status"; }
# The resident set once the server has been left alone for a moment: the least of five
# readings over 2 s (the last requests' buffers and the engine's own churn come and go).
rss_settled() {
  local min="" r
  sleep 1
  for _ in 1 2 3 4 5; do
    r=$(rss_kb)
    if [ -z "$min" ] || [ "$r" -lt "$min" ]; then min=$r; fi
    sleep 0.4
  done
  echo "$min"
}
wal_bytes() { stat -c %s "$wal" 2>/dev/null || echo 0; }

# round NAME SECONDS: one wrk run; prints the summary line and checks its errors and the SSE
# clients.
round() {
  local name=$1 secs=$2 out="$WORK/wrk-$1-$2.txt" before after
  before=$(sse_counts)
  wrk -t2 -c"$CONNS" -d"${secs}s" --latency "${URLS[$name]}" >"$out" 2>&1 ||
    { cat "$out" >&2; fail "wrk against $name"; }
  kill -0 "$BW_PID" 2>/dev/null || fail "breakwatch died under load on $name"
  after=$(sse_counts)
  python3 - "$name" "$secs" "$out" "$before" "$after" <<'PY' || fail "round $name"
import re, sys
name, secs, path, before, after = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
text = open(path).read()
reqs = int(re.search(r"(\d+) requests in", text).group(1))
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))


def pct(p):
    m = re.search(r"^\s+%s%%\s+([\d.]+)(us|ms|s)\s*$" % p, text, re.M)
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]


sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
socket_errors = sum(map(int, sock.groups())) if sock else 0
m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
non2xx = int(m.group(1)) if m else 0
print("%-11s %3ss: %8d requests %9.1f req/s  p50 %8.2f ms  p99 %8.2f ms  "
      "errors: %d socket, %d non-2xx" % (name, secs, reqs, rps, pct(50), pct(99), socket_errors,
                                         non2xx))
if socket_errors or non2xx:
    print(text, file=sys.stderr)
    sys.exit("%s: %d socket errors, %d non-2xx answers" % (name, socket_errors, non2xx))
if reqs == 0:
    sys.exit("%s: no request completed" % name)
b, a = list(map(int, before.split())), list(map(int, after.split()))
if not all(y > x for x, y in zip(b, a)):
    sys.exit("%s: an SSE client got no event during the round: %s -> %s" % (name, b, a))
print("            SSE clients' events: %s -> %s" % (" ".join(map(str, b)),
                                                     " ".join(map(str, a))))
PY
}

# (Not under the sanitizer build, where the RSS is not checked.)
steady=$((started + 70 - $(date +%s)))
[ "$asan" = 1 ] || [ "$steady" -le 0 ] || sleep "$steady"
echo "warm-up (${WARMUP} s per endpoint, $CONNS connections)," \
  "$(($(date +%s) - started)) s after the start:"
for name in "${ORDER[@]}"; do round "$name" "$WARMUP"; done
rss0=$(rss_settled)
wal0=$(wal_bytes)
echo "after warm-up: VmRSS ${rss0} kB, WAL $wal0 bytes"

echo "load (${ROUND} s per endpoint, $CONNS connections, 4 SSE clients, engine at --speed 60):"
for name in "${ORDER[@]}"; do
  round "$name" "$ROUND"
  echo "            VmRSS $(rss_kb) kB, WAL $(wal_bytes) bytes"
done
rss1=$(rss_settled)
wal1=$(wal_bytes)
echo "after load: VmRSS ${rss1} kB, WAL $wal1 bytes"

if [ "$asan" = 1 ]; then
  echo "skip: resident memory check (sanitizer build: ASan's quarantine makes VmRSS meaningless)"
else
  python3 - "$rss0" "$rss1" <<'PY' || fail "resident memory grew more than 5 % under load"
import sys
a, b = int(sys.argv[1]), int(sys.argv[2])
growth = (b - a) / a * 100
print("ok: resident memory %d kB -> %d kB after the load (%+.1f %%, limit +5 %%)" % (a, b, growth))
sys.exit(0 if growth < 5 else 1)
PY
fi

# The WAL: the store checkpoints it into the database every 8,192 pages (32 MiB) and cuts it back
# to 32 MiB, which this run does not reach; a run long enough to reach it, with queries all the
# time, is in docs/reliability.md. Say what it did here.
python3 - "$wal0" "$wal1" <<'PY'
import sys
a, b = int(sys.argv[1]), int(sys.argv[2])
print("WAL (breakwatch.db-wal): %.1f MiB after warm-up, %.1f MiB after the load" %
      (a / 2**20, b / 2**20))
PY
curl -fsS "$BW_URL/api/health" >/dev/null || fail "health after the load"
pass "load: no errors on any endpoint, SSE clients fed throughout"
