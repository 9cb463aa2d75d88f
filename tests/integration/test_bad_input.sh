#!/usr/bin/env bash
# Bad input gets a clear message naming what and where, a non-zero exit, and leaves nothing
# half-written behind.
source "$(dirname "$0")/lib.sh"

# expect_error NAME EXPECTED_TEXT ARGS...: breakwatch must exit non-zero within 10 s and
# print EXPECTED_TEXT on stderr.
expect_error() {
  local name=$1 text=$2; shift 2
  local rc=0
  timeout 10 "$BREAKWATCH" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" || rc=$?
  [ "$rc" -ne 0 ] || fail "$name: exit status 0"
  [ "$rc" -ne 124 ] || fail "$name: did not exit"
  grep -qF -- "$text" "$WORK/$name.err" || { cat "$WORK/$name.err" >&2; fail "$name: message lacks '$text'"; }
  pass "$name: exit $rc, $(head -n1 "$WORK/$name.err")"
}

expect_error unknown-flag "unknown option '--bogus'" run --bogus 1
expect_error unknown-command "unknown command 'fly'" fly
expect_error missing-value "--seed needs a value" run --seed
expect_error bad-speed "--speed: expected a number, got 'fast'" run --speed fast
expect_error negative-speed "--speed:" run --speed -3
expect_error bad-listen "--listen: expected HOST:PORT" run --listen nowhere
expect_error remote-listen "refusing to serve 0.0.0.0 without authentication" run --listen 0.0.0.0:8000

cat >"$WORK/bad.yml" <<'YML'
listen: 127.0.0.1:0
engine:
  seed: 7
  speed: lots
YML
expect_error config-value "bad.yml:4:10: engine.speed: expected a number, got 'lots'" run --config "$WORK/bad.yml"
printf 'engine:\n  seeds: 3\n' >"$WORK/unknown.yml"
expect_error config-key "unknown.yml:2:3: unknown setting 'engine.seeds'" run --config "$WORK/unknown.yml"
printf 'engine: [1, 2\n' >"$WORK/syntax.yml"
expect_error config-syntax "syntax.yml:2:1: YAML syntax error" run --config "$WORK/syntax.yml"
expect_error config-missing "cannot open configuration file" run --config "$WORK/nope.yml"

expect_error replay-missing "replay: '$WORK/no-such-dir' is not a directory" \
  run --replay "$WORK/no-such-dir" --data-dir "$WORK/d-replay"
[ ! -e "$WORK/d-replay" ] || fail "replay-missing left a data directory behind"

touch "$WORK/a-file"
expect_error data-dir-unwritable "$WORK/a-file/data" run --listen 127.0.0.1:0 --data-dir "$WORK/a-file/data"
[ -f "$WORK/a-file" ] && [ ! -s "$WORK/a-file" ] || fail "data-dir-unwritable touched the file"

start_breakwatch first --data-dir "$WORK/d1"
expect_error port-in-use "Address already in use" run --listen "${BW_URL#http://}" --data-dir "$WORK/d2"
[ ! -e "$WORK/d2" ] || fail "port-in-use left a data directory behind"
