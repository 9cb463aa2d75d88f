#!/usr/bin/env bash
# Durability: breakwatch records the engine for about 5 s and is killed with SIGKILL; after a
# restart on the same data directory, every scrape older than 2 s before the kill is there.
# Then the newest write-ahead record in the SQLite file is damaged: the next start says so,
# skips it, and runs. And a data directory that a running breakwatch holds is refused, clearly,
# to `query` and `import`.
source "$(dirname "$0")/lib.sh"

DATA="$WORK/data"
start_breakwatch first --data-dir "$DATA" --speed 120 --scrape-interval 0.5
started_ms=$(($(date +%s%N) / 1000000))

# The directory is held: query and import are refused, with what to do instead.
if "$BREAKWATCH" query --data-dir "$DATA" up >"$WORK/held.out" 2>&1; then
  fail "query opened a data directory that a running breakwatch holds"
fi
grep -q "in use by another breakwatch (pid $BW_PID)" "$WORK/held.out" &&
  grep -q -- "--server" "$WORK/held.out" || { cat "$WORK/held.out" >&2; fail "unclear refusal"; }
printf '# EOF\n' >"$WORK/empty.om"
if "$BREAKWATCH" import --data-dir "$DATA" "$WORK/empty.om" >"$WORK/held2.out" 2>&1; then
  fail "import wrote into a data directory that a running breakwatch holds"
fi
grep -q "in use by another breakwatch" "$WORK/held2.out" || fail "unclear refusal of import"
pass "a held data directory is refused to query and import"

sleep 5
kill_ms=$(($(date +%s%N) / 1000000))
kill -9 "$BW_PID"
wait "$BW_PID" 2>/dev/null || true

# Every scrape up to 2 s before the kill: raw samples of engine_cycles_total, read back by
# `breakwatch query --data-dir` over the minute up to just after the kill, must run every 0.5 s
# from the start to at least kill - 2 s (newer ones may have died with the process).
at=$((kill_ms / 1000 + 1))
"$BREAKWATCH" query --data-dir "$DATA" --time "$at" 'engine_cycles_total[1m]' >"$WORK/samples.out" 2>"$WORK/q.err" ||
  { cat "$WORK/q.err" >&2; fail "query after the kill"; }
/usr/bin/python3 - "$WORK/samples.out" "$started_ms" "$kill_ms" <<'PY' || fail "samples lost in the kill"
import re, sys
text = open(sys.argv[1]).read()
started, killed = int(sys.argv[2]), int(sys.argv[3])
pts = [(round(float(t) * 1000), float(v)) for v, t in re.findall(r"^(\S+) @\[([0-9.]+)\]$", text, re.M)]
assert pts, "no samples of engine_cycles_total:\n" + text
ts = [t for t, _ in pts]
assert all(b > a for a, b in zip(ts, ts[1:])), "timestamps out of order"
assert all(b[1] >= a[1] for a, b in zip(pts, pts[1:])), "the counter went backwards"
gaps = [b - a for a, b in zip(ts, ts[1:])]
assert max(gaps) <= 1000, "a gap of %d ms between scrapes" % max(gaps)
assert ts[0] <= started + 1000, "first sample %d ms after start" % (ts[0] - started)
assert ts[-1] >= killed - 2000 - 500 - 1, "newest sample %d ms before the kill" % (killed - ts[-1])
print("ok: %d scrapes kept, the newest %d ms before the kill" % (len(ts), killed - ts[-1]))
PY

# Damage the newest write-ahead record (the tsdb's table in breakwatch.db), then restart.
seq=$(sqlite3 "$DATA/breakwatch.db" 'SELECT MAX(seq) FROM tsdb_wal')
[ -n "$seq" ] || fail "no write-ahead record to damage"
sqlite3 "$DATA/breakwatch.db" \
  "UPDATE tsdb_wal SET data = substr(data, 1, length(data) / 2) || x'00ff00ff' WHERE seq = $seq"
start_breakwatch second --data-dir "$DATA" --speed 120
grep -qi "record" "$WORK/second.log" && grep -qiE "corrupt|truncat|damag|skip" "$WORK/second.log" ||
  { cat "$WORK/second.log" >&2; fail "the damaged record was not reported"; }
wait_for 10 sh -c "curl -fsS '$BW_URL/api/metrics' | grep -q '^tsdb_wal_corruptions_total 1'" ||
  fail "tsdb_wal_corruptions_total is not 1"
sleep 2
kill -TERM "$BW_PID"
wait "$BW_PID" || fail "breakwatch did not stop cleanly after skipping the record"
"$BREAKWATCH" query --data-dir "$DATA" 'count_over_time(engine_cycles_total[10m])' >"$WORK/after.out" ||
  fail "query after the restart"
grep -q '=> ' "$WORK/after.out" || fail "no history after the restart"
pass "a damaged write-ahead record is reported, skipped, and the rest loads"
