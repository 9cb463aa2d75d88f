#!/usr/bin/env bash
# bench/remote_bench.sh BUILD [SECONDS] [OUTAGE] — remote write, breakwatch against Prometheus
# sending the same kind of samples to the same receiver.
#
# One receiver (a Prometheus with --web.enable-remote-write-receiver). Four processes at the
# same time, the same length: breakwatch with remote write (A) and without (B), a Prometheus
# scraping B every second with remote write (P) and one scraping A without (Q), both with
# max_samples_per_send 2000 and Prometheus's default backoff. The cost of remote write is the
# CPU time A spent over B's, and P over Q's, divided by the samples each sent: CPU seconds per
# million samples, so the ratio does not depend on how many series each sends; a difference
# below the noise of the process without remote write shows as 0 or less. The whole process's
# CPU per million samples (recording and sending the same metrics) is given beside it. Then the
# receiver is stopped for OUTAGE seconds and started again, and the time each takes to empty
# its backlog gives the drain rate (samples sent during the drain per second).
set -euo pipefail
BUILD=${1:?usage: remote_bench.sh BUILD [SECONDS] [OUTAGE]}
SECONDS_RUN=${2:-40}
OUTAGE=${3:-15}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"

recv_port=$(free_port)
RECV="http://127.0.0.1:$recv_port"
echo 'global: {}' >"$WORK/recv.yml"
start_receiver() {
  spawn prometheus --config.file="$WORK/recv.yml" --storage.tsdb.path="$WORK/recv" \
    --web.listen-address="127.0.0.1:$recv_port" --web.enable-remote-write-receiver \
    >>"$WORK/recv.log" 2>&1
  RECV_PID=$!
  wait_url "$RECV/-/ready"
}
start_receiver

queue="queue_config: {max_samples_per_send: 2000}"
cat >"$WORK/a.yml" <<YML
remote_write: [{url: $RECV/api/v1/write, name: bench, $queue}]
YML
a_port=$(free_port)
spawn "$BUILD/breakwatch" run --listen "127.0.0.1:$a_port" --data-dir "$WORK/a" \
  --config "$WORK/a.yml" 2>"$WORK/a.log"
A_PID=$!
A="http://127.0.0.1:$a_port"
# B, and P scraping it with remote write (start_pair's Prometheus), Q scraping it without.
start_pair "$BUILD" "remote_write: [{url: $RECV/api/v1/write, $queue}]"
B_PID=${PIDS[-2]}
P_PID=${PIDS[-1]}
P=$PROM_URL
B=$BW_URL
q_port=$(free_port)
# Q scrapes A, so each breakwatch serves one scrape a second.
sed -e '/^remote_write/d' -e "s/127.0.0.1:${B##*:}/127.0.0.1:$a_port/" "$WORK/prometheus.yml" \
  >"$WORK/q.yml"
spawn prometheus --config.file="$WORK/q.yml" --storage.tsdb.path="$WORK/q" \
  --web.listen-address="127.0.0.1:$q_port" >"$WORK/q.log" 2>&1
Q_PID=$!
wait_url "$A/api/health"
wait_url "http://127.0.0.1:$q_port/-/ready"

# cpu PID: CPU seconds of PID's threads, to the nanosecond (schedstat; stat counts 10 ms ticks).
cpu() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.4f\n", s / 1e9 }'; }
val() { # val URL NAME: the sum of NAME's samples in URL's exposition
  curl -fsS "$1" | awk -v n="$2" '$1 == n || index($1, n "{") == 1 { s += $2 } END { printf "%.0f\n", s }'
}
a_sent() { val "$A/api/metrics" remote_storage_samples_total; }
p_sent() { val "$P/metrics" prometheus_remote_storage_samples_total; }
a_pending() { val "$A/api/metrics" remote_storage_samples_pending; }
# Prometheus's pending counts its shards' memory only (the rest waits in its WAL): the backlog
# is measured for both as how far the newest sample sent lags behind now.
a_last() { val "$A/api/metrics" remote_storage_highest_timestamp_sent_seconds; }
p_last() { val "$P/metrics" prometheus_remote_storage_queue_highest_sent_timestamp_seconds; }

sleep 5 # past start-up: series created, first batches sent
a0=$(a_sent) p0=$(p_sent)
ca0=$(cpu "$A_PID") cb0=$(cpu "$B_PID") cp0=$(cpu "$P_PID") cq0=$(cpu "$Q_PID")
sleep "$SECONDS_RUN"
a1=$(a_sent) p1=$(p_sent)
ca1=$(cpu "$A_PID") cb1=$(cpu "$B_PID") cp1=$(cpu "$P_PID") cq1=$(cpu "$Q_PID")

# The outage, then the drain.
kill "$RECV_PID"
wait "$RECV_PID" 2>/dev/null || true
sleep "$OUTAGE"
a_back=$(a_pending)
as0=$(a_sent) ps0=$(p_sent)
start_receiver
t0=$(date +%s.%N)
a_done="" p_done=""
# Drained: the newest sample sent is from after the receiver came back.
for _ in $(seq 1 600); do
  now=$(date +%s.%N)
  [ -n "$a_done" ] || { [ "$(a_last)" -ge "${t0%.*}" ] && a_done=$now && as1=$(a_sent); } || true
  [ -n "$p_done" ] || { [ "$(p_last)" -ge "${t0%.*}" ] && p_done=$now && ps1=$(p_sent); } || true
  [ -n "$a_done" ] && [ -n "$p_done" ] && break
  sleep 0.1
done
# The senders before the receiver: a Prometheus whose receiver is gone waits a minute to flush.
for p in "$A_PID" "$P_PID" "$Q_PID" "$B_PID"; do kill "$p" 2>/dev/null || true; done
for p in "$A_PID" "$P_PID" "$Q_PID" "$B_PID"; do wait "$p" 2>/dev/null || true; done

awk -v s="$SECONDS_RUN" -v a0="$a0" -v a1="$a1" -v p0="$p0" -v p1="$p1" \
  -v ca="$(awk -v x="$ca0" -v y="$ca1" 'BEGIN{print y-x}')" \
  -v cb="$(awk -v x="$cb0" -v y="$cb1" 'BEGIN{print y-x}')" \
  -v cp="$(awk -v x="$cp0" -v y="$cp1" 'BEGIN{print y-x}')" \
  -v cq="$(awk -v x="$cq0" -v y="$cq1" 'BEGIN{print y-x}')" \
  -v t0="$t0" -v ad="${a_done:-0}" -v pd="${p_done:-0}" -v ab="$a_back" \
  -v as0="$as0" -v as1="${as1:-0}" -v ps0="$ps0" -v ps1="${ps1:-0}" -v outage="$OUTAGE" '
  function row(label, b, p, r) { printf "%-52s %12s %12s %8s\n", label, b, p, r }
  BEGIN {
    na = a1 - a0; np = p1 - p0
    row("figure", "breakwatch", "Prometheus", "P/bw")
    row("samples sent in " s " s", na, np, "")
    row("CPU s, the sending process", ca, cp, "")
    row("CPU s, the same process without remote write", cb, cq, "")
    ea = na ? (ca - cb) * 1e6 / na : 0; ep = np ? (cp - cq) * 1e6 / np : 0
    row("CPU s per million samples sent (difference)", sprintf("%.2f", ea), sprintf("%.2f", ep),
        ea > 0 ? sprintf("%.1fx", ep / ea) : "-")
    wa = na ? ca * 1e6 / na : 0; wp = np ? cp * 1e6 / np : 0
    row("CPU s per million samples, whole process", sprintf("%.2f", wa), sprintf("%.2f", wp),
        wa > 0 ? sprintf("%.1fx", wp / wa) : "-")
    row("breakwatch queue after a " outage " s outage, samples", ab, "", "")
    row("samples sent from the restart until drained", as1 - as0, ps1 - ps0, "")
    da = ad ? ad - t0 : -1; dp = pd ? pd - t0 : -1
    row("time to drain the backlog once the receiver is back, s", sprintf("%.1f", da), sprintf("%.1f", dp), "")
    ra = da > 0 ? (as1 - as0) / da : 0; rp = dp > 0 ? (ps1 - ps0) / dp : 0
    row("drain rate, samples/s", sprintf("%.0f", ra), sprintf("%.0f", rp),
        ra > 0 ? sprintf("%.2fx", rp / ra) : "-")
  }'
prometheus --version 2>&1 | head -1 | sed 's/^/# /'
echo "# drain: from the receiver's restart until the newest sample sent is newer than the restart;"
echo "# both wait out their backoff (max 5 s) before the first retry."
