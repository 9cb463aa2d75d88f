#!/usr/bin/env bash
# A full disk: the data directory is a 32 MiB tmpfs; breakwatch records the engine (a scrape
# every 0.5 s) for 3 s, then a filler file takes every free byte. breakwatch then
#   - logs an error naming the database file and the disk being full, once, not per scrape;
#   - keeps serving: /api/health answers and says the storage is failing, /api/metrics answers
#     with the commit failures counted, a query over the recent (in-memory) history answers;
#   - stays alive and does not spin (its CPU use is measured before and during the outage);
# and when the filler is deleted it recovers by itself: the history's commits and the
# journal's succeed again (both logged), health is back to ok. After a clean stop, SQLite's
# integrity_check is ok, every scrape from the start to the stop is there — those taken while
# the disk was full too, kept in memory and written with the first commit that succeeded —
# and the journal's events have no hole in their ids.
#
# The tmpfs needs mount(2): as root it is mounted directly; otherwise the test runs itself in a
# user and mount namespace (unshare); when neither works it fails, saying so.
source "$(dirname "$0")/lib.sh"

MNT="$WORK/data"
mkdir -p "$MNT"
if ! mount -t tmpfs -o size=32m tmpfs "$MNT" 2>"$WORK/mount.err"; then
  if [ -z "${BW_FULL_DISK_NS:-}" ] && unshare --user --map-root-user --mount true 2>/dev/null; then
    echo "mount failed ($(cat "$WORK/mount.err")); running in a user and mount namespace"
    rm -rf "$WORK"
    trap - EXIT
    BW_FULL_DISK_NS=1 exec unshare --user --map-root-user --mount bash "$0"
  fi
  fail "cannot mount a tmpfs ($(cat "$WORK/mount.err")) nor make a mount namespace to mount one in"
fi
# The processes first, then the tmpfs, then lib.sh's cleanup (which removes $WORK).
finish() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  umount "$MNT" 2>/dev/null || umount -l "$MNT"
  cleanup
}
trap finish EXIT
DB="$MNT/breakwatch.db"

# cpu_pct PID SECONDS: the CPU PID used over the next SECONDS, in % of one core.
cpu_pct() {
  local a b hz
  hz=$(getconf CLK_TCK)
  a=$(awk '{print $14 + $15}' "/proc/$1/stat")
  sleep "$2"
  b=$(awk '{print $14 + $15}' "/proc/$1/stat")
  echo $(((b - a) * 100 / hz / $2))
}
health() { curl -fsS "$BW_URL/api/health"; }

start_breakwatch full --data-dir "$MNT" --speed 120 --scrape-interval 0.5
start_ms=$(($(date +%s%N) / 1000000))
LOG="$WORK/full.log"
base_cpu=$(cpu_pct "$BW_PID" 3)
health | grep -q '"history":"ok"' || fail "health before the outage: $(health)"

# Fill the disk.
dd if=/dev/zero of="$MNT/filler" bs=64k 2>/dev/null || true
full_ms=$(($(date +%s%N) / 1000000))
[ "$(df --output=avail "$MNT" | tail -n1 | tr -d ' ')" -lt 64 ] || fail "the tmpfs is not full: $(df -h "$MNT")"
logged() { grep -qF "$DB" "$LOG" && grep -qiE "No space left on device|database or disk is full" "$LOG"; }
wait_for 10 logged || { cat "$LOG" >&2; fail "no error naming $DB and the full disk"; }
err_ms=$(($(date +%s%N) / 1000000))
pass "disk full: logged $((err_ms - full_ms)) ms after: $(grep -m1 -iE 'No space left|disk is full' "$LOG")"

failing() { health | grep -qE '"history":"failing'; }
wait_for 10 failing || fail "health does not say the history is failing: $(health)"
pass "health says: $(health | python3 -c 'import json,sys; h=json.load(sys.stdin); print(h["status"], "history:", h["history"], "journal:", h["journal"])')"
commit_failures() { curl -fsS "$BW_URL/api/metrics" | awk '/^tsdb_commit_failures_total /{print int($2)}'; }
f1=$(commit_failures)
full_cpu=$(cpu_pct "$BW_PID" 4)
f2=$(commit_failures)
kill -0 "$BW_PID" || fail "breakwatch died on the full disk"
[ "$f2" -gt "$f1" ] || fail "tsdb_commit_failures_total does not grow while the disk is full ($f1, $f2)"
now=$(date +%s)
curl -fsS "$BW_URL/api/v1/query?query=count_over_time(engine_cycles_total%5B2s%5D)&time=$now" >"$WORK/q.json" ||
  fail "a query over the in-memory history while the disk is full"
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["data"]["result"]; assert r and float(r[0]["value"][1]) >= 3, r' \
  "$WORK/q.json" || fail "the query over the recent history: $(cat "$WORK/q.json")"
lines=$(grep -ciE "No space left|disk is full" "$LOG")
[ "$lines" -le 6 ] || fail "the full disk was logged $lines times in a few seconds"
[ "$full_cpu" -le $((base_cpu + 20)) ] || fail "CPU ${full_cpu}% while the disk is full (${base_cpu}% before)"
pass "while full: alive, /api/metrics counts $f2 commit failures (+$((f2 - f1)) in 4 s), queries answer; CPU ${full_cpu}% (${base_cpu}% before); $lines log lines about it"

# Space returns.
rm -f "$MNT/filler"
free_ms=$(($(date +%s%N) / 1000000))
recovered() { grep -q "commits succeed again" "$LOG" && grep -q "journal: commits succeed again" "$LOG" && health | grep -q '"status":"ok"'; }
wait_for 15 recovered || { cat "$LOG" >&2; fail "no recovery once space returned: $(health)"; }
rec_ms=$(($(date +%s%N) / 1000000))
pass "space returned: history and journal commit again and health is ok within $((rec_ms - free_ms)) ms"
sleep 3
f3=$(commit_failures)
sleep 1
[ "$(commit_failures)" = "$f3" ] || fail "commits still fail after the recovery"
stop_ms=$(($(date +%s%N) / 1000000))
kill -TERM "$BW_PID"
wait "$BW_PID" || fail "breakwatch did not stop cleanly after the recovery"
integrity_check "$DB"

# Everything is there after a restart on the same directory.
start_breakwatch again --data-dir "$MNT" --no-engine
health | grep -q '"status":"ok"' || fail "health after the restart: $(health)"
kill -TERM "$BW_PID"
wait "$BW_PID" || fail "the restarted breakwatch did not stop cleanly"
at=$((stop_ms / 1000 + 1))
scrape_times "$MNT" "$at" "$((at - start_ms / 1000 + 5))s" >"$WORK/times.txt"
python3 - "$WORK/times.txt" "$start_ms" "$full_ms" "$rec_ms" "$stop_ms" <<'PY' || fail "history lost"
import sys
ts = [int(x) for x in open(sys.argv[1]).read().split()]
start, full, rec, stop = map(int, sys.argv[2:])
ts = [t for t in ts if t <= stop]
assert ts and ts[0] <= start + 1000, "the first scrape is missing"
gaps = [b - a for a, b in zip(ts, ts[1:])]
assert max(gaps) <= 1000, "a gap of %d ms at %d ms after the start" % (max(gaps), ts[gaps.index(max(gaps))] - start)
assert ts[-1] >= stop - 1000, "the newest scrape is %d ms before the stop" % (stop - ts[-1])
during = sum(full <= t < rec for t in ts)
after = sum(t >= rec for t in ts)
print("ok: %d scrapes from start to stop without a gap: %d taken while the disk was full, %d after the recovery" % (len(ts), during, after))
PY
python3 - "$DB" <<'PY' || fail "the journal lost events"
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
for sid, n, lo, hi, status in c.execute(
        "SELECT e.session_id, count(*), min(e.id), max(e.id), s.status FROM events e"
        " JOIN sessions s ON s.id = e.session_id GROUP BY e.session_id"):
    assert n == hi - lo + 1, "session %s: %d events with ids %d..%d" % (sid, n, lo, hi)
    if status != "stopped":
        continue
    print("ok: the journal kept all %d events of the run (ids %d..%d), session stopped" % (n, lo, hi))
    break
else:
    raise SystemExit("no stopped session with events")
PY
