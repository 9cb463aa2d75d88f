#!/usr/bin/env bash
# `breakwatch check rules` against `promtool check rules` on the same files: every good fixture
# passes both with the same rule count, every bad fixture fails both, and breakwatch names the
# offending node as file:line:col (positions read off the fixtures by hand).
source "$(dirname "$0")/lib.sh"

FIX="$SRCDIR/tests/fixtures/rules"
command -v promtool >/dev/null || fail "promtool is not installed"

count() { sed -n 's/^  SUCCESS: \([0-9]*\) rules found$/\1/p' "$1"; }

for f in "$FIX"/good/*.yml; do
  name=$(basename "$f")
  promtool check rules "$f" >"$WORK/p.out" 2>"$WORK/p.err" || { cat "$WORK/p.err" >&2; fail "promtool rejects $name"; }
  "$BREAKWATCH" check rules "$f" >"$WORK/b.out" 2>"$WORK/b.err" || { cat "$WORK/b.err" >&2; fail "breakwatch rejects $name"; }
  pn=$(count "$WORK/p.out"); bn=$(count "$WORK/b.out")
  [ -n "$pn" ] && [ "$pn" = "$bn" ] || fail "$name: promtool found '$pn' rules, breakwatch '$bn'"
  head -n1 "$WORK/b.out" | grep -qx "Checking $f" || fail "$name: no 'Checking' line"
  pass "$name: $bn rules, as promtool"
done

# bad fixture, then the line:col breakwatch must report and a piece of its message
bad_cases=(
  "unknown_key.yml 6:9 field severity not found"
  "duplicate_group.yml 4:5 is repeated in the same file"
  "alert_and_record.yml 5:17 only one of 'record' and 'alert' must be set"
  "bad_expr.yml 5:21 could not parse expression: 1:7: parse error"
  "bad_template.yml 7:20 function \"frobnicate\" not defined"
  "for_on_record.yml 6:14 invalid field 'for' in recording rule"
  "bad_record_name.yml 4:17 invalid recording rule name"
  "bad_duration.yml 6:14 not a valid duration string"
)
for c in "${bad_cases[@]}"; do
  read -r name pos msg <<<"$c"
  f="$FIX/bad/$name"
  if promtool check rules "$f" >/dev/null 2>&1; then fail "promtool accepts $name"; fi
  set +e
  "$BREAKWATCH" check rules "$f" >"$WORK/b.out" 2>"$WORK/b.err"
  rc=$?
  set -e
  [ "$rc" = 1 ] || fail "$name: breakwatch exit status $rc, want 1"
  grep -qx "  FAILED:" "$WORK/b.err" || fail "$name: no FAILED line"
  grep -F "$f:$pos: " "$WORK/b.err" | grep -qF "$msg" ||
    { cat "$WORK/b.err" >&2; fail "$name: want $f:$pos: ...$msg..."; }
  pass "$name fails at $pos in both"
done

# Several files: each is reported, the status says one failed; no file is a usage error.
set +e
"$BREAKWATCH" check rules "$FIX/good/engine.yml" "$FIX/bad/bad_expr.yml" >"$WORK/b.out" 2>"$WORK/b.err"
rc=$?
"$BREAKWATCH" check rules >/dev/null 2>&1
rc_usage=$?
set -e
[ "$rc" = 1 ] || fail "mixed files: exit status $rc, want 1"
[ "$(grep -c '^Checking ' "$WORK/b.out")" = 2 ] || fail "mixed files: not both checked"
[ "$rc_usage" = 2 ] || fail "no files: exit status $rc_usage, want 2"
pass "several files and usage"
