#!/usr/bin/env bash
# The web page in a real browser (Debian's Chromium through playwright-core, both installed by
# scripts/deps.sh), against breakwatch itself, auth off: tests/e2e/monitoring.mjs. The data
# directory first gets a finished session (a short run with --duration, to completion), then
# breakwatch runs the engine at 600x so that events, trades and losing closes come every
# second. Screenshots of every view go to $BUILDDIR/screenshots/. The same with auth on is
# test_web_auth.sh.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_lib.sh"

# A finished past session: 2 simulated hours at 3600x, run to completion, then stopped.
start_breakwatch past --data-dir "$WORK/data" --speed 3600 --duration 7200
completed() { curl -s "$BW_URL/api/health" | grep -q '"run":"completed"'; }
wait_for $((60 * E2E_SLOW)) completed || fail "the past session did not complete"
kill -TERM "$BW_PID"
wait "$BW_PID" || fail "breakwatch (past session) did not stop cleanly"
pass "a past session: 7200 simulated seconds, completed"

start_breakwatch live --data-dir "$WORK/data" --speed 600
run_e2e monitoring.mjs "$BW_URL" || fail "the monitoring page, end to end (auth off)"
kill -TERM "$BW_PID"
wait "$BW_PID" || fail "breakwatch did not stop cleanly"
pass "clean exit"
