#!/usr/bin/env bash
# The Grafana dashboard files drawn by breakwatch's own page, in a real browser (Debian's
# Chromium through playwright-core): tests/e2e/dashboards.mjs. breakwatch runs the engine at
# 600x with --dashboards-dir on the shipped monitoring/grafana/dashboards and the shipped rules
# (so ALERTS exists for the overview's alert panels); every dashboard is opened at /d/{uid},
# checked panel by panel against its file and the API, and screenshotted to
# $BUILDDIR/screenshots/dashboard-<uid>.png. A second breakwatch reads a scratch copy of the
# files, which the script edits (a new panel title, a file that is not JSON, a dashboard with
# an unsupported panel type) to see each change on the next load.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_lib.sh"

DASHBOARDS="$SRCDIR/monitoring/grafana/dashboards"
RULES="$SRCDIR/monitoring/rules/breakwatch.rules.yml"

start_breakwatch shipped --data-dir "$WORK/data" --speed 600 --dashboards-dir "$DASHBOARDS" --rule-files "$RULES"
SHIPPED_URL=$BW_URL
SHIPPED_PID=$BW_PID
n=$(curl -fsS "$SHIPPED_URL/api/dashboards" | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["data"]))')
want=$(find "$DASHBOARDS" -maxdepth 1 -name '*.json' | wc -l)
[ "$n" -eq "$want" ] || fail "/api/dashboards lists $n dashboards, the directory has $want"
pass "/api/dashboards lists the $n shipped dashboards"

mkdir -p "$WORK/dashboards"
cp "$DASHBOARDS"/*.json "$WORK/dashboards/"
start_breakwatch scratch --data-dir "$WORK/data-scratch" --speed 600 --dashboards-dir "$WORK/dashboards"

BW_DASHBOARDS="$DASHBOARDS" BW_EDIT_URL="$BW_URL" BW_EDIT_DIR="$WORK/dashboards" \
  run_e2e dashboards.mjs "$SHIPPED_URL" || fail "the dashboard files in the page, end to end"
ls "$SHOTS"/dashboard-*.png

kill -TERM "$BW_PID" "$SHIPPED_PID"
wait "$BW_PID" || fail "breakwatch (scratch) did not stop cleanly"
wait "$SHIPPED_PID" || fail "breakwatch (shipped) did not stop cleanly"
pass "clean exit"
