#!/usr/bin/env bash
# Bearer tokens and roles, end to end: tokens made with `breakwatch token new`, a
# configuration holding a viewer, an editor and an admin, then what each may reach with curl
# (401 without a token or with a bad one, whoami, the public health check, metrics_open);
# auth off; a non-loopback address refused without tokens and served with them; configuration
# errors at file:line:col. Notes (POST /api/monitoring/annotations) need the editor role: 403
# for a viewer, recorded with the author's token name for an editor or admin. The event stream
# alone takes the token as ?access_token= (EventSource sends no header), and no token ever
# reaches the log, libmicrohttpd's debug messages included.
source "$(dirname "$0")/lib.sh"

# ---- tokens -------------------------------------------------------------------------------
make_tokens '%s-user' viewer editor admin
[[ "$(tok viewer)" =~ ^bw_[A-Za-z0-9_-]{43}$ ]] || fail "token new: unexpected token format"
grep -q "not shown again" "$WORK/viewer.err" || fail "token new: no advice on stderr"
want=$(sed -n 2p "$WORK/viewer.tok" | grep -o '[0-9a-f]\{64\}')
got=$(tok viewer | "$BREAKWATCH" token hash)
[ "$got" = "$want" ] || fail "token hash: $got, the configuration line says $want"
[ "$(tok viewer)" != "$(tok editor)" ] || fail "token new printed the same token twice"
pass "token new: bw_ + 43 base64url characters; token hash agrees with the configuration line"

{
  echo "auth:"
  echo "  tokens:"
  token_entries viewer editor admin
} >"$WORK/auth.yml"

# code [CURL ARGS...]: the status; the body in $WORK/body, the headers in $WORK/headers.
code() { curl -s -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@"; }
expect() { # expect WANT WHAT CURL ARGS...
  local want=$1 what=$2; shift 2
  local got
  got=$(code "$@")
  [ "$got" = "$want" ] || { cat "$WORK/body" >&2; fail "$what: HTTP $got, want $want"; }
}
body_is() { [ "$(cat "$WORK/body")" = "$1" ] || fail "$2: body $(cat "$WORK/body"), want $1"; }

# ---- with tokens --------------------------------------------------------------------------
start_breakwatch auth --data-dir "$WORK/data" --config "$WORK/auth.yml" --log-level debug
Q="$BW_URL/api/v1/query?query=1"

expect 401 "no token" "$Q"
grep -qi '^WWW-Authenticate: Bearer realm="breakwatch"' "$WORK/headers" ||
  fail "401 without WWW-Authenticate"
python3 - "$WORK/body" <<'PY' || fail "401 body"
import json, sys
b = json.load(open(sys.argv[1]))
assert b["status"] == "error" and b["errorType"] == "unauthorized", b
assert "Authorization: Bearer" in b["error"], b
PY
for h in "Authorization: Bearer not-a-token" "Authorization: Basic dmlld2VyOng=" \
  "Authorization: Bearer" "Authorization: $(tok viewer)" "Authorization: Bearer $(tok viewer) x"; do
  expect 401 "header '${h%% *} ...'" -H "$h" "$Q"
  grep -qi '^WWW-Authenticate: Bearer realm="breakwatch"' "$WORK/headers" ||
    fail "401 without WWW-Authenticate for a bad header"
done
expect 401 "unknown token" -H "Authorization: Bearer bw_x" "$Q"
grep -q '"error":"invalid token"' "$WORK/body" || fail "unknown token: $(cat "$WORK/body")"
expect 401 "unknown path without a token" "$BW_URL/api/no/such/thing"
pass "no token, an unknown token, a malformed header: 401 with WWW-Authenticate"

expect 200 "viewer query" -H "$(bearer viewer)" "$Q"
grep -q '"status":"success"' "$WORK/body" || fail "viewer query body"
expect 200 "viewer form POST" -H "$(bearer viewer)" --data-urlencode 'query=2' "$BW_URL/api/v1/query"
grep -qi '^Content-Security-Policy: default-src' "$WORK/headers" || fail "no CSP on an API answer"
grep -qi '^X-Content-Type-Options: nosniff' "$WORK/headers" || fail "no nosniff on an API answer"
for role in viewer editor admin; do
  expect 200 "whoami as $role" -H "$(bearer "$role")" "$BW_URL/api/auth/whoami"
  body_is "{\"name\":\"$role-user\",\"role\":\"$role\",\"auth\":true}" "whoami as $role"
done
expect 401 "whoami without a token" "$BW_URL/api/auth/whoami"
expect 404 "unknown path with a token" -H "$(bearer viewer)" "$BW_URL/api/no/such/thing"
# The monitoring endpoints are being added beside this work: with a token they must not be
# refused (200 once they exist, 404 before, 503 while the history opens).
got=$(code -H "$(bearer viewer)" "$BW_URL/api/monitoring/sessions")
case "$got" in 200 | 404 | 503) ;; *) fail "viewer on /api/monitoring/sessions: HTTP $got" ;; esac
expect 401 "monitoring without a token" "$BW_URL/api/monitoring/sessions"
pass "viewer, editor and admin: queries and whoami with their names and roles"

# ---- notes: the editor role ----------------------------------------------------------------
A="$BW_URL/api/monitoring/annotations"
J='Content-Type: application/json'
expect 401 "a note without a token" -H "$J" -d '{"text":"anonymous"}' "$A"
expect 403 "a note as viewer" -H "$(bearer viewer)" -H "$J" -d '{"text":"viewer note"}' "$A"
grep -q '"errorType":"forbidden"' "$WORK/body" && grep -q 'needs the editor role' "$WORK/body" ||
  fail "a note as viewer: $(cat "$WORK/body")"
# note_is ID AUTHOR TEXT: the newest annotation is that one, by that author.
note_is() {
  expect 200 "annotations as viewer" -H "$(bearer viewer)" \
    "$BW_URL/api/monitoring/events?type=annotation&limit=1"
  python3 - "$WORK/body" "$@" <<'PY' || fail "the note is not in /api/monitoring/events"
import json, sys
ev = json.load(open(sys.argv[1]))["events"][0]
want_id, author, text = int(sys.argv[2]), sys.argv[3], sys.argv[4]
assert ev["id"] == want_id and ev["type"] == "annotation", ev
assert ev["data"] == {"author": author} and ev["message"] == text, ev
assert ev["severity"] == "info" and ev["session_id"], ev
PY
}
id_of() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/body"; }
# The stream, with the token in its URL as EventSource would send it, sees the notes too.
curl -s -N --max-time 4 -D "$WORK/sse.headers" -o "$WORK/sse.body" \
  "$BW_URL/api/monitoring/events/stream?type=annotation&access_token=$(tok viewer)" &
sse=$!
sleep 0.5
expect 201 "a note as editor" -H "$(bearer editor)" -H "$J" -d '{"text":"  raised the filter "}' "$A"
editor_note=$(id_of)
note_is "$editor_note" editor-user "raised the filter"
expect 201 "a note as admin (form)" -H "$(bearer admin)" --data-urlencode 'text=admin note' "$A"
note_is "$(id_of)" admin-user "admin note"
expect 400 "an empty note" -H "$(bearer editor)" -H "$J" -d '{"text":" "}' "$A"
grep -q 'invalid parameter \\"text\\"' "$WORK/body" || fail "an empty note: $(cat "$WORK/body")"
pass "notes: 401 without a token, 403 for a viewer, 201 for an editor and an admin, by name"

# ---- the audit trail ---------------------------------------------------------------------
# Every request to a state-changing route above was recorded, done or refused, newest first;
# queries (even POSTed ones) are not, and no token appears anywhere in the trail.
expect 200 "a query as POST" -H "$(bearer viewer)" --data-urlencode 'query=1' "$BW_URL/api/v1/query"
expect 200 "the audit trail" -H "$(bearer admin)" "$BW_URL/api/monitoring/events?type=audit&limit=50"
python3 - "$WORK/body" "$(tok viewer)" "$(tok editor)" "$(tok admin)" <<'PY' || fail "the audit trail: $(cat "$WORK/body")"
import datetime, json, sys
body = open(sys.argv[1]).read()
for t in sys.argv[2:]:
    assert t not in body, "a token in the audit trail"
evs = json.load(open(sys.argv[1]))["events"]
got = [(e["data"]["who"], e["data"]["role"], e["data"]["method"], e["data"]["path"], e["data"]["status"])
       for e in evs]
A = "/api/monitoring/annotations"
want = [("editor-user", "editor", "POST", A, 400), ("admin-user", "admin", "POST", A, 201),
        ("editor-user", "editor", "POST", A, 201), ("viewer-user", "viewer", "POST", A, 403),
        (None, None, "POST", A, 401)]
assert got == want, got
assert [e["severity"] for e in evs] == ["info", "info", "info", "warning", "warning"], evs
assert evs[3]["message"] == "viewer-user POST /api/monitoring/annotations: 403", evs[3]
now = datetime.datetime.now(datetime.timezone.utc)
for e in evs:
    at = datetime.datetime.fromisoformat(e["data"]["at"].replace("Z", "+00:00"))
    assert abs((now - at).total_seconds()) < 60, e
PY
pass "audit trail: who, role, method, path, status and when for each of the 5 note requests, refusals included; no query, no token"

# ---- the event stream: ?access_token= -----------------------------------------------------
wait "$sse" || true # curl ends at --max-time
head -n1 "$WORK/sse.headers" | grep -q '^HTTP/1.1 200' || fail "stream with access_token: $(cat "$WORK/sse.headers")"
grep -qi '^Content-Type: text/event-stream' "$WORK/sse.headers" || fail "stream: not text/event-stream"
grep -q '^retry: ' "$WORK/sse.body" || fail "stream: no retry: line"
grep -q "^id: $editor_note\$" "$WORK/sse.body" || fail "stream: the editor's note did not come: $(cat "$WORK/sse.body")"
expect 401 "stream with a bad access_token" "$BW_URL/api/monitoring/events/stream?access_token=bw_nope"
grep -q '"error":"invalid token"' "$WORK/body" || fail "stream with a bad access_token: $(cat "$WORK/body")"
expect 401 "stream without a token" "$BW_URL/api/monitoring/events/stream"
expect 401 "access_token on a query" "$BW_URL/api/v1/query?query=1&access_token=$(tok viewer)"
expect 401 "access_token on whoami" "$BW_URL/api/auth/whoami?access_token=$(tok admin)"
pass "the stream takes ?access_token= (200 text/event-stream, the notes as they come), no other route does"

expect 200 "health without a token" "$BW_URL/api/health"
expect 401 "metrics without a token" "$BW_URL/api/metrics"
expect 200 "metrics as viewer" -H "$(bearer viewer)" "$BW_URL/api/metrics"
grep -q '^http_requests_total{handler="/api/v1/query",method="GET",code="401"} [1-9]' "$WORK/body" ||
  fail "the refused requests are not counted"
if grep -q '  page:' "$WORK/auth.log"; then
  expect 200 "the page without a token" "$BW_URL/"
  expect 200 "a page route without a token" "$BW_URL/dashboards"
fi
pass "/api/health open, /api/metrics needs a token, refusals counted"

for role in viewer editor admin; do
  if grep -qF "$(tok "$role")" "$WORK/auth.log"; then fail "the $role token is in the log"; fi
done
kill "$BW_PID"
wait "$BW_PID" 2>/dev/null || true

# metrics_open: Prometheus scrapes without a token; nothing else opens.
start_breakwatch open --data-dir "$WORK/data" --config "$WORK/auth.yml" --auth-metrics-open=true
expect 200 "metrics_open: metrics without a token" "$BW_URL/api/metrics"
expect 401 "metrics_open: queries still need one" "$BW_URL/api/v1/query?query=1"
grep -q "/api/metrics open" "$WORK/open.log" || fail "metrics_open not announced"
kill "$BW_PID"
wait "$BW_PID" 2>/dev/null || true
pass "auth.metrics_open: /api/metrics without a token, the rest still closed"

# ---- auth off -----------------------------------------------------------------------------
start_breakwatch off --data-dir "$WORK/data"
expect 200 "auth off: query" "$BW_URL/api/v1/query?query=1"
expect 200 "auth off: metrics" "$BW_URL/api/metrics"
expect 200 "auth off: whoami" -H "Authorization: Bearer whatever" "$BW_URL/api/auth/whoami"
body_is '{"name":null,"role":"admin","auth":false}' "whoami with auth off"
grep -q "auth:     off" "$WORK/off.log" || fail "auth off not announced"
kill "$BW_PID"
wait "$BW_PID" 2>/dev/null || true
pass "no tokens: everything open, whoami says auth is off"

# ---- non-loopback addresses ---------------------------------------------------------------
set +e
"$BREAKWATCH" run --listen 0.0.0.0:0 --data-dir "$WORK/data" 2>"$WORK/remote.err"
rc=$?
set -e
[ "$rc" = 2 ] || fail "0.0.0.0 without tokens: exit $rc, want 2"
grep -q "refusing to serve 0.0.0.0 without authentication: no auth.tokens are configured" \
  "$WORK/remote.err" || { cat "$WORK/remote.err" >&2; fail "0.0.0.0 without tokens: message"; }
pass "0.0.0.0 without tokens: refused, exit 2: $(head -c 120 "$WORK/remote.err")..."

"$BREAKWATCH" run --listen 0.0.0.0:0 --data-dir "$WORK/data" --config "$WORK/auth.yml" \
  2>"$WORK/remote.log" &
BW_PID=$!
PIDS+=("$BW_PID")
port=""
for _ in $(seq 1 100); do
  port=$(grep -o 'http://0.0.0.0:[0-9]*' "$WORK/remote.log" | head -n1 | sed 's/.*://' || true)
  [ -n "$port" ] && break
  kill -0 "$BW_PID" 2>/dev/null || { cat "$WORK/remote.log" >&2; fail "0.0.0.0 with tokens exited"; }
  sleep 0.1
done
[ -n "$port" ] || fail "0.0.0.0 with tokens: no address announced"
wait_for 10 curl -fsS "http://127.0.0.1:$port/api/health" || fail "0.0.0.0 with tokens: no answer"
expect 401 "0.0.0.0: no token" "http://127.0.0.1:$port/api/v1/query?query=1"
expect 200 "0.0.0.0: admin" -H "$(bearer admin)" "http://127.0.0.1:$port/api/auth/whoami"
body_is '{"name":"admin-user","role":"admin","auth":true}' "whoami on 0.0.0.0"
kill "$BW_PID"
wait "$BW_PID" 2>/dev/null || true
pass "0.0.0.0 with tokens: served, with auth"

# ---- configuration errors -----------------------------------------------------------------
H=$(printf 'a%.0s' $(seq 1 64))
config_error() { # config_error NAME WANT (the file's text on stdin)
  cat >"$WORK/$1"
  set +e
  "$BREAKWATCH" run --config "$WORK/$1" --data-dir "$WORK/data" 2>"$WORK/$1.err"
  local rc=$?
  set -e
  [ "$rc" = 2 ] || fail "$1: exit $rc, want 2"
  grep -qF "$WORK/$1:$2" "$WORK/$1.err" || { cat "$WORK/$1.err" >&2; fail "$1: want $2"; }
}
config_error role.yml "3:23: auth.tokens[0].role: expected viewer, editor or admin, got 'root'" <<EOF
auth:
  tokens:
    - {name: a, role: root, sha256: $H}
EOF
config_error hex.yml "5:15: auth.tokens[0].sha256: expected the token's SHA-256 as 64 hex digits" <<EOF
auth:
  tokens:
    - name: a
      role: viewer
      sha256: $(tok viewer)
EOF
grep -qF "$(tok viewer)" "$WORK/hex.yml.err" && fail "a token pasted as sha256 is repeated in the error"
config_error dup.yml "4:14: auth.tokens[1].name: the token name 'a' is used twice" <<EOF
auth:
  tokens:
    - {name: a, role: viewer, sha256: $H}
    - {name: a, role: admin, sha256: ${H//a/b}}
EOF
config_error missing.yml "3:7: auth.tokens[0]: missing 'role'" <<EOF
auth:
  tokens:
    - {name: a, sha256: $H}
EOF
pass "configuration errors: file:line:col and the key (bad role, bad hash, duplicate name, missing field)"
