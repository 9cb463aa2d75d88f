#!/usr/bin/env bash
# Remote write: a real Prometheus (Debian's, --web.enable-remote-write-receiver) receives
# breakwatch's samples and answers queries over them with the very samples breakwatch holds;
# samples written while it is stopped wait in breakwatch's queue on disk (pending, retried)
# and arrive once it is back; a breakwatch stopped with a full queue sends it after a restart;
# a receiver answering 400 has its batches dropped and counted; a 429's Retry-After is
# followed; a receiver that never answers does not hold up a stop, and its batch stays queued.
source "$(dirname "$0")/lib.sh"

prom_port=$(free_port)
PROM="http://127.0.0.1:$prom_port"
echo 'global: {}' >"$WORK/prometheus.yml"
start_prometheus() {
  prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
    --web.listen-address="127.0.0.1:$prom_port" --web.enable-remote-write-receiver \
    >>"$WORK/prometheus.log" 2>&1 &
  PROM_PID=$!
  PIDS+=("$PROM_PID")
  wait_for 20 curl -fsS "$PROM/-/ready" || { tail "$WORK/prometheus.log" >&2; fail "Prometheus not ready"; }
}
stop_pid() { kill "$1" && wait "$1" 2>/dev/null || true; }

cat >"$WORK/bw.yml" <<YML
remote_write:
  - url: $PROM/api/v1/write
    name: central
    queue_config: {batch_send_deadline: 1s, min_backoff: 50ms, max_backoff: 1s}
YML

# metric NAME: breakwatch's value of the remote_storage series NAME (0 when absent).
metric() {
  curl -fsS "$BW_URL/api/metrics" |
    awk -v n="$1" '$1 ~ "^"n"[{]" { v = $2 } END { print v == "" ? 0 : v }'
}
# caught_up T: the receiver has accepted a batch with a sample at or after T (batches go in
# order, so everything the collector recorded up to T is there).
caught_up() { python3 -c "import sys; sys.exit(0 if $(metric remote_storage_highest_timestamp_sent_seconds) >= $1 else 1)"; }

# raw URL SERIES T WINDOW: the raw samples of SERIES in (T-WINDOW, T] as "t value" lines.
raw() {
  curl -fsS --get "$1/api/v1/query" --data-urlencode "query=$2[$4]" --data-urlencode "time=$3" |
    python3 -c '
import json, sys
d = json.load(sys.stdin)["data"]["result"]
for s in d:
    for t, v in s["values"]:
        print("%.3f %s" % (float(t), v))'
}

# same SERIES T WINDOW WHAT: breakwatch's and Prometheus's raw samples agree and are many.
same() {
  raw "$BW_URL" "$1" "$2" "$3" >"$WORK/bw.txt"
  raw "$PROM" "$1" "$2" "$3" >"$WORK/prom.txt"
  local n
  n=$(wc -l <"$WORK/bw.txt")
  [ "$n" -ge "$4" ] || fail "$5: breakwatch has only $n samples of $1"
  diff "$WORK/bw.txt" "$WORK/prom.txt" >"$WORK/diff.txt" ||
    { head -20 "$WORK/diff.txt" >&2; fail "$5: Prometheus's samples of $1 differ from breakwatch's"; }
  pass "$5: Prometheus holds the same $n samples of $1 as breakwatch (t and value)"
}

# ---- 1. receiving ----
start_prometheus
start_breakwatch bw --data-dir "$WORK/data" --config "$WORK/bw.yml" --speed 120
sleep 4
t1=$(date +%s.%3N)
wait_for 15 caught_up "$t1" || fail "nothing after $t1 sent: $(metric remote_storage_samples_pending) pending"
same engine_cycles_total "$t1" 3s 3 "receiving"
# query_range over the same window gives the same points too.
qr() {
  curl -fsS --get "$1/api/v1/query_range" --data-urlencode "query=equity" \
    --data-urlencode "start=$(python3 -c "print($t1 - 3)")" --data-urlencode "end=$t1" \
    --data-urlencode "step=0.5" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["values"])'
}
[ "$(qr "$BW_URL")" = "$(qr "$PROM")" ] || fail "query_range of equity differs"
pass "query_range of equity over the window: the same points from both"

# ---- 2. the receiver stopped for a while, then back ----
retried0=$(metric remote_storage_samples_retried_total)
stop_pid "$PROM_PID"
t_down=$(date +%s.%3N)
sleep 8
pending=$(metric remote_storage_samples_pending)
retried=$(metric remote_storage_samples_retried_total)
bytes=$(metric remote_storage_bytes_pending)
python3 -c "import sys; sys.exit(0 if $pending > 5000 and $retried > $retried0 and $bytes > 0 else 1)" ||
  fail "during the outage: pending $pending, retried $retried (was $retried0), bytes $bytes"
pass "receiver down 8 s: $pending samples pending ($bytes bytes on disk), $retried retried"
t_up=$(date +%s.%3N)
start_prometheus
wait_for 20 caught_up "$t_up" || fail "the outage's backlog was not sent: $(metric remote_storage_samples_pending) pending"
win=$(python3 -c "print('%ds' % int($t_up - $t_down + 2))")
same engine_cycles_total "$t_up" "$win" 8 "the outage window"
same process_cpu_seconds_total "$t_up" "$win" 8 "the outage window"

# ---- 3. breakwatch stopped with a full queue, restarted ----
stop_pid "$PROM_PID"
sleep 5
pending=$(metric remote_storage_samples_pending)
t_stop=$(date +%s.%3N)
stop_pid "$BW_PID"
nseg=$(find "$WORK/data/remote/central" -name '*.seg' | wc -l)
[ "$nseg" -gt 0 ] || fail "no batch left on disk after a stop with $pending pending"
grep -q "retrying" "$WORK/bw.log" || fail "no warning about the receiver being away"
start_prometheus
start_breakwatch bw2 --data-dir "$WORK/data" --config "$WORK/bw.yml" --no-engine
grep -q "queued by an earlier run" "$WORK/bw2.log" || fail "the restart did not find the queue"
wait_for 20 caught_up "$t_stop" || fail "the queue of the earlier run was not sent"
win=$(python3 -c "print('%ds' % int($t_stop + 1 - $t_up))")
same engine_cycles_total "$(python3 -c "print($t_stop + 0.5)")" "$win" 5 "after a restart"
pass "$nseg batches ($pending+ samples) left on disk at stop were sent after the restart"

# ---- 4. a receiver that refuses ----
stop_pid "$BW_PID"
bad_port=$(free_port)
python3 - "$bad_port" >"$WORK/bad.log" 2>&1 <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        ok = (self.headers["Content-Encoding"] == "snappy"
              and self.headers["Content-Type"] == "application/x-protobuf"
              and self.headers["X-Prometheus-Remote-Write-Version"] == "0.1.0"
              and self.headers["User-Agent"].startswith("breakwatch/"))
        body = b"out of bounds: the sample is too old\n" if ok else b"wrong headers\n"
        self.send_response(400 if ok else 415)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
PIDS+=($!)
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$bad_port/" || fail "the refusing receiver did not start"
start_breakwatch bw3 --data-dir "$WORK/data3" --remote-write-url "http://127.0.0.1:$bad_port/api/v1/write" --speed 120
failed_some() { python3 -c "import sys; sys.exit(0 if $(metric remote_storage_samples_failed_total) > 0 else 1)"; }
wait_for 15 failed_some || fail "no batch counted as failed"
grep -q "HTTP 400: out of bounds: the sample is too old" "$WORK/bw3.log" ||
  { cat "$WORK/bw3.log" >&2; fail "the refusal is not logged with the status and the receiver's message"; }
[ "$(metric remote_storage_samples_retried_total)" = 0 ] || fail "a 400 was retried"
pass "a receiver answering 400: $(metric remote_storage_samples_failed_total) samples dropped as failed, logged, not retried"

# ---- 5. a 429 with Retry-After: its wait is followed, then the same batch again ----
stop_pid "$BW_PID"
ra_port=$(free_port)
python3 - "$ra_port" "$WORK/ra.txt" >"$WORK/ra.log" 2>&1 <<'PY' &
import hashlib, http.server, sys, time
n = 0
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global n
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[2], "a") as f:
            f.write("%.3f %s\n" % (time.monotonic(), hashlib.sha1(body).hexdigest()))
        n += 1
        self.send_response(429 if n == 1 else 204)
        if n == 1:
            self.send_header("Retry-After", "2")
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
PIDS+=($!)
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$ra_port/" || fail "the 429 receiver did not start"
cat >"$WORK/ra.yml" <<YML
remote_write:
  - url: http://127.0.0.1:$ra_port/api/v1/write
    queue_config: {batch_send_deadline: 500ms, min_backoff: 50ms, max_backoff: 100ms}
YML
start_breakwatch bw4 --data-dir "$WORK/data4" --config "$WORK/ra.yml" --speed 120
two_posts() { [ "$(wc -l <"$WORK/ra.txt" 2>/dev/null || echo 0)" -ge 2 ]; }
wait_for 15 two_posts || fail "no second request after a 429"
read -r t_1 h_1 t_2 h_2 <<<"$(head -2 "$WORK/ra.txt" | tr '\n' ' ')"
[ "$h_1" = "$h_2" ] || fail "the batch sent after the 429 is not the one refused"
python3 -c "import sys; sys.exit(0 if 1.9 <= $t_2 - $t_1 < 4 else 1)" ||
  fail "Retry-After: 2 not followed: the retry came $(python3 -c "print(round($t_2 - $t_1, 3))") s later (max_backoff 100ms)"
pass "a 429 with Retry-After: 2: the same batch again $(python3 -c "print(round($t_2 - $t_1, 2))") s later, not after max_backoff (100ms)"

# ---- 6. a receiver that accepts and never answers: a stop is prompt, the batch stays ----
stop_pid "$BW_PID"
hang_port=$(free_port)
python3 - "$hang_port" >"$WORK/hang.log" 2>&1 <<'PY' &
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(16)
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    if c.recv(1):  # a request, not a probe: hold it unanswered
        print("request", flush=True)
PY
PIDS+=($!)
hang_up() { grep -q request "$WORK/hang.log"; }
cat >"$WORK/hang.yml" <<YML
remote_write:
  - url: http://127.0.0.1:$hang_port/api/v1/write
    name: hang
    remote_timeout: 5m
    queue_config: {batch_send_deadline: 500ms}
YML
wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $hang_port)).close()" ||
  fail "the silent receiver did not start"
start_breakwatch bw5 --data-dir "$WORK/data5" --config "$WORK/hang.yml" --speed 120
wait_for 15 hang_up || fail "no request reached the silent receiver"
sleep 1
t0=$(date +%s.%N)
stop_pid "$BW_PID"
took=$(python3 -c "print(round($(date +%s.%N) - $t0, 2))")
python3 -c "import sys; sys.exit(0 if $took < 3 else 1)" || fail "stopping with a request in flight took $took s"
nseg=$(find "$WORK/data5/remote/hang" -name '*.seg' | wc -l)
[ "$nseg" -ge 1 ] || fail "the batch in flight was not kept on disk"
pass "a receiver that never answers (remote_timeout 5m): stopped in $took s, $nseg batches kept on disk"
