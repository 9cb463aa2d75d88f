#!/usr/bin/env bash
# Alerting end to end, on loopback with real processes: breakwatch evaluating a rule file every
# second, a webhook receiver started here (webhook_receiver.py) and a real Alertmanager from
# Debian's prometheus-alertmanager package.
#
# What it proves, with the timing it was configured for (group_wait 2s, group_interval 3s,
# repeat_interval 6s):
#   - two alerts of one group arriving 1 s apart go out together after group_wait, in
#     Alertmanager's webhook format; an unchanged group is sent again after repeat_interval and
#     not before; a receiver answering 500 is retried until it takes the notification;
#   - `for` holds an alert pending (not notified) before it fires; ALERTS / ALERTS_FOR_STATE
#     are in the history; /api/v1/rules and /api/v1/alerts answer in Prometheus's shape;
#   - Alertmanager receives the alerts through /api/v2/alerts and lists them through its API;
#   - a silence stops a group's notifications and its expiry lets them resume; an editor may
#     silence and acknowledge, a viewer may not; the acknowledgment names the token, is in the
#     history and survives a restart;
#   - a rule change through POST /api/rules/reload resolves an alert (a resolved notification);
#     an invalid file is refused with file:line:col and the old rules keep running; SIGHUP
#     reloads too.
source "$(dirname "$0")/lib.sh"
command -v prometheus-alertmanager >/dev/null || fail "prometheus-alertmanager is not installed"

make_tokens '%s-user' viewer editor

# ---- the webhook receiver (its first answer is a 500) and Alertmanager ----------------------
python3 "$SRCDIR/tests/integration/webhook_receiver.py" --port-file "$WORK/hook.port" \
  --out "$WORK/hook.jsonl" --fail-first 1 &
PIDS+=($!)
wait_for 10 test -s "$WORK/hook.port" || fail "the webhook receiver did not start"
HOOK_PORT=$(cat "$WORK/hook.port")

AM_PORT=$(free_port)
cat >"$WORK/am.yml" <<EOF
route: {receiver: blackhole, group_wait: 1s}
receivers: [{name: blackhole}]
EOF
prometheus-alertmanager --config.file="$WORK/am.yml" --storage.path="$WORK/am" \
  --web.listen-address="127.0.0.1:$AM_PORT" --cluster.listen-address= \
  >"$WORK/am.log" 2>&1 &
PIDS+=($!)
AM="http://127.0.0.1:$AM_PORT"
wait_for 20 curl -fsS "$AM/-/ready" || { cat "$WORK/am.log" >&2; fail "Alertmanager did not start"; }
pass "webhook receiver on :$HOOK_PORT, Alertmanager $(prometheus-alertmanager --version 2>&1 | head -n1 | awk '{print $3}') on :$AM_PORT"

# ---- the rules and the configuration --------------------------------------------------------
# PairAlert comes from two rules: "a" fires at once, "b" one evaluation later (for: 1s), both
# within group_wait. SlowAlert is pending for 3 s first.
write_rules() { # write_rules B_EXPR
  cat >"$WORK/rules.yml" <<EOF
groups:
  - name: itest
    interval: 1s
    rules:
      - alert: PairAlert
        expr: label_replace(vector(1), "which", "a", "", "")
        labels: {severity: warning}
        annotations: {summary: "pair {{ \$labels.which }} is {{ \$value }}"}
      - alert: PairAlert
        expr: $1
        for: 1s
        labels: {severity: warning}
        annotations: {summary: "pair {{ \$labels.which }} is {{ \$value }}"}
      - alert: SlowAlert
        expr: vector(7)
        for: 3s
        labels: {severity: critical}
        annotations: {summary: "slow at {{ \$value }}"}
EOF
}
write_rules 'label_replace(vector(2), "which", "b", "", "")'
{
  echo "auth:"
  echo "  tokens:"
  token_entries viewer editor
  cat <<EOF
alerting:
  rule_files: [$WORK/rules.yml]
  evaluation_interval: 1s
  resend_delay: 2s
  external_labels: {bot: itest}
  alertmanagers: [{url: "$AM"}]
  route:
    receiver: hook
    group_by: [alertname]
    group_wait: 2s
    group_interval: 3s
    repeat_interval: 6s
  receivers:
    - name: hook
      webhook_configs: [{url: "http://127.0.0.1:$HOOK_PORT/hook"}]
EOF
} >"$WORK/bw.yml"

start_breakwatch alerting --data-dir "$WORK/data" --config "$WORK/bw.yml"
E=(-H "$(bearer editor)")
V=(-H "$(bearer viewer)")
get() { curl -fsS "${V[@]}" "$BW_URL$1"; }

# posts ALERTNAME: the notifications the receiver took for that group, one JSON per line.
posts() {
  [ -f "$WORK/hook.jsonl" ] || return 0
  python3 - "$WORK/hook.jsonl" "$1" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["answered"] == 200 and r["body"]["groupLabels"].get("alertname") == sys.argv[2]:
        print(json.dumps(r))
PY
}
count() { posts "$1" | wc -l; }

# ---- pending before firing, then the grouped first notification ----------------------------
wait_for 5 sh -c "curl -fsS -H '$(bearer viewer)' '$BW_URL/api/alerts?state=pending' | grep -q SlowAlert" ||
  fail "SlowAlert was never pending"
[ "$(count SlowAlert)" = 0 ] || fail "a pending alert was notified"
pass "SlowAlert is pending first and not notified"

wait_for 15 sh -c "[ -s '$WORK/hook.jsonl' ] && [ \$(grep -c PairAlert '$WORK/hook.jsonl') -ge 2 ]" ||
  fail "no PairAlert notification after 15 s"
python3 - "$WORK/hook.jsonl" <<'PY' || fail "the first PairAlert notification"
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
pair = [r for r in rows if r["body"]["groupLabels"].get("alertname") == "PairAlert"]
first, retried = pair[0], pair[1]
# The receiver failed the first request: the same notification came again and was taken.
assert first["answered"] == 500 and retried["answered"] == 200, [r["answered"] for r in pair]
assert first["body"]["alerts"] == retried["body"]["alerts"], "the retry differs"
b = retried["body"]
assert b["version"] == "4" and b["status"] == "firing" and b["receiver"] == "hook", b
assert b["groupKey"] == '{}:{alertname="PairAlert"}', b["groupKey"]
assert b["groupLabels"] == {"alertname": "PairAlert"}, b["groupLabels"]
assert b["commonLabels"] == {"alertname": "PairAlert", "severity": "warning", "bot": "itest"}, b["commonLabels"]
assert b["truncatedAlerts"] == 0
got = sorted((a["labels"]["which"], a["annotations"]["summary"], a["status"], a["endsAt"]) for a in b["alerts"])
want = [("a", "pair a is 1", "firing", "0001-01-01T00:00:00Z"), ("b", "pair b is 2", "firing", "0001-01-01T00:00:00Z")]
assert got == want, got
for a in b["alerts"]:
    assert re.fullmatch(r"[0-9a-f]{16}", a["fingerprint"]), a["fingerprint"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", a["startsAt"]), a["startsAt"]
    assert "/graph?g0.expr=" in a["generatorURL"], a["generatorURL"]
# a fired at once, b a second later; group_wait (2 s) held the group until both were in.
import datetime
starts = {a["labels"]["which"]: datetime.datetime.strptime(a["startsAt"], "%Y-%m-%dT%H:%M:%S.%fZ")
          .replace(tzinfo=datetime.timezone.utc).timestamp() for a in b["alerts"]}
assert 0.5 <= starts["b"] - starts["a"] <= 2.5, starts
waited = first["t"] - starts["a"]
assert 1.8 <= waited <= 8, f"first notification {waited:.1f} s after a fired"
print(f"  first PairAlert notification {waited:.1f} s after a fired ({starts['b'] - starts['a']:.1f} s before b), retried once after a 500")
PY
pass "group_wait: a and b went out together in Alertmanager's webhook format; a 500 was retried"

# ---- repeat_interval ------------------------------------------------------------------------
wait_for 15 sh -c "[ \$(grep -c 'PairAlert.*\"answered\": 200' '$WORK/hook.jsonl') -ge 2 ]" ||
  fail "PairAlert was not sent again within 15 s"
posts PairAlert | python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin]
gap = rows[1]["t"] - rows[0]["t"]
assert 5.5 <= gap <= 6 + 3 + 2.5, f"repeat after {gap:.1f} s, want repeat_interval 6 s (flushes every 3 s)"
assert sorted(a["labels"]["which"] for a in rows[1]["body"]["alerts"]) == ["a", "b"]
print(f"  unchanged group sent again after {gap:.1f} s")' || fail "repeat_interval"
pass "repeat_interval: the unchanged group was sent again after 6 s, not before"

# ---- the history, ALERTS, Prometheus's lists --------------------------------------------------
wait_for 10 sh -c "curl -fsS -H '$(bearer viewer)' '$BW_URL/api/alerts?state=firing' | grep -q SlowAlert" ||
  fail "SlowAlert never fired"
get "/api/alerts" >"$WORK/alerts.json"
get "/api/v1/query?query=ALERTS" >"$WORK/ALERTS.json"
get "/api/v1/query?query=ALERTS_FOR_STATE" >"$WORK/FOR.json"
get "/api/v1/rules" >"$WORK/rules.json"
get "/api/v1/alerts" >"$WORK/v1alerts.json"
get "/api/alerts/history?limit=1000" >"$WORK/history.json"
python3 - "$WORK" <<'PY' || fail "alert lists"
import json, sys
w = sys.argv[1]
j = lambda n: json.load(open(f"{w}/{n}"))
alerts = j("alerts.json")["alerts"]
slow = [a for a in alerts if a["labels"]["alertname"] == "SlowAlert"][0]
assert slow["state"] == "firing" and slow["value"] == 7 and slow["labels"]["severity"] == "critical", slow
assert slow["annotations"] == {"summary": "slow at 7"}, slow["annotations"]
assert slow["receiver"] == "hook" and slow["ack"] is None and slow["silenced_by"] is None, slow
assert 3000 <= slow["fired_ms"] - slow["active_ms"] <= 5000, (slow["fired_ms"], slow["active_ms"])
states = {(r["metric"]["alertname"], r["metric"].get("which", ""), r["metric"]["alertstate"]) for r in j("ALERTS.json")["data"]["result"]}
assert states == {("PairAlert", "a", "firing"), ("PairAlert", "b", "firing"), ("SlowAlert", "", "firing")}, states
for r in j("FOR.json")["data"]["result"]:
    if r["metric"]["alertname"] == "SlowAlert":
        # Whole seconds, as Prometheus writes activeAt there (Go's Time.Unix).
        assert float(r["value"][1]) == slow["active_ms"] // 1000, (r, slow["active_ms"])
groups = j("rules.json")["data"]["groups"]
assert [g["name"] for g in groups] == ["itest"] and groups[0]["interval"] == 1, groups
rules = groups[0]["rules"]
assert [r["name"] for r in rules] == ["PairAlert", "PairAlert", "SlowAlert"], rules
r = rules[2]
assert r["type"] == "alerting" and r["state"] == "firing" and r["health"] == "ok" and r["duration"] == 3, r
assert r["alerts"][0]["value"] == "7e+00" and r["alerts"][0]["labels"]["alertname"] == "SlowAlert", r["alerts"]
v1 = j("v1alerts.json")["data"]["alerts"]
assert len(v1) == 3 and all(a["state"] == "firing" for a in v1), v1
hist = j("history.json")["history"]
moves = [(h["from"], h["to"]) for h in hist if h["kind"] == "transition" and h["alertname"] == "SlowAlert"]
assert moves[::-1][:2] == [("inactive", "pending"), ("pending", "firing")], moves
sent = [h for h in hist if h["kind"] == "notification" and h["alertname"] == "PairAlert"]
assert any(h["outcome"] == "sent" for h in sent) and any(h["outcome"].startswith(("failed", "retrying")) for h in sent), sent
print("  SlowAlert pending → firing after 3 s; 3 ALERTS series; /api/v1/rules and /alerts as Prometheus")
PY
pass "the alert lists, ALERTS and ALERTS_FOR_STATE, Prometheus's /rules and /alerts, the history"

# ---- Alertmanager received them -------------------------------------------------------------
wait_for 10 sh -c "curl -fsS '$AM/api/v2/alerts' | grep -q SlowAlert" || fail "Alertmanager has no SlowAlert"
curl -fsS "$AM/api/v2/alerts" | python3 -c '
import json, sys
got = sorted((a["labels"]["alertname"], a["labels"].get("which", ""), a["labels"]["bot"], a["status"]["state"]) for a in json.load(sys.stdin))
want = [("PairAlert", "a", "itest", "active"), ("PairAlert", "b", "itest", "active"), ("SlowAlert", "", "itest", "active")]
assert got == want, got
print("  Alertmanager lists", got)' || fail "Alertmanager's alerts"
pass "Alertmanager received the alerts through /api/v2/alerts and lists them"

# ---- roles: silences and acknowledgments ----------------------------------------------------
SLOW_FP=$(get "/api/alerts?alertname=SlowAlert" | python3 -c 'import json,sys; print(json.load(sys.stdin)["alerts"][0]["fingerprint"])')
silence='{"matchers":[{"name":"alertname","value":"SlowAlert","isRegex":false,"isEqual":true}],"duration":"1h","comment":"maintenance"}'
code() { curl -s -o "$WORK/body" -w '%{http_code}' "$@"; }
[ "$(code "${V[@]}" -H 'Content-Type: application/json' -d "$silence" "$BW_URL/api/silences")" = 403 ] ||
  fail "a viewer created a silence"
[ "$(code "${V[@]}" -X POST "$BW_URL/api/alerts/$SLOW_FP/ack")" = 403 ] || fail "a viewer acknowledged"
[ "$(code "${E[@]}" -H 'Content-Type: application/json' -d '{"comment":"looking"}' "$BW_URL/api/alerts/$SLOW_FP/ack")" = 200 ] ||
  { cat "$WORK/body" >&2; fail "an editor could not acknowledge"; }
python3 -c '
import json, sys
b = json.load(open(sys.argv[1]))
assert b["ack"]["by"] == "editor-user" and b["ack"]["comment"] == "looking", b' "$WORK/body" || fail "the ack"
[ "$(code "${E[@]}" -X POST "$BW_URL/api/alerts/0123456789abcdef/ack")" = 404 ] || fail "ack of an unknown alert"
pass "roles: a viewer may not silence or acknowledge (403); the editor's ack names editor-user"

[ "$(code "${E[@]}" -H 'Content-Type: application/json' -d "$silence" "$BW_URL/api/silences")" = 201 ] ||
  { cat "$WORK/body" >&2; fail "an editor could not silence"; }
SIL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/body")
before=$(count SlowAlert)
sleep 9 # more than repeat_interval + group_interval: SlowAlert would have gone out again
[ "$(count SlowAlert)" = "$before" ] || fail "a silenced alert was notified"
get "/api/alerts?alertname=SlowAlert" | grep -q "\"silenced_by\":\"$SIL\"" || fail "silenced_by is not shown"
get /api/silences | grep -q '"state":"active"' || fail "the silence is not active"
[ "$(code "${E[@]}" -X DELETE "$BW_URL/api/silences/$SIL")" = 200 ] || fail "expiring the silence"
wait_for 12 sh -c "[ \$(grep -c 'SlowAlert.*\"answered\": 200' '$WORK/hook.jsonl') -gt $before ]" ||
  fail "notifications did not resume after the silence expired"
pass "a silence stopped SlowAlert's notifications for 9 s; once expired they resumed"

# ---- reload: a resolved notification; an invalid file keeps the old rules ---------------------
write_rules 'label_replace(vector(2), "which", "b", "", "") > 5'
[ "$(code "${V[@]}" -X POST "$BW_URL/api/rules/reload")" = 403 ] || fail "a viewer reloaded the rules"
[ "$(code "${E[@]}" -X POST "$BW_URL/api/rules/reload")" = 200 ] || { cat "$WORK/body" >&2; fail "reload"; }
grep -q '"groups":1,"rules":3' "$WORK/body" || fail "reload answer: $(cat "$WORK/body")"
wait_for 15 sh -c "grep '\"answered\": 200' '$WORK/hook.jsonl' | grep PairAlert | grep -q '\"status\": \"resolved\"'" ||
  fail "no resolved notification for PairAlert b"
posts PairAlert | tail -n1 | python3 -c '
import json, sys
b = json.loads(sys.stdin.read())["body"]
st = {a["labels"]["which"]: a["status"] for a in b["alerts"]}
assert b["status"] == "firing" and st == {"a": "firing", "b": "resolved"}, (b["status"], st)
end = [a["endsAt"] for a in b["alerts"] if a["labels"]["which"] == "b"][0]
assert not end.startswith("0001"), end' || fail "the resolved notification"
pass "reload resolved PairAlert b: the group went out with b resolved and a firing"

printf 'groups:\n  - name: itest\n    rules:\n      - alert: Broken\n        expr: sum(\n' >"$WORK/rules.yml"
[ "$(code "${E[@]}" -X POST "$BW_URL/api/rules/reload")" = 400 ] || fail "an invalid rule file was accepted"
grep -q "rules.yml:5:" "$WORK/body" || fail "the reload error does not say where: $(cat "$WORK/body")"
get "/api/v1/rules" | grep -q '"name":"SlowAlert"' || fail "the old rules stopped after a bad reload"
pass "an invalid rule file: 400 at rules.yml:5, the rules before it keep running"

write_rules 'label_replace(vector(2), "which", "b", "", "")'
kill -HUP "$BW_PID"
wait_for 10 sh -c "grep -q 'rules: loaded 1 groups' '$WORK/alerting.log'" || fail "SIGHUP did not reload"
pass "SIGHUP reloaded the rule files"

# ---- the acknowledgment survives a restart ---------------------------------------------------
get "/api/alerts/history?limit=1000" | python3 -c '
import json, sys
h = [r for r in json.load(sys.stdin)["history"] if r["kind"] == "ack"]
assert h and h[0]["who"] == "editor-user", h' || fail "the ack is not in the history"
kill "$BW_PID"
wait "$BW_PID" || fail "breakwatch did not stop cleanly"
start_breakwatch restarted --data-dir "$WORK/data" --config "$WORK/bw.yml"
wait_for 15 sh -c "curl -fsS -H '$(bearer viewer)' '$BW_URL/api/alerts?alertname=SlowAlert&state=firing' | grep -q '\"by\":\"editor-user\"'" ||
  { get "/api/alerts?alertname=SlowAlert"; fail "the acknowledgment did not survive the restart"; }
pass "after a restart SlowAlert fires again still acknowledged by editor-user"

curl -fsS "${V[@]}" "$BW_URL/api/metrics" >"$WORK/metrics.txt"
grep -q '^notifications_total{.*receiver="hook".*} [1-9]' "$WORK/metrics.txt" ||
  fail "notifications_total for hook is missing"
pass "the notifier's metrics are exposed"
