#!/usr/bin/env bash
# PromQL conformance: Prometheus v3.5.0's own test files, run through `breakwatch test promql`
# with the skip rules (cases that need native histograms). Every other case
# must pass. Also checks that the runner notices a wrong expectation and a bad rules file.
source "$(dirname "$0")/lib.sh"

DIR="$SRCDIR/tests/conformance"

rc=0
"$BREAKWATCH" test promql --skip "$DIR/skip.rules" "$DIR"/promql-v3.5.0/*.test \
  >"$WORK/conformance.out" 2>&1 || rc=$?
cat "$WORK/conformance.out"
summary=$(tail -n1 "$WORK/conformance.out")
[ "$rc" -eq 0 ] || fail "conformance: exit $rc, $summary"
# A runner that skipped or lost cases would also exit 0: the counts must stay where they are
# (849 pass; the 630 skipped cases all need native histograms).
passed=$(sed -n 's/^total: \([0-9]*\) passed.*/\1/p' <<<"$summary")
skipped=$(sed -n 's/.* \([0-9]*\) skipped$/\1/p' <<<"$summary")
[ "${passed:-0}" -ge 849 ] && [ "${skipped:-9999}" -le 630 ] ||
  fail "conformance: only ${passed:-0} cases passed and ${skipped:-?} were skipped"
pass "conformance: $summary"

# A wrong expected value is a failure (exit 1) that names file:line.
printf 'load 1m\n  x{a="b"} 1 2\n\neval instant at 1m x\n  x{a="b"} 3\n' >"$WORK/wrong.test"
rc=0
"$BREAKWATCH" test promql "$WORK/wrong.test" >"$WORK/wrong.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$WORK/wrong.out" >&2; fail "wrong expectation: exit $rc, want 1"; }
grep -qF 'wrong.test:4: eval instant at 1m x' "$WORK/wrong.out" ||
  { cat "$WORK/wrong.out" >&2; fail "wrong expectation: no file:line in the report"; }
grep -qF 'expected 3 for x{a="b"} but got 2' "$WORK/wrong.out" ||
  { cat "$WORK/wrong.out" >&2; fail "wrong expectation: no expected/got detail"; }
pass "a wrong expectation fails with file:line and expected vs got"

# A rule without a reason is refused (exit 2).
printf 'call rate\n' >"$WORK/bad.rules"
rc=0
"$BREAKWATCH" test promql --skip "$WORK/bad.rules" "$WORK/wrong.test" >/dev/null \
  2>"$WORK/bad.err" || rc=$?
[ "$rc" -eq 2 ] || fail "rule without a reason: exit $rc, want 2"
grep -qF 'bad.rules:1:1:' "$WORK/bad.err" || { cat "$WORK/bad.err" >&2; fail "bad rules: no position"; }
pass "a skip rule without a reason is refused"
