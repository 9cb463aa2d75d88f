#!/usr/bin/env bash
# Crash loop: breakwatch records the engine and is killed with SIGKILL at a random moment, 1 to
# 4 s after it answered, ten times on the same data directory. It scrapes every 20 ms, so that
# a series' chunk (120 samples) fills every 2.4 s: the kills land before, during and after the
# commits that persist full chunks and delete the write-ahead records they hold. Just
# before each kill the test asks the running process, through /api/v1/query, for every sample
# of engine_cycles_total it holds (what it scraped, in memory or on disk). After the kill, with
# the process dead: PRAGMA integrity_check is "ok" (read-only), and every sample of every run
# so far that is older than 2 s before its run's kill is read back by `breakwatch query
# --data-dir` from a copy of the directory, so that the next run itself recovers the crashed
# original. Comparing with what the process had, not with a 0.5 s grid,
# tells a lost sample from a scrape a loaded machine delayed; the grid is reported too. The
# delays come from $RANDOM seeded with BW_CRASH_SEED (printed, so a failure can be replayed).
source "$(dirname "$0")/lib.sh"

SEED=${BW_CRASH_SEED:-$(($(date +%s) % 32768))}
RANDOM=$SEED
echo "seed $SEED (BW_CRASH_SEED=$SEED replays these delays)"
DATA="$WORK/data"
RUNS=() # "start_ms kill_ms" of every run
first_s=$(date +%s)
: >"$WORK/held.txt" # "run t_ms" of every sample the processes held before their kills

for i in $(seq 1 10); do
  start_breakwatch "run$i" --data-dir "$DATA" --speed 120 --scrape-interval 0.02
  start_ms=$(($(date +%s%N) / 1000000))
  delay_ms=$((1000 + RANDOM % 3001))
  sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
  asked_ms=$(($(date +%s%N) / 1000000))
  curl -fsS "$BW_URL/api/v1/query?query=engine_cycles_total%5B1m%5D&time=$((asked_ms / 1000 + 1))" \
    >"$WORK/held.json" || fail "run $i: /api/v1/query before the kill"
  kill_ms=$(($(date +%s%N) / 1000000))
  kill -9 "$BW_PID"
  wait "$BW_PID" 2>/dev/null || true
  [ $((kill_ms - asked_ms)) -lt 1000 ] || fail "run $i: the query before the kill took $((kill_ms - asked_ms)) ms"
  RUNS+=("$start_ms $kill_ms")
  python3 - "$WORK/held.json" "$i" >>"$WORK/held.txt" <<'PY'
import json, sys
for s in json.load(open(sys.argv[1]))["data"]["result"]:
    for t, _ in s["values"]:
        print(sys.argv[2], round(float(t) * 1000))
PY

  integrity_check "$DATA/breakwatch.db"
  at=$((kill_ms / 1000 + 1))
  rm -rf "$WORK/copy"
  mkdir "$WORK/copy"
  cp "$DATA"/breakwatch.db* "$WORK/copy/"
  scrape_times "$WORK/copy" "$at" "$((at - first_s + 10))s" >"$WORK/times.txt"
  summary=$(
    python3 - "$WORK/times.txt" "$WORK/held.txt" "${RUNS[@]}" <<'PY'
import sys
disk = {int(x) for x in open(sys.argv[1]).read().split()}
held = {}
for line in open(sys.argv[2]):
    k, t = map(int, line.split())
    held.setdefault(k, set()).add(t)
prev = 0
totals = [0, 0, 0]  # held, due, held and on disk
for k, run in enumerate(sys.argv[3:], 1):
    start, kill = map(int, run.split())
    had = {t for t in held.get(k, ()) if prev < t <= kill}
    due = {t for t in had if t < kill - 2000}
    lost = sorted(due - disk)
    assert not lost, "run %d: %d of %d samples older than 2 s before the kill lost, at %s ms after its start" % (
        k, len(lost), len(due), [t - start for t in lost])
    totals = [totals[0] + len(had), totals[1] + len(due), totals[2] + len(had & disk)]
    mine = sorted(t for t in disk if prev < t <= kill)
    assert mine and mine[0] <= start + 1000, "run %d: its first scrape is not on disk" % k
    prev = kill
gaps = [b - a for a, b in zip(mine, mine[1:])]
gap = max(gaps) if gaps else 0
print("held %d samples, %d older than kill - 2 s, all on disk (%d of the newer too); newest on disk %d ms before the kill; longest gap between scrapes %d ms, %d ms after the start" %
      (len(had), len(due), len(had & disk) - len(due), kill - mine[-1], gap, mine[gaps.index(gap)] - start if gaps else 0))
with open(sys.argv[2] + ".totals", "w") as f:
    f.write("%d samples held at the kills, %d of them older than kill - 2 s and all on disk; %d of all %d on disk" %
            (totals[0], totals[1], totals[2], totals[0]))
PY
  ) || fail "run $i: samples lost (seed $SEED)"
  wal_kb=$(($(stat -c %s "$DATA/breakwatch.db-wal" 2>/dev/null || echo 0) / 1024))
  echo "run $i: killed after ${delay_ms} ms, leaving a ${wal_kb} kB SQLite log to recover; integrity ok; $summary"
done
pass "ten kill -9 at random moments (seed $SEED): integrity ok and nothing older than 2 s lost: $(cat "$WORK/held.txt.totals")"
