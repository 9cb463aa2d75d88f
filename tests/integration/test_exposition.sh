#!/usr/bin/env bash
# The live /api/metrics page: promtool finds nothing to complain about in the 0.0.4 output,
# OpenMetrics is served when asked for and ends in # EOF, gzip works, values move.
source "$(dirname "$0")/lib.sh"

start_breakwatch bw --data-dir "$WORK/data" --speed 600
sleep 2

curl -fsS -D "$WORK/h1" "$BW_URL/api/metrics" >"$WORK/text.txt"
grep -qi '^content-type: text/plain; version=0.0.4; charset=utf-8' "$WORK/h1" || fail "text content type"
out=$(promtool check metrics <"$WORK/text.txt" 2>&1) || fail "promtool check metrics: $out"
[ -z "$out" ] || fail "promtool reported: $out"
pass "promtool check metrics is clean"

for m in signals_generated_total daily_loss_limit_triggered_total engine_cycle_time_bucket \
         trade_execution_duration_sum process_cpu_usage process_memory_percent \
         engine_state engine_state_transitions_total http_requests_total process_resident_memory_bytes; do
  grep -q "^$m[{ ]" "$WORK/text.txt" || fail "metric $m missing"
done
pass "spec metrics present"

curl -fsS -D "$WORK/h2" -H 'Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' \
  "$BW_URL/api/metrics" >"$WORK/om.txt"
grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$WORK/h2" || fail "OpenMetrics content type"
[ "$(tail -n1 "$WORK/om.txt")" = "# EOF" ] || fail "OpenMetrics output does not end in # EOF"
grep -q '^# TYPE engine_cycles counter' "$WORK/om.txt" || fail "OpenMetrics counter family name"
pass "OpenMetrics negotiated"

curl -fsS -H 'Accept-Encoding: gzip' -D "$WORK/h3" "$BW_URL/api/metrics" -o "$WORK/gz.bin"
grep -qi '^content-encoding: gzip' "$WORK/h3" || fail "no gzip"
gunzip -c "$WORK/gz.bin" >"$WORK/gz.txt" || fail "gzip body does not decompress"
grep -q '^engine_cycles_total ' "$WORK/gz.txt" || fail "gzip body lacks the metrics"
pass "gzip"

cycles() { curl -fsS "$BW_URL/api/metrics" | awk '$1=="engine_cycles_total"{print $2}'; }
a=$(cycles); sleep 1.5; b=$(cycles)
python3 -c "import sys; sys.exit(0 if float('$b') > float('$a') else 1)" || fail "engine_cycles_total did not move ($a -> $b)"
pass "metrics change from second to second ($a -> $b)"
