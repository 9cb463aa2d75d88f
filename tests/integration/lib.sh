# Shared helpers for the integration tests: temporary directories, starting breakwatch on a
# free loopback port, waiting for HTTP, cleanup. Sourced, not run.
set -euo pipefail

: "${BREAKWATCH:?BREAKWATCH must point at the breakwatch binary}"
: "${SRCDIR:?SRCDIR must point at the source tree}"

WORK=$(mktemp -d /tmp/bw-it.XXXXXX)
PIDS=()

cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_breakwatch NAME [ARGS...]: starts breakwatch on a free port with its stderr in
# $WORK/NAME.log; sets BW_PID and BW_URL once /api/health answers.
start_breakwatch() {
  local name=$1; shift
  "$BREAKWATCH" run --listen 127.0.0.1:0 "$@" 2>"$WORK/$name.log" &
  BW_PID=$!
  PIDS+=("$BW_PID")
  BW_URL=""
  for _ in $(seq 1 100); do
    BW_URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$WORK/$name.log" | head -n1 || true)
    if [ -n "$BW_URL" ] && curl -fsS "$BW_URL/api/health" >/dev/null 2>&1; then return 0; fi
    kill -0 "$BW_PID" 2>/dev/null || { cat "$WORK/$name.log" >&2; fail "breakwatch $name exited"; }
    sleep 0.1
  done
  cat "$WORK/$name.log" >&2
  fail "breakwatch $name did not answer on /api/health"
}

# wait_for SECONDS CMD...: retries CMD every 0.5 s until it succeeds.
wait_for() {
  local secs=$1; shift
  local tries=$((secs * 2))
  for _ in $(seq 1 "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

# integrity_check DB: SQLite's PRAGMA integrity_check of DB (the process writing it is dead or
# stopped), through Python's sqlite3 on a read-only connection, which leaves a crashed file's
# write-ahead log for the next opener to recover; fails the test unless it is "ok".
integrity_check() {
  local res
  res=$(python3 -c 'import sqlite3, sys, urllib.parse
c = sqlite3.connect("file:%s?mode=ro" % urllib.parse.quote(sys.argv[1]), uri=True)
print(" ".join(r[0] for r in c.execute("PRAGMA integrity_check")))' "$1" 2>&1) ||
    fail "integrity_check of $1: $res"
  [ "$res" = ok ] || fail "integrity_check of $1: $res"
}

# scrape_times DATA_DIR AT_S RANGE: the timestamps (ms, one a line, sorted) of every recorded
# sample of engine_cycles_total in the RANGE (a PromQL duration) before AT_S (unix seconds),
# read back by `breakwatch query --data-dir`: one a scrape.
scrape_times() {
  "$BREAKWATCH" query --data-dir "$1" --time "$2" "engine_cycles_total[$3]" >"$WORK/scrape_times.out" ||
    fail "query of $1 at $2"
  python3 - "$WORK/scrape_times.out" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
ts = sorted({round(float(t) * 1000) for t in re.findall(r"^\S+ @\[([0-9.]+)\]$", text, re.M)})
print("\n".join(map(str, ts)))
PY
}

# make_tokens NAME_FORMAT ROLE...: a token per role from `breakwatch token new`, named by
# printf NAME_FORMAT ROLE, kept in $WORK/ROLE.tok (its advice on stderr in $WORK/ROLE.err).
# tok ROLE prints the token, bearer ROLE its Authorization header, token_entries ROLE... the
# auth.tokens lines to configure.
make_tokens() {
  local fmt=$1 role name
  shift
  for role in "$@"; do
    # shellcheck disable=SC2059
    name=$(printf "$fmt" "$role")
    "$BREAKWATCH" token new --name "$name" --role "$role" >"$WORK/$role.tok" 2>"$WORK/$role.err" ||
      fail "token new --role $role"
  done
}
tok() { head -n1 "$WORK/$1.tok"; }
bearer() { echo "Authorization: Bearer $(tok "$1")"; }
token_entries() {
  local role
  for role in "$@"; do sed -n 2p "$WORK/$role.tok"; done
}
