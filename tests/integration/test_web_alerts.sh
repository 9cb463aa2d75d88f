#!/usr/bin/env bash
# Alerting on the web page in a real browser (tests/e2e/alerts.mjs), auth on: a viewer and an
# editor token, rules evaluated every second — one that always fires, one on the engine's own
# resident memory, and a late one that fires only once the test rewrites its file and reloads
# the rules — and a webhook receiver (webhook_receiver.py) for the notifications and the test
# notification. The page toasts the late alert with its summary, a viewer cannot acknowledge
# it, an editor acknowledges it from the toast and silences another from the Alerts view, the
# Rules section shows the states. Screenshots go to $BUILDDIR/screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_lib.sh"

python3 "$SRCDIR/tests/integration/webhook_receiver.py" --port-file "$WORK/hook.port" --out "$WORK/hook.jsonl" &
PIDS+=($!)
wait_for 10 test -s "$WORK/hook.port" || fail "the webhook receiver did not start"
HOOK_PORT=$(cat "$WORK/hook.port")

mkdir -p "$WORK/rules"
cat >"$WORK/rules/base.yml" <<'EOF'
groups:
  - name: e2e-base
    rules:
      - alert: TestAlwaysFiring
        expr: vector(1)
        for: 0s
        labels: {severity: warning, team: e2e}
        annotations:
          summary: always firing (e2e)
          description: vector(1) is always 1
      - alert: EngineMemoryHigh
        expr: process_resident_memory_bytes > 1000
        for: 0s
        labels: {severity: info}
        annotations:
          summary: "resident memory {{ $value | humanize1024 }}B"
EOF
# The late rule never fires as written; alerts.mjs rewrites its expr to vector(7) and reloads.
cat >"$WORK/rules/late.yml" <<'EOF'
groups:
  - name: e2e-late
    rules:
      - alert: TestLateFiring
        expr: vector(1) > 2
        for: 0s
        labels: {severity: critical}
        annotations:
          summary: "late alert at {{ $value }}"
EOF

make_tokens 'e2e-%s' viewer editor
{
  echo "auth:"
  echo "  tokens:"
  token_entries viewer editor
  cat <<EOF
alerting:
  rule_files: [$WORK/rules/base.yml, $WORK/rules/late.yml]
  evaluation_interval: 1s
  route:
    receiver: hook
    group_by: [alertname]
    group_wait: 1s
    group_interval: 2s
    repeat_interval: 1h
  receivers:
    - name: hook
      webhook_configs: [{url: "http://127.0.0.1:$HOOK_PORT/hook"}]
EOF
} >"$WORK/bw.yml"
[[ "$(tok viewer)" =~ ^bw_ ]] || fail "token new: unexpected output $(head -c 20 "$WORK/viewer.tok")"
pass "a viewer and an editor token, three rules evaluated every second, a webhook receiver on :$HOOK_PORT"

start_breakwatch alerts --data-dir "$WORK/data" --config "$WORK/bw.yml" --speed 600
BW_VIEWER_TOKEN=$(tok viewer) BW_VIEWER_NAME=e2e-viewer BW_EDITOR_TOKEN=$(tok editor) \
  BW_EDITOR_NAME=e2e-editor BW_LATE_RULES="$WORK/rules/late.yml" run_e2e alerts.mjs "$BW_URL" ||
  fail "alerting on the page, end to end"
grep -q '"TestLateFiring"' "$WORK/hook.jsonl" || fail "the webhook receiver got no TestLateFiring notification"
pass "the webhook receiver got the late alert's notification"
kill -TERM "$BW_PID"
wait "$BW_PID" || fail "breakwatch did not stop cleanly"
pass "clean exit"
