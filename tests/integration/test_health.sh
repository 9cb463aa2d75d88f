#!/usr/bin/env bash
# /api/health: 200 and "running" while the engine trades; 503 with how the run ended once it
# has (here: three simulated hours in three seconds).
source "$(dirname "$0")/lib.sh"

start_breakwatch bw --data-dir "$WORK/data" --speed 3600 --duration 10800
code=$(curl -s -o "$WORK/h1.json" -w '%{http_code}' "$BW_URL/api/health")
python3 - "$WORK/h1.json" "$code" <<'PY' || fail "health while running"
import json, sys
h, code = json.load(open(sys.argv[1])), sys.argv[2]
assert code == "200" and h["ready"] is True and h["status"] == "ok", (code, h)
assert h["engine"]["run"] == "running" and h["engine"]["session_id"], h
assert h["engine"]["state"] in ("idle", "scanning", "signal_wait", "managing", "halted"), h
PY
pass "running: 200, engine state $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["engine"]["state"])' "$WORK/h1.json")"

ended() { [ "$(curl -s -o "$WORK/h2.json" -w '%{http_code}' "$BW_URL/api/health")" = 503 ]; }
wait_for 30 ended || fail "health still 200 after the simulated hours"
python3 - "$WORK/h2.json" <<'PY' || fail "health after the run"
import json, sys
h = json.load(open(sys.argv[1]))
assert h["ready"] is False and h["status"] == "completed" and h["engine"]["run"] == "completed", h
assert h["engine"]["cycles"] == 10800, h
PY
pass "after the run: 503, completed after 10800 cycles"

# run --no-engine serves history only: ready as soon as the journal and the history are open.
kill "$BW_PID"
wait "$BW_PID" 2>/dev/null || true
start_breakwatch history --no-engine --data-dir "$WORK/data"
code=$(curl -s -o "$WORK/h3.json" -w '%{http_code}' "$BW_URL/api/health")
python3 - "$WORK/h3.json" "$code" <<'PY' || fail "health without the engine"
import json, sys
h, code = json.load(open(sys.argv[1])), sys.argv[2]
assert code == "200" and h["ready"] is True and h["status"] == "ok", (code, h)
assert h["mode"] == "history only" and h["history"] == "ok" and "engine" not in h, h
PY
pass "--no-engine: 200, history only"
