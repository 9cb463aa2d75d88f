#!/usr/bin/env bash
# Rule unit tests in promtool's format (tests/fixtures/ruletests/) run under both
# `promtool test rules` (Prometheus 2.42) and `breakwatch test rules`: the passing fixture
# (for / pending / firing / resolved, keep_firing_for, a recording rule feeding an alert,
# annotations with $value and humanize, the expanding notation) passes under both, the one with
# wrong expectations fails under both with exit status 1, and breakwatch prints what promtool
# prints, line for line.
source "$(dirname "$0")/lib.sh"

FIX="$SRCDIR/tests/fixtures/ruletests"
PROMTOOL=${PROMTOOL:-$(command -v promtool || true)}

# Each tool runs from the fixture directory so both print the same file names.
run_tool() { (cd "$FIX" && "$@" 2>&1); }

out=$(run_tool "$BREAKWATCH" test rules pass.yml) || fail "breakwatch: pass.yml failed: $out"
grep -q '^  SUCCESS$' <<<"$out" || fail "breakwatch: no SUCCESS for pass.yml: $out"
pass "breakwatch test rules pass.yml"

set +e
bw_fail=$(run_tool "$BREAKWATCH" test rules fail.yml); rc=$?
set -e
[ "$rc" -eq 1 ] || fail "breakwatch: fail.yml exited $rc, want 1: $bw_fail"
grep -q 'alertname: OrdersOpenHigh, time: 3m' <<<"$bw_fail" || fail "breakwatch: $bw_fail"
pass "breakwatch test rules fail.yml fails"

set +e
"$BREAKWATCH" test rules >/dev/null 2>&1; rc=$?
set -e
[ "$rc" -eq 2 ] || fail "breakwatch test rules without a file exited $rc, want 2"
set +e
out=$(run_tool "$BREAKWATCH" test rules missing.yml); rc=$?
set -e
[ "$rc" -eq 1 ] || fail "breakwatch: missing.yml exited $rc, want 1: $out"
pass "usage and unreadable files"

if [ -z "$PROMTOOL" ]; then
  echo "SKIP: promtool not installed; the comparison with promtool did not run"
  exit 0
fi
out=$(run_tool "$PROMTOOL" test rules pass.yml) || fail "promtool: pass.yml failed: $out"
pass "promtool test rules pass.yml"
set +e
pt_fail=$(run_tool "$PROMTOOL" test rules fail.yml); rc=$?
set -e
[ "$rc" -eq 1 ] || fail "promtool: fail.yml exited $rc, want 1: $pt_fail"
pass "promtool test rules fail.yml fails"

diff <(echo "$pt_fail") <(echo "$bw_fail") >&2 || fail "breakwatch's failure report differs from promtool's"
pass "breakwatch reports the failures as promtool does"
