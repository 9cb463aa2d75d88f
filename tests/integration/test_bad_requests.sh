#!/usr/bin/env bash
# The bad-input matrix of docs/security.md, against a real breakwatch on 127.0.0.1: one check
# per row (the row's name in its pass line), each asserting the status code, the JSON error
# shape {"status":"error","errorType":…,"error":…} in valid UTF-8, a stable part of the
# message, and that the body quotes none of the secrets below. Malformed PromQL, huge ranges
# and tiny steps, a 10-year selector over every series (query.max_samples, the timeout), deep
# nesting, very long queries, invalid UTF-8 (query, label matcher, URL path, JSON bodies),
# oversized bodies, malformed JSON and JSON of the wrong shape, wrong methods (405 with Allow),
# path traversal against the embedded page, missing / malformed / unknown tokens, tokens in
# the query string, wrong roles, bad parameters. Then: breakwatch is still alive and
# /api/health answers, the security headers are on the page, on an /assets/ file and on an
# API answer, and the log (at debug level) holds none of the secrets: the bearer tokens, a
# remote-write password, credentials in a remote-write URL and in a webhook URL.
source "$(dirname "$0")/lib.sh"

# ---- tokens, secrets, configuration -------------------------------------------------------
make_tokens '%s-user' viewer editor admin
UNKNOWN_TOKEN=bw_thisTokenWasNeverIssuedXXXXXXXXXXXXXXXXXXXXXX
RW_PASSWORD=rwPassw0rdS3cret
URL_PASSWORD=urlPassw0rdS3cret
HOOK_PASSWORD=hookPassw0rdS3cret
HOOK_QUERY_KEY=hookQueryKeyS3cret
SECRETS=("$(tok viewer)" "$(tok editor)" "$(tok admin)" "$UNKNOWN_TOKEN" "$RW_PASSWORD"
  "$URL_PASSWORD" "$HOOK_PASSWORD" "$HOOK_QUERY_KEY")
DEAD_PORT=$(free_port) # nothing listens there: remote write and the webhook fail, and say so

cat >"$WORK/bw.yml" <<EOF
auth:
  tokens:
$(token_entries viewer editor admin)
remote_write:
  - url: http://bot:$URL_PASSWORD@127.0.0.1:$DEAD_PORT/api/v1/write
    name: central
    basic_auth: {username: bot-1, password: $RW_PASSWORD}
alerting:
  route:
    receiver: hook
  receivers:
    - name: hook
      webhook_configs:
        - {url: "http://hook:$HOOK_PASSWORD@127.0.0.1:$DEAD_PORT/hook?key=$HOOK_QUERY_KEY", timeout: 1s}
EOF
start_breakwatch main --data-dir "$WORK/data" --config "$WORK/bw.yml" --log-level debug
U=$BW_URL
V="Authorization: Bearer $(tok viewer)"
E="Authorization: Bearer $(tok editor)"
JSON="Content-Type: application/json"
# The rows about queries need recorded history: wait for the first scrape.
wait_for 10 bash -c "curl -s -H '$V' '$U/api/v1/query?query=count(engine_cycles_total)' | grep -q '\"1\"'" ||
  fail "no scrape recorded"

# ---- helpers ------------------------------------------------------------------------------
# code ARGS...: curl's status; the body in $WORK/body, the headers in $WORK/headers. Every
# request is bounded in time.
code() { curl -s -m 30 -o "$WORK/body" -D "$WORK/headers" -w '%{http_code}' "$@"; }

# header NAME: the value of response header NAME (first one), without the CR.
header() { grep -i "^$1:" "$WORK/headers" | head -n1 | cut -d: -f2- | sed 's/^ //' | tr -d '\r'; }

# error_body TYPE TEXT: the body is the JSON error shape with errorType TYPE, in valid UTF-8,
# its message holds TEXT, and it quotes no secret. Prints the message.
error_body() {
  python3 - "$WORK/body" "$1" "$2" <<'PY'
import json, sys
raw = open(sys.argv[1], "rb").read()
b = json.loads(raw.decode("utf-8"))  # strict: invalid UTF-8 fails here
assert set(b) == {"status", "errorType", "error"}, b
assert b["status"] == "error" and b["errorType"] == sys.argv[2], b
assert sys.argv[3] in b["error"], "message %r lacks %r" % (b["error"], sys.argv[3])
print(b["error"])
PY
}

no_secret_in() { # no_secret_in FILE WHAT
  for s in "${SECRETS[@]}"; do
    if grep -qF -- "$s" "$1"; then fail "$2 quotes a secret (${s:0:6}…)"; fi
  done
}

# row NAME STATUS TYPE TEXT CURL_ARGS...: one row of the matrix.
row() {
  local name=$1 want=$2 type=$3 text=$4; shift 4
  local got msg
  got=$(code "$@")
  [ "$got" = "$want" ] || { head -c 600 "$WORK/body" >&2; fail "$name: HTTP $got, want $want"; }
  msg=$(error_body "$type" "$text") || fail "$name: body $(head -c 600 "$WORK/body")"
  no_secret_in "$WORK/body" "$name: the answer"
  no_secret_in "$WORK/headers" "$name: the headers"
  pass "$name: $got $msg"
}

# allow_is NAME WANT: the 405 just answered carries "Allow: WANT" (RFC 9110 15.5.6).
allow_is() {
  [ "$(header Allow)" = "$2" ] || fail "$1: Allow is '$(header Allow)', want '$2'"
}
# challenged NAME: the 401 just answered carries the bearer challenge (RFC 6750 3).
challenged() {
  [ "$(header WWW-Authenticate)" = 'Bearer realm="breakwatch"' ] ||
    fail "$1: WWW-Authenticate is '$(header WWW-Authenticate)'"
}

Q="$U/api/v1/query"
QR="$U/api/v1/query_range"
NOW=$(date +%s)
TEN_YEARS=$((10 * 365 * 86400))

# ---- malformed PromQL: the position is line:column of where the parse stopped -------------
q='sum(rate(x[5m])'
row promql-unclosed 400 bad_data "invalid parameter \"query\": 1:$((${#q} + 1)): parse error: unclosed left parenthesis" \
  -H "$V" "$Q" --data-urlencode "query=$q"
q='foo{a="b"} + '
row promql-incomplete 400 bad_data "1:$((${#q} + 1)): parse error: unexpected end of input" \
  -H "$V" "$Q" --data-urlencode "query=$q"
q='rate(x[5m]) by (job)'
row promql-unexpected 400 bad_data "1:13: parse error: unexpected <by>" -H "$V" "$Q" --data-urlencode "query=$q"
row promql-empty 400 bad_data "1:1: parse error: no expression found in input" -H "$V" "$Q"

# ---- huge ranges and tiny steps ------------------------------------------------------------
row range-10y-1ms 400 bad_data \
  "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)" \
  -H "$V" "$QR" --data-urlencode query=up -d start=$((NOW - TEN_YEARS)) -d end="$NOW" -d step=0.001
# The timeout: every series over the last hour at 1 s, with 1 ms to do it in.
row query-timeout 503 timeout "query timed out in expression evaluation" \
  -H "$V" "$QR" --data-urlencode 'query={__name__=~".+"}' -d start=$((NOW - 3600)) -d end=$((NOW + 60)) \
  -d step=1 -d timeout=1ms

# ---- deep nesting: 10,000 levels of each kind; the position is where level 1,001 starts ----
nest() { python3 -c 'import sys; o, m, c, n = sys.argv[1:5]; print(o * int(n) + m + c * int(n))' "$@"; }
nest '(' 1 ')' 10000 >"$WORK/q"
row nest-parens 400 bad_data "1:1001: parse error: expression nested too deeply (more than 1000 levels)" \
  -H "$V" "$Q" --data-urlencode "query@$WORK/q"
nest 'abs(' 1 ')' 10000 >"$WORK/q"
row nest-functions 400 bad_data "1:4001: parse error: expression nested too deeply" \
  -H "$V" "$Q" --data-urlencode "query@$WORK/q"
nest '-' 1 '' 10000 >"$WORK/q"
row nest-unary-minus 400 bad_data "1:1001: parse error: expression nested too deeply" \
  -H "$V" "$Q" --data-urlencode "query@$WORK/q"
nest 'sum(' up ')' 10000 >"$WORK/q"
row nest-aggregations 400 bad_data "1:4001: parse error: expression nested too deeply" \
  -H "$V" "$Q" --data-urlencode "query@$WORK/q"
# "up + up + ...": flat text, but a tree 10,000 levels high; the 1,000th "+" (the k-th is at
# column 5k - 1) makes it too high.
nest '' up ' + up' 10000 >"$WORK/q"
row binop-chain 400 bad_data "1:$((5 * 1000 - 1)): parse error: expression nested too deeply" \
  -H "$V" "$Q" --data-urlencode "query@$WORK/q"

# ---- very long queries ---------------------------------------------------------------------
# 1 MiB of query in a form body: the body is over the 1 MiB limit (Content-Length says so, and
# the answer comes before it is read).
python3 -c 'print("up{a=\"" + "x" * (1 << 20) + "\"}", end="")' >"$WORK/q"
row query-1mib-post 413 bad_data "request body too large: over 1048576 bytes" \
  -H "$V" "$Q" --data-urlencode "query@$WORK/q"
# Just under the limit: parsed and answered (no series has that label value).
python3 -c 'print("up{a=\"" + "x" * 1000000 + "\"}", end="")' >"$WORK/q"
got=$(code -H "$V" "$Q" --data-urlencode "query@$WORK/q")
[ "$got" = 200 ] && grep -qF '"result":[]' "$WORK/body" || fail "query-1mb-post: HTTP $got"
pass "query-1mb-post: 200, a 1,000,000-byte label value parsed and matched nothing"
# In the URL: past the request line and headers' room (http.max_header_size, 64 KiB by
# default), which libmicrohttpd answers by itself. 100 KiB: a command line argument can hold it.
long=$(python3 -c 'print("x" * (100 << 10))')
got=$(code -H "$V" "$Q?query=$long")
[ "$got" = 414 ] || fail "query-100kib-url: HTTP $got, want 414"
grep -qF "Request too big" "$WORK/body" || fail "query-100kib-url: body $(head -c 200 "$WORK/body")"
pass "query-100kib-url: 414 (libmicrohttpd's own HTML page: Request too big)"

# ---- invalid UTF-8 -------------------------------------------------------------------------
row utf8-query 400 bad_data "1:3: parse error: unexpected character: '"$'\uFFFD'"'" -H "$V" "$Q?query=up%ff"
row utf8-label-matcher 400 bad_data "1:8: parse error: invalid UTF-8 rune" \
  -H "$V" "$Q?query=up%7Bjob%3D%22%ff%fe%22%7D"
row utf8-series-match 400 bad_data "invalid parameter \"match[]\": 1:8: parse error: invalid UTF-8 rune" \
  -H "$V" "$U/api/v1/series?match%5B%5D=up%7Bjob%3D%22%ff%22%7D"
row utf8-label-name 400 bad_data 'invalid label name: "\xff"' -H "$V" "$U/api/v1/label/%ff/values"
row utf8-url-path 404 not_found "no such endpoint: /api/v1/"$'\uFFFD' -H "$V" "$U/api/v1/%ff"
row utf8-path-param 404 not_found "no session \""$'\uFFFD\uFFFD'"\"" -H "$V" "$U/api/monitoring/sessions/%ff%fe"
printf '{"text":"bad \xff\xfe byte"}' >"$WORK/j"
row utf8-json-annotation 400 bad_data 'invalid parameter "text": not valid UTF-8' \
  -H "$E" -H "$JSON" "$U/api/monitoring/annotations" --data-binary "@$WORK/j"
printf '{"matchers":[{"name":"a","value":"b"}],"duration":"1h","comment":"\xc3\x28"}' >"$WORK/j"
row utf8-json-silence-comment 400 bad_data 'invalid parameter "comment": not valid UTF-8' \
  -H "$E" -H "$JSON" "$U/api/silences" --data-binary "@$WORK/j"
printf '{"matchers":[{"name":"a","value":"\xff"}],"duration":"1h","comment":"c"}' >"$WORK/j"
row utf8-json-silence-matcher 400 bad_data "invalid silence: matcher 1: the value is not valid UTF-8" \
  -H "$E" -H "$JSON" "$U/api/silences" --data-binary "@$WORK/j"
row json-nul-escape 400 bad_data 'a string holds \u0000, which is not allowed' \
  -H "$E" -H "$JSON" "$U/api/monitoring/annotations" --data-binary '{"text":"a\u0000b"}'
# A NUL in a URL parameter stays "%00" (it would cut the string short): here PromQL's '%'.
row nul-url-param 400 bad_data "1:6: parse error: unexpected right parenthesis ')'" -H "$V" "$Q?query=up%00)))"
row nul-form-param 400 bad_data "1:6: parse error: unexpected right parenthesis ')'" \
  -H "$V" "$Q" --data-binary 'query=up%00)))'

# ---- oversized bodies ----------------------------------------------------------------------
python3 -c 'print("{\"text\":\"" + "x" * (2 << 20) + "\"}", end="")' >"$WORK/j"
row body-2mib 413 bad_data "request body too large: over 1048576 bytes" \
  -H "$E" -H "$JSON" "$U/api/monitoring/annotations" --data-binary "@$WORK/j"
row body-2mib-chunked 413 bad_data "request body too large: over 1048576 bytes" \
  -H "$E" -H "$JSON" -H "Transfer-Encoding: chunked" "$U/api/monitoring/annotations" --data-binary "@$WORK/j"
python3 -c 'print("{\"text\":\"" + "x" * 501 + "\"}", end="")' >"$WORK/j"
row annotation-text-too-long 400 bad_data 'invalid parameter "text": must be 1 to 500 bytes of UTF-8 text, not 501 bytes' \
  -H "$E" -H "$JSON" "$U/api/monitoring/annotations" --data-binary "@$WORK/j"

# ---- malformed JSON: line and column of the error ------------------------------------------
row json-trailing-comma 400 bad_data "invalid request body: not JSON: error near line 1, column" \
  -H "$E" -H "$JSON" "$U/api/monitoring/annotations" --data-binary '{"text":"hello",}'
row json-missing-comma 400 bad_data "invalid request body: not JSON: error near line 3, column 3" \
  -H "$E" -H "$JSON" "$U/api/monitoring/annotations" --data-binary $'{\n "text": "hi"\n  "x": 1}'
row json-truncated 400 bad_data "invalid request body: not JSON: error near line 1" \
  -H "$E" -H "$JSON" "$U/api/silences" --data-binary '{"matchers":[{"name":"a"'
nest '[' '' ']' 100000 >"$WORK/j"
row json-deep 400 bad_data "invalid request body: not JSON: error near line 1, column 1001" \
  -H "$E" -H "$JSON" "$U/api/monitoring/annotations" --data-binary "@$WORK/j"

# ---- JSON of the wrong shape ---------------------------------------------------------------
row json-not-object 400 bad_data "invalid request body: not a JSON object" \
  -H "$E" -H "$JSON" "$U/api/monitoring/annotations" --data-binary '["text"]'
row json-wrong-type 400 bad_data 'invalid parameter "text": must be a string' \
  -H "$E" -H "$JSON" "$U/api/monitoring/annotations" --data-binary '{"text":5}'
row json-matchers-type 400 bad_data 'invalid parameter "matchers": must be a list of 1 to 32' \
  -H "$E" -H "$JSON" "$U/api/silences" --data-binary '{"matchers":"x","duration":"1h","comment":"c"}'
row json-matcher-value-type 400 bad_data 'invalid parameter "matchers[0]": needs a non-empty "name" and a string "value"' \
  -H "$E" -H "$JSON" "$U/api/silences" --data-binary '{"matchers":[{"name":"a","value":1}],"duration":"1h","comment":"c"}'

# ---- wrong methods: 405 with Allow ---------------------------------------------------------
row method-delete-query 405 bad_data "method DELETE not allowed on /api/v1/query" -X DELETE -H "$V" "$Q?query=1"
allow_is method-delete-query "GET, HEAD, POST"
row method-put-silences 405 bad_data "method PUT not allowed on /api/silences" -X PUT -H "$E" "$U/api/silences"
allow_is method-put-silences "GET, HEAD, POST"
row method-get-annotations 405 bad_data "method GET not allowed on /api/monitoring/annotations" \
  -H "$E" "$U/api/monitoring/annotations"
allow_is method-get-annotations "POST"
# Without a token the path's existence is not told: 401 comes first.
row method-without-token 401 unauthorized "authentication required" -X DELETE "$Q?query=1"
challenged method-without-token

# ---- missing, malformed and unknown tokens; tokens in the query string; roles ---------------
row token-missing 401 unauthorized 'authentication required: send the header "Authorization: Bearer TOKEN"' "$Q?query=1"
challenged token-missing
row token-basic-scheme 401 unauthorized 'malformed Authorization header: expected "Bearer TOKEN"' \
  -H "Authorization: Basic dXNlcjpwYXNz" "$Q?query=1"
challenged token-basic-scheme
row token-two-words 401 unauthorized "malformed Authorization header" -H "$V extra" "$Q?query=1"
challenged token-two-words
row token-too-long 401 unauthorized "malformed Authorization header" \
  -H "Authorization: Bearer $(python3 -c 'print("A" * 5000)')" "$Q?query=1"
challenged token-too-long
row token-unknown 401 unauthorized "invalid token" -H "Authorization: Bearer $UNKNOWN_TOKEN" "$Q?query=1"
challenged token-unknown
row token-in-query-string 401 unauthorized "authentication required" "$Q?query=1&access_token=$(tok viewer)"
challenged token-in-query-string
row token-unknown-on-stream 401 unauthorized "invalid token" \
  "$U/api/monitoring/events/stream?access_token=$UNKNOWN_TOKEN"
challenged token-unknown-on-stream
row role-viewer-annotates 403 forbidden 'POST /api/monitoring/annotations needs the editor role; token "viewer-user" is a viewer' \
  -H "$V" -H "$JSON" "$U/api/monitoring/annotations" --data-binary '{"text":"x"}'
row role-viewer-silences 403 forbidden 'DELETE /api/silences/abc needs the editor role; token "viewer-user" is a viewer' \
  -X DELETE -H "$V" "$U/api/silences/abc"
row role-viewer-reloads 403 forbidden 'POST /api/rules/reload needs the editor role' -X POST -H "$V" "$U/api/rules/reload"

# ---- bad parameters: 400 naming the parameter ----------------------------------------------
row param-time-abc 400 bad_data 'invalid parameter "time": invalid time value for '"'time'"': cannot parse "abc"' \
  -H "$V" "$Q?query=1&time=abc"
row param-step-0 400 bad_data 'invalid parameter "step": zero or negative query resolution step widths are not accepted' \
  -H "$V" "$QR?query=1&start=1&end=2&step=0"
row param-step-negative 400 bad_data 'invalid parameter "step": zero or negative query resolution step widths are not accepted' \
  -H "$V" "$QR?query=1&start=1&end=2&step=-1"
row param-step-abc 400 bad_data 'invalid parameter "step": cannot parse "abc" to a valid duration' \
  -H "$V" "$QR?query=1&start=1&end=2&step=abc"
row param-start-after-end 400 bad_data 'invalid parameter "end": end timestamp must not be before start time' \
  -H "$V" "$QR?query=1&start=10&end=2&step=1"
row param-limit-negative 400 bad_data 'invalid parameter "limit": limit must be non-negative' \
  -H "$V" "$U/api/v1/series?match%5B%5D=up&limit=-1"
row param-events-limit-negative 400 bad_data 'invalid parameter "limit": must be an integer from 1 to 1000' \
  -H "$V" "$U/api/monitoring/events?limit=-1"
row param-timeout-negative 400 bad_data 'invalid parameter "timeout": cannot parse "-1s" to a valid duration' \
  -H "$V" "$Q?query=1&timeout=-1s"

# ---- path traversal against the embedded page ----------------------------------------------
# code_static PATH: the status of GET PATH, sent as it is (no dot-segment removal by curl).
code_static() { code --path-as-is "$U$1"; }
if [ "$(code_static /index.html)" = 200 ]; then
  cp "$WORK/body" "$WORK/index.html"
  for p in '/../../../../etc/passwd' '/assets/../index.html' '/%2e%2e/%2e%2e/etc/passwd' \
    '/%2e%2e%2fetc%2fpasswd' '/assets%2f..%2findex.html' '/..%5c..%5cetc%5cpasswd' \
    '/assets\..\index.html' '//etc/passwd' '/index.html%00.js' '/%00' '/%252e%252e/etc/passwd' \
    '/..%252fetc%252fpasswd' '/%c0%ae%c0%ae/etc/passwd' '/./index.html' '/%ff'; do
    row "traversal $p" 400 bad_data "bad path" --path-as-is "$U$p"
  done
  row method-post-static 405 bad_data "only GET and HEAD are allowed here" -X POST "$U/index.html"
  allow_is method-post-static "GET, HEAD"
  # An absolute path that is no file of the page is one of its routes: the page itself.
  got=$(code_static /etc/passwd)
  [ "$got" = 200 ] && cmp -s "$WORK/body" "$WORK/index.html" ||
    fail "traversal /etc/passwd: HTTP $got, not the page"
  pass "traversal /etc/passwd: 200, the page's index.html (a route of the page), no file read"
  row "traversal /etc/passwd.txt" 404 not_found "no such file" "$U/etc/passwd.txt"
  # Under /api/ nothing is a file: without a token, 401; with one, no such endpoint.
  row "traversal /api/../index.html" 404 not_found "no such endpoint: /api/../index.html" \
    --path-as-is -H "$V" "$U/api/../index.html"

  # ---- security headers on the page and on an /assets/ file --------------------------------
  asset=$(grep -o '/assets/[A-Za-z0-9_.-]*\.js' "$WORK/index.html" | head -n1)
  [ -n "$asset" ] || fail "index.html names no /assets/ script"
  for p in / "$asset"; do
    got=$(code "$U$p")
    [ "$got" = 200 ] || fail "headers $p: HTTP $got"
    csp=$(header Content-Security-Policy)
    script_src=$(tr ';' '\n' <<<"$csp" | grep -E '^ *script-src ' || true)
    [ "$(sed 's/^ *//' <<<"$script_src")" = "script-src 'self'" ] || fail "headers $p: CSP script-src is '$script_src'"
    grep -qF "frame-ancestors 'none'" <<<"$csp" || fail "headers $p: CSP without frame-ancestors 'none'"
    grep -qF "default-src 'self'" <<<"$csp" || fail "headers $p: CSP without default-src 'self'"
    grep -qF "unsafe-inline" <<<"$csp" && fail "headers $p: CSP allows unsafe-inline"
    [ "$(header X-Content-Type-Options)" = nosniff ] || fail "headers $p: X-Content-Type-Options"
    [ "$(header X-Frame-Options)" = DENY ] || fail "headers $p: X-Frame-Options"
    [ "$(header Referrer-Policy)" = no-referrer ] || fail "headers $p: Referrer-Policy"
    pass "security headers on $p: $csp; nosniff; DENY; no-referrer"
  done
  # The page holds no inline script for the CSP to refuse: every <script> has a src.
  if grep -o '<script[^>]*>' "$WORK/index.html" | grep -qv 'src='; then
    fail "index.html has an inline <script>"
  fi
  pass "index.html: every <script> is an external file of the page"
else
  echo "skip: traversal and page headers: this breakwatch has no embedded page (BW_WEB=OFF)"
fi
code "$Q?query=1" >/dev/null
[ "$(header X-Content-Type-Options)" = nosniff ] && [ "$(header X-Frame-Options)" = DENY ] ||
  fail "a 401 answer lacks the security headers"
pass "security headers on an API answer (401) too"

# ---- secrets in answers: the webhook's error, the receivers list ---------------------------
got=$(code -X POST -H "$E" "$U/api/alerts/receivers/hook/test")
[ "$got" = 202 ] || fail "receiver test: HTTP $got"
wait_for 10 bash -c "curl -s -H '$V' '$U/api/alerts/receivers' | grep -q '\"last_error\":\"webhook'" ||
  fail "the webhook's failure never showed in /api/alerts/receivers"
code -H "$V" "$U/api/alerts/receivers" >/dev/null
no_secret_in "$WORK/body" "/api/alerts/receivers"
pass "webhook failure: $(grep -o '"last_error":"[^"]*"' "$WORK/body"), no credentials"
wait_for 10 grep -q "remote write central: http://127.0.0.1:$DEAD_PORT/api/v1/write:" "$WORK/main.log" ||
  fail "remote write's failure never showed in the log, or not without its URL's userinfo"
pass "remote write failure logged as $(grep -o "remote write central: [^ ]*" "$WORK/main.log" | head -n1)"

# ---- after the matrix -----------------------------------------------------------------------
kill -0 "$BW_PID" 2>/dev/null || fail "breakwatch died during the matrix"
got=$(code "$U/api/health")
[ "$got" = 200 ] || fail "/api/health: HTTP $got after the matrix"
pass "after the matrix breakwatch is alive and /api/health answers 200"
no_secret_in "$WORK/main.log" "the log"
pass "the log ($(wc -l <"$WORK/main.log") lines at debug level) holds none of the ${#SECRETS[@]} secrets"

# ---- query.max_samples: a 10-year selector over every series -------------------------------
printf 'query:\n  max_samples: 1000\n' >"$WORK/limits.yml"
start_breakwatch limits --data-dir "$WORK/data-limits" --config "$WORK/limits.yml"
# One scrape records more than 1,000 series.
wait_for 10 bash -c "curl -s '$BW_URL/api/metrics' | grep -vc '^#' | awk '\$1 > 1000 {ok=1} END {exit !ok}'" ||
  fail "fewer than 1,000 series exposed"
wait_for 10 bash -c "curl -s '$BW_URL/api/v1/query?query=count(engine_cycles_total)' | grep -q '\"1\"'" ||
  fail "no scrape recorded"
Q="$BW_URL/api/v1/query" QR="$BW_URL/api/v1/query_range"
row selector-10y-all-series 422 execution "query processing would load too many samples into memory in query execution" \
  "$Q" --data-urlencode 'query={__name__=~".+"}[3650d]'
# 10 years in 10,950 steps of 8 h (under 11,000), the last one a second from now: after the
# scrape, which a whole second now (rounded down) could precede.
now=$(($(date +%s) + 1))
row range-10y-all-series 422 execution "query processing would load too many samples into memory in query execution" \
  "$QR" --data-urlencode 'query=count_over_time({__name__=~".+"}[3650d])' \
  -d start=$((now - TEN_YEARS)) -d end="$now" -d step=$((TEN_YEARS / 10950))
kill -0 "$BW_PID" 2>/dev/null && [ "$(code "$BW_URL/api/health")" = 200 ] || fail "limits: not alive after"
pass "limits instance alive after the 10-year queries"
