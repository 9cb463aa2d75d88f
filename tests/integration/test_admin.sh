#!/usr/bin/env bash
# The admin role's endpoints, end to end, on a real breakwatch with three tokens (viewer,
# editor, admin, made by `breakwatch token new`): a viewer and an editor get 403 naming the
# admin role on every /api/admin route; an admin halts the engine while positions are open —
# within a few seconds GET /api/admin/engine and the engine_state / engine_operator_halted
# gauges say halted by the operator, no position is open, and the scans stop (market_scans_total
# and the realtime count stay put over 2 s); a second halt is a 409, a bad reason a 400;
# resume goes back to scanning and the scans advance; a second resume is a 409. The journal
# holds the halt and the resume (risk and state_change events) and one audit event per admin
# request, refusals included; the state machine shows no unexpected transition; the token list
# has the three names and roles and no hash material.
source "$(dirname "$0")/lib.sh"

make_tokens '%s-user' viewer editor admin
{
  echo "auth:"
  echo "  tokens:"
  token_entries viewer editor admin
} >"$WORK/auth.yml"

# code [CURL ARGS...]: the status; the body in $WORK/body.
code() { curl -s --max-time 10 -o "$WORK/body" -w '%{http_code}' "$@"; }
J='Content-Type: application/json'
# Every /api/admin request made, as the audit trail should record it: who role method path status.
: >"$WORK/audit.want"
# admin_req WANT ROLE METHOD PATH [CURL ARGS...]: one admin request, checked and noted.
admin_req() {
  local want=$1 role=$2 method=$3 path=$4; shift 4
  local got
  got=$(code -X "$method" -H "$(bearer "$role")" "$@" "$BW_URL$path")
  [ "$got" = "$want" ] || { cat "$WORK/body" >&2; fail "$role $method $path: HTTP $got, want $want"; }
  echo "$role-user $role $method $path $got" >>"$WORK/audit.want"
}
# json EXPR: evaluates a Python expression over the last body, bound to b.
json() { python3 -c 'import json, sys; b = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$WORK/body" "$1"; }
# metric NAME_AND_LABELS: its value in /api/metrics (the exposition line as written).
metric() {
  curl -s --max-time 5 -H "$(bearer viewer)" "$BW_URL/api/metrics" >"$WORK/metrics"
  awk -v n="$1" '$1 == n { print $2; found = 1 } END { if (!found) exit 1 }' "$WORK/metrics"
}
realtime() {
  curl -s --max-time 5 -H "$(bearer viewer)" "$BW_URL/api/monitoring/realtime" >"$WORK/rt"
  python3 -c 'import json, sys; b = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$WORK/rt" "$1"
}
# Conditions for wait_for, read afresh at each try.
engine_get() { # GET /api/admin/engine as admin, noted for the audit trail; 0 when 200
  local got
  got=$(code -H "$(bearer admin)" "$BW_URL/api/admin/engine")
  echo "admin-user admin GET /api/admin/engine $got" >>"$WORK/audit.want"
  [ "$got" = 200 ]
}
status_is() { # status_is STATE HALTED_BY: GET /api/admin/engine says so
  engine_get && [ "$(json 'b["state"]')" = "$1" ] && [ "$(json 'b["halted_by"]')" = "$2" ]
}
trading() { # GET /api/admin/engine says the engine trades: not halted, past idle
  engine_get &&
    [ "$(json 'b["state"] not in ("halted", "idle") and b["halted_by"] is None')" = True ]
}
metric_is() { python3 -c 'import sys; assert float(sys.argv[1]) == float(sys.argv[2])' "$(metric "$1")" "$2"; }
open_is() { [ "$(realtime 'b["positions_open"]')" = "$1" ]; }
some_open() { realtime 'b["positions_open"]' >"$WORK/open_before" && [ "$(cat "$WORK/open_before")" != 0 ]; }

# A simulated minute every 0.1 s: candles close ten times a second, positions open within seconds.
start_breakwatch admin --data-dir "$WORK/data" --config "$WORK/auth.yml" --speed 600 \
  --scrape-interval 0.5

# ---- the admin role ------------------------------------------------------------------------
for role in viewer editor; do
  for r in "GET /api/admin/engine" "POST /api/admin/engine/halt" "POST /api/admin/engine/resume" \
    "GET /api/admin/tokens"; do
    admin_req 403 "$role" ${r% *} ${r#* }
    grep -qF "needs the admin role; token \\\"$role-user\\\" is a" "$WORK/body" ||
      fail "$role on $r: $(cat "$WORK/body")"
  done
done
got=$(code -X POST "$BW_URL/api/admin/engine/halt")
[ "$got" = 401 ] || fail "a halt without a token: HTTP $got"
echo "- - POST /api/admin/engine/halt 401" >>"$WORK/audit.want"
pass "viewer and editor: 403 naming the admin role on the 4 admin routes; 401 without a token"

# ---- halt ----------------------------------------------------------------------------------
admin_req 200 admin GET /api/admin/engine
[ "$(json 'b["halted_by"]')" = None ] && [ "$(json 'b["run"]')" = running ] ||
  fail "status before the halt: $(cat "$WORK/body")"
wait_for 30 some_open ||
  fail "no position opened in 30 s: $(cat "$WORK/rt")"
open_before=$(cat "$WORK/open_before")
admin_req 200 admin POST /api/admin/engine/halt -H "$J" -d '{"reason":"exchange maintenance"}'
python3 - "$WORK/body" <<'PY' || fail "the halt's answer: $(cat "$WORK/body")"
import json, sys, time
b = json.load(open(sys.argv[1]))
assert b["state"] == "halted" and b["halted_by"] == "operator" and not b["pending"], b
assert b["reason"] == "exchange maintenance" and b["by"] == "admin-user", b
assert abs(b["halted_at_ms"] / 1000 - time.time()) < 30, b
PY
wait_for 5 status_is halted operator || fail "GET /api/admin/engine: $(cat "$WORK/body")"
wait_for 5 metric_is 'engine_state{state="halted"}' 1 || fail "engine_state{state=\"halted\"} is not 1"
metric_is engine_operator_halted 1 || fail "engine_operator_halted is not 1"
wait_for 5 open_is 0 || fail "positions still open: $(cat "$WORK/rt")"
wait_for 5 metric_is positions_open 0 || fail "positions_open is not 0"
pass "halt: 200 halted by admin-user, engine_state and engine_operator_halted 1; positions_open $open_before just before, 0 after"

scans0=$(metric market_scans_total)
rt0=$(realtime 'b["counts"]["scans"]')
sleep 2
scans1=$(metric market_scans_total)
rt1=$(realtime 'b["counts"]["scans"]')
[ "$scans0" = "$scans1" ] && [ "$rt0" = "$rt1" ] ||
  fail "scans advanced while halted: market_scans_total $scans0 → $scans1, realtime $rt0 → $rt1"
pass "halted: market_scans_total stays at $scans1 over 2 s"

admin_req 409 admin POST /api/admin/engine/halt
grep -q '"errorType":"conflict"' "$WORK/body" && grep -q 'already halted by an operator' "$WORK/body" ||
  fail "a second halt: $(cat "$WORK/body")"
long=$(python3 -c 'print("x" * 501)')
admin_req 400 admin POST /api/admin/engine/halt -H "$J" -d "{\"reason\":\"$long\"}"
grep -q 'invalid parameter \\"reason\\": must be at most 500 bytes' "$WORK/body" ||
  fail "a long reason: $(cat "$WORK/body")"
admin_req 400 admin POST /api/admin/engine/halt -H "$J" -d '{"reason":42}'
grep -q 'must be a string' "$WORK/body" || fail "a numeric reason: $(cat "$WORK/body")"
printf '{"reason":"\xff\xfe"}' >"$WORK/bad-utf8.json"
admin_req 400 admin POST /api/admin/engine/halt -H "$J" --data-binary "@$WORK/bad-utf8.json"
grep -q 'not valid UTF-8' "$WORK/body" || fail "a reason that is not UTF-8: $(cat "$WORK/body")"
pass "a second halt: 409 conflict; a reason of 501 bytes, a number, or not UTF-8: 400"

# ---- resume --------------------------------------------------------------------------------
admin_req 200 admin POST /api/admin/engine/resume
python3 - "$WORK/body" <<'PY' || fail "the resume's answer: $(cat "$WORK/body")"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["state"] in ("idle", "scanning") and b["halted_by"] is None and b["reason"] is None, b
PY
metric_is engine_operator_halted 0 || fail "engine_operator_halted is not 0 after the resume"
wait_for 5 trading || fail "not trading again: $(cat "$WORK/body")"
metric_is 'engine_state{state="halted"}' 0 || fail "engine_state{state=\"halted\"} is not 0 after the resume"
scans2=$(metric market_scans_total)
sleep 2
scans3=$(metric market_scans_total)
python3 -c 'import sys; assert float(sys.argv[2]) > float(sys.argv[1])' "$scans2" "$scans3" ||
  fail "scans do not advance after the resume: $scans2 → $scans3"
admin_req 409 admin POST /api/admin/engine/resume
grep -q 'not halted by an operator' "$WORK/body" || fail "a second resume: $(cat "$WORK/body")"
pass "resume: 200, trading again, market_scans_total $scans2 → $scans3 in 2 s; a second resume: 409"

# ---- tokens ----------------------------------------------------------------------------------
admin_req 200 admin GET /api/admin/tokens
python3 - "$WORK/body" "$WORK"/*.tok <<'PY' || fail "the token list: $(cat "$WORK/body")"
import json, re, sys
text = open(sys.argv[1]).read()
b = json.loads(text)
assert b == {"auth": True, "tokens": [{"name": "viewer-user", "role": "viewer"},
                                      {"name": "editor-user", "role": "editor"},
                                      {"name": "admin-user", "role": "admin"}]}, b
assert not re.search(r"[0-9a-f]{16}", text), "hash material in the list"
for f in sys.argv[2:]:
    token, line = open(f).read().split("\n")[:2]
    digest = re.search(r"[0-9a-f]{64}", line).group(0)
    assert token not in text and digest not in text and digest[:16] not in text, f
PY
pass "tokens: the 3 names and roles, no token, no hash"

# ---- the journal ---------------------------------------------------------------------------
code -H "$(bearer viewer)" "$BW_URL/api/monitoring/events?type=risk&limit=100" >/dev/null
python3 - "$WORK/body" <<'PY' || fail "risk events: $(cat "$WORK/body")"
import json, sys
msgs = [e["message"] for e in json.load(open(sys.argv[1]))["events"]]
halt = [m for m in msgs if m.startswith("halted by an operator (admin-user): exchange maintenance")]
resume = [m for m in msgs if m == "resumed by an operator (admin-user): trading resumes"]
assert len(halt) == 1 and len(resume) == 1, msgs
PY
code -H "$(bearer viewer)" "$BW_URL/api/monitoring/events?type=state_change&limit=1000" >/dev/null
python3 - "$WORK/body" <<'PY' || fail "state_change events: $(cat "$WORK/body" | head -c 2000)"
import json, sys
msgs = [e["message"] for e in json.load(open(sys.argv[1]))["events"]]
assert sum(m.endswith("→ halted: halted by an operator") for m in msgs) == 1, msgs
assert sum(m == "halted → idle: resumed by an operator" for m in msgs) == 1, msgs
PY
code -H "$(bearer viewer)" "$BW_URL/api/monitoring/state-machine" >/dev/null
python3 - "$WORK/body" <<'PY' || fail "state machine: $(cat "$WORK/body")"
import json, sys
b = json.load(open(sys.argv[1]))
edges = b.get("edges") or b["data"]["edges"]
assert all(e["declared"] for e in edges), [e for e in edges if not e["declared"]]
assert sum(e["count"] for e in edges if e["to"] == "halted") == 1, edges
PY
metric_is 'engine_unexpected_transitions_total{from="scanning",to="halted"}' 0 ||
  fail "scanning → halted counted as unexpected"
pass "journal: the halt and the resume as risk and state_change events; no unexpected transition"

code -H "$(bearer admin)" "$BW_URL/api/monitoring/events?type=audit&limit=100" >/dev/null
python3 - "$WORK/body" "$WORK/audit.want" "$(tok admin)" <<'PY' || fail "the audit trail: $(cat "$WORK/body" | head -c 3000)"
import json, sys
body = open(sys.argv[1]).read()
assert sys.argv[3] not in body, "a token in the audit trail"
evs = [e["data"] for e in json.loads(body)["events"] if e["data"]["path"].startswith("/api/admin")]
got = [(e["who"], e["role"], e["method"], e["path"], e["status"]) for e in reversed(evs)]
want = []
for line in open(sys.argv[2]):
    who, role, method, path, status = line.split()
    want.append((None if who == "-" else who, None if role == "-" else role, method, path, int(status)))
assert got == want, (got, want)
PY
pass "audit: one event per admin request ($(wc -l <"$WORK/audit.want")), who, role, method, path and status, refusals included"
