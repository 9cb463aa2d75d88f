#!/usr/bin/env bash
# A webhook receiver that refuses, fails or hangs: breakwatch retries the notification, its
# rule evaluation keeps its 1 s interval all along, and once the receiver answers the
# notification is delivered. One rule (vector(1), always firing) in a group evaluated every
# second; the route's group_wait 1s and group_interval 2s; the webhook's timeout 2s. In turn:
#   1. nothing listens on the receiver's port (connection refused): failures are counted;
#   2. the receiver answers 500: it sees the same notification again and again;
#   3. the receiver accepts and never answers: the requests time out and are made again, and
#      /api/v1/rules' lastEvaluation advances every second meanwhile, /api/metrics answers;
#   4. the receiver answers 200: the firing notification arrives.
source "$(dirname "$0")/lib.sh"

PORT=$(free_port) # nothing listens here until step 2
MODE="$WORK/mode"
cat >"$WORK/recv.py" <<'PY'
# The receiver: every POST is one JSON line in OUT ({"t", "mode", "alertname", "status"}),
# then answered as the file MODE says now: "500", "hang" (no answer while MODE says so) or "ok".
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, mode_file, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()
def mode():
    return open(mode_file).read().strip()
class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
        m = mode()
        with lock, open(out, "a") as f:
            f.write(json.dumps({"t": time.time(), "mode": m,
                                "alertname": body.get("groupLabels", {}).get("alertname"),
                                "status": body.get("status")}) + "\n")
        while m == "hang" and mode() == "hang":
            time.sleep(0.05)
        if m == "hang":
            return  # hung up without an answer
        self.send_response(500 if m == "500" else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
ThreadingHTTPServer.daemon_threads = True
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
cat >"$WORK/rules.yml" <<EOF
groups:
  - name: faults
    interval: 1s
    rules:
      - alert: FaultAlert
        expr: vector(1)
        labels: {severity: warning}
EOF
cat >"$WORK/bw.yml" <<EOF
alerting:
  rule_files: [$WORK/rules.yml]
  evaluation_interval: 1s
  route:
    receiver: hook
    group_by: [alertname]
    group_wait: 1s
    group_interval: 2s
    repeat_interval: 1h
  receivers:
    - name: hook
      webhook_configs: [{url: "http://127.0.0.1:$PORT/hook", timeout: 2s}]
EOF
start_breakwatch faults --data-dir "$WORK/data" --config "$WORK/bw.yml" --speed 120
failed() { # failed REASON: notifications_failed_total of the webhook for REASON
  curl -fsS "$BW_URL/api/metrics" |
    awk -v r="$1" '/^notifications_failed_total\{/ && /receiver="hook"/ && $0 ~ "reason=\"" r "\"" {print int($2)}'
}
failed_at_least() { [ "$(failed "$1")" -ge "$2" ]; }
seen() { # seen MODE: the requests the receiver took while answering so
  local n
  n=$(grep -c "\"mode\": \"$1\"" "$WORK/posts.jsonl" 2>/dev/null) || true
  echo "${n:-0}"
}
seen_at_least() { [ "$(seen "$1")" -ge "$2" ]; }
delivered() { grep '"mode": "ok"' "$WORK/posts.jsonl" | grep -q '"alertname": "FaultAlert", "status": "firing"'; }

# 1. Connection refused.
t0=$(date +%s%N)
wait_for 15 failed_at_least other 3 ||
  fail "connection refused: fewer than 3 failed attempts in 15 s ($(failed other))"
refused=$(failed other)
pass "connection refused: $refused attempts failed in $((($(date +%s%N) - t0) / 1000000)) ms, each retried"

# 2. 500.
echo 500 >"$MODE"
python3 "$WORK/recv.py" "$PORT" "$MODE" "$WORK/posts.jsonl" &
PIDS+=($!)
wait_for 20 seen_at_least 500 3 ||
  fail "500: the receiver saw $(seen 500) attempts in 20 s, want 3"
attempts500=$(python3 -c 'import json,sys
t=[json.loads(l)["t"] for l in open(sys.argv[1]) if json.loads(l)["mode"]=="500"]
print("%d attempts, %s s apart" % (len(t), " ".join("%.1f" % (b-a) for a,b in zip(t,t[1:]))))' "$WORK/posts.jsonl")
failed_at_least serverError 3 || fail "notifications_failed_total{reason=serverError} is $(failed serverError)"
pass "500: $attempts500; serverError failures counted: $(failed serverError)"

# 3. Hang: the evaluation keeps its interval.
echo hang >"$MODE"
wait_for 10 seen_at_least hang 1 || fail "no request reached the hanging receiver"
: >"$WORK/evals.txt"
: >"$WORK/metrics_ms.txt"
end=$(($(date +%s%N) / 1000000 + 8000))
while [ $(($(date +%s%N) / 1000000)) -lt "$end" ]; do
  curl -fsS "$BW_URL/api/v1/rules" >>"$WORK/evals.txt" || fail "/api/v1/rules during the hang"
  echo >>"$WORK/evals.txt"
  curl -fsS -o /dev/null -w '%{time_total}\n' "$BW_URL/api/metrics" >>"$WORK/metrics_ms.txt" ||
    fail "/api/metrics during the hang"
  sleep 0.25
done
evals=$(python3 - "$WORK/evals.txt" "$WORK/metrics_ms.txt" <<'PY'
import calendar, json, re, sys
seen = set()
for line in open(sys.argv[1]):
    if line.strip():
        g = json.loads(line)["data"]["groups"][0]
        seen.add(g["lastEvaluation"])
def secs(s):
    m = re.match(r"(\d+)-(\d+)-(\d+)T(\d+):(\d+):(\d+)(\.\d+)?Z$", s)
    assert m, s
    whole = calendar.timegm(tuple(int(x) for x in m.groups()[:6]))
    return whole + float(m.group(7) or 0)
t = sorted(secs(s) for s in seen)
gaps = [b - a for a, b in zip(t, t[1:])]
assert len(t) >= 7, "only %d evaluations in 8 s of the hang" % len(t)
assert max(gaps) <= 1.5, "an evaluation gap of %.2f s during the hang" % max(gaps)
slow = max(float(x) for x in open(sys.argv[2]))
assert slow < 1.0, "/api/metrics took %.2f s during the hang" % slow
print("%d evaluations in 8 s, intervals %.2f-%.2f s; /api/metrics at most %.0f ms" %
      (len(t), min(gaps), max(gaps), slow * 1000))
PY
) || fail "the evaluation stalled while the receiver hung"
nhang=$(seen hang)
[ "$nhang" -ge 2 ] || fail "the hanging receiver saw $nhang requests in 8 s: no retry after the timeout"
pass "hang: $evals; the receiver saw $nhang requests (timeout 2 s, retried)"

# 4. The receiver answers again: the notification arrives.
t0=$(date +%s%N)
echo ok >"$MODE"
wait_for 20 delivered ||
  fail "the notification was not delivered once the receiver answered"
pass "recovered: the firing notification delivered $((($(date +%s%N) - t0) / 1000000)) ms after the receiver answered again"
kill -TERM "$BW_PID"
wait "$BW_PID" || fail "breakwatch did not stop cleanly"
