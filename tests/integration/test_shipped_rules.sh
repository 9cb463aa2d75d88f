#!/usr/bin/env bash
# The shipped alert rules, monitoring/rules/breakwatch.rules.yml: promtool accepts the file;
# its unit tests (tests/rules/breakwatch.rules.test.yml) pass under promtool and under
# `breakwatch test rules`; and in real runs where breakwatch evaluates the file itself, each
# fault the engine can be put into makes its alert fire — pending, then firing after the
# rule's `for` — while a healthy default run fires none of them but the Watchdog.
#
# Each fault is a row of FAULTS: a name, the alert expected, the flags that cause it, and for
# the memory alert a copy of the file with the threshold lowered (no test machine can be
# pushed past 90 % of its memory). All runs go at once, at the default speed and the default
# evaluation interval (15 s). On the healthy run, beside breakwatch's own alert history, every
# alert's expression is also evaluated at one-second steps over the whole run (recording rules
# written out in place), so an alert that only missed firing by the phase of the evaluations
# is caught too. HEALTHY_SECONDS (default 120) is how long the healthy run is watched.
source "$(dirname "$0")/lib.sh"

RULES="$SRCDIR/monitoring/rules/breakwatch.rules.yml"
TESTS="$SRCDIR/tests/rules/breakwatch.rules.test.yml"
HEALTHY_SECONDS=${HEALTHY_SECONDS:-120}
FAULT_DEADLINE=150 # seconds from its start for a fault's alert to have fired

# ---- the file and its unit tests ----
promtool check rules "$RULES" >"$WORK/check.log" 2>&1 || { cat "$WORK/check.log" >&2; fail "promtool check rules"; }
pass "promtool check rules: $(grep -o '[0-9]* rules found' "$WORK/check.log")"
promtool test rules "$TESTS" >"$WORK/ptest.log" 2>&1 || { cat "$WORK/ptest.log" >&2; fail "promtool test rules"; }
pass "promtool test rules"
"$BREAKWATCH" test rules "$TESTS" >"$WORK/btest.log" 2>&1 || { cat "$WORK/btest.log" >&2; fail "breakwatch test rules"; }
pass "breakwatch test rules"

# ---- runs ----
# The memory fault's rule file: the shipped one with ProcessMemoryCritical's threshold lowered
# from 90 % to 0 %, everything else as shipped.
sed 's/expr: process_memory_percent > 90$/expr: process_memory_percent > 0/' "$RULES" >"$WORK/low-memory.rules.yml"
! cmp -s "$RULES" "$WORK/low-memory.rules.yml" || fail "the memory threshold was not found to lower"

# name | alert that must fire | flags
FAULTS=(
  "slow-scans|MarketScanRateLow|--fault-cycle-delay-ms 40"
  "slow-cycles|EngineCycleTimeHigh|--fault-cycle-delay-ms 12"
  "unexpected|EngineUnexpectedStateTransition|--fault-unexpected-every 60"
  "no-breakouts|NoSignalsGenerated|--volume-factor 1000"
  "daily-loss|DailyLossLimitTriggered|--daily-loss-limit 0.000001"
  "budget-gone|RiskBudgetExhausted|--daily-loss-limit 0.000001"
  "low-memory|ProcessMemoryCritical|--rule-files $WORK/low-memory.rules.yml"
)

cat >"$WORK/rules.py" <<'PY'
# rules.py RULES URL ALERT START: evaluates the alert's expression (recording rules written out
# in place) over [START, now] a point a second: no series may have been present for the rule's
# `for` (at least one point for for 0); the Watchdog must be present.
import json, re, sys, time, urllib.parse, urllib.request
import yaml

rules_file, url, alert, start = sys.argv[1:5]
start = float(start)
groups = yaml.safe_load(open(rules_file))["groups"]
records = {r["record"]: r["expr"] for g in groups for r in g["rules"] if "record" in r}
rule = next(r for g in groups for r in g["rules"] if r.get("alert") == alert)

def expand(expr):
    for name, body in records.items():
        pat = r"(?<![\w:])" + re.escape(name) + r"(?![\w:])"
        if re.search(pat, expr):
            expr = re.sub(pat, lambda m: "(" + expand(body) + ")", expr)
    return expr

def seconds(d):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+)(ms|s|m|h|d)", d or "0s"))

expr, hold = expand(rule["expr"]), seconds(rule.get("for"))

def longest_run():
    """The longest stretch, in seconds, that one series of the expression was present."""
    body = urllib.parse.urlencode({"query": expr, "start": start, "end": time.time(), "step": 1})
    d = json.load(urllib.request.urlopen(url + "/api/v1/query_range", body.encode()))
    assert d["status"] == "success", d
    best, where = -1.0, None
    for s in d["data"]["result"]:
        ts = [float(t) for t, _ in s["values"]]
        run0 = ts[0]
        for a, b in zip([None] + ts, ts):
            if a is not None and b - a > 1.5:
                run0 = b
            if b - run0 > best:
                best, where = b - run0, (s["metric"], run0 - start)
    return best, where

if True:
    best, where = longest_run()
    if alert == "Watchdog":
        if best < 0:
            sys.exit("Watchdog is not firing")
        print("Watchdog: firing, as always (%.0fs)" % best)
    elif best >= hold:
        sys.exit("%s would fire on a healthy run (present %.0fs, for: %.0fs, from %.0fs, %s)" %
                 (alert, best, hold, where[1], json.dumps(where[0])))
    else:
        print("%s: quiet (%s, for: %.0fs)" %
              (alert, "never present" if best < 0 else "present at most %.0fs" % best, hold))
PY

now() { date +%s.%N; }

declare -A URL START
start_breakwatch healthy --data-dir "$WORK/healthy" --rule-files "$RULES"
URL[healthy]=$BW_URL
START[healthy]=$(now)
for row in "${FAULTS[@]}"; do
  IFS='|' read -r name alert flags <<<"$row"
  # shellcheck disable=SC2086 # flags are words; a later --rule-files replaces the first
  start_breakwatch "$name" --data-dir "$WORK/$name" --rule-files "$RULES" $flags
  URL[$name]=$BW_URL
  START[$name]=$(now)
done

# fired URL ALERT START DEADLINE: waits until breakwatch shows ALERT firing, then checks that it
# went pending → firing no sooner than the rule's `for`.
cat >"$WORK/fired.py" <<'PY'
import json, sys, time, urllib.request
url, alert, start, deadline = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
get = lambda p: json.load(urllib.request.urlopen(url + p))
while True:
    firing = get("/api/alerts?state=firing&alertname=" + alert)["alerts"]
    if firing:
        break
    if time.time() > start + deadline:
        rule = [r for g in get("/api/v1/rules")["data"]["groups"] for r in g["rules"] if r["name"] == alert]
        sys.exit("%s did not fire within %.0fs: %s" % (alert, deadline, json.dumps(rule)))
    time.sleep(2)
a = firing[0]
rule = [r for g in get("/api/v1/rules?type=alert")["data"]["groups"] for r in g["rules"] if r["name"] == alert][0]
held = (a["fired_ms"] - a["active_ms"]) / 1000
assert held >= rule["duration"], (held, rule["duration"])
assert rule["state"] == "firing" and rule["health"] == "ok", rule
print("%s firing %.0fs into the run (pending %.0fs, for: %.0fs): %s" %
      (alert, a["fired_ms"] / 1000 - start, held, rule["duration"], a["annotations"].get("summary")))
PY

# ---- each fault fires its alert ----
for row in "${FAULTS[@]}"; do
  IFS='|' read -r name alert flags <<<"$row"
  out=$(python3 "$WORK/fired.py" "${URL[$name]}" "$alert" "${START[$name]}" "$FAULT_DEADLINE" 2>&1) ||
    fail "fault $name ($flags): $out"
  pass "fault $name: $out"
done

# ---- a healthy default run fires none but the Watchdog ----
elapsed=$(python3 -c "import sys,time; print(int(time.time() - float(sys.argv[1])))" "${START[healthy]}")
if [ "$elapsed" -lt "$HEALTHY_SECONDS" ]; then sleep $((HEALTHY_SECONDS - elapsed)); fi
alerts=$(python3 -c '
import sys, yaml
for g in yaml.safe_load(open(sys.argv[1]))["groups"]:
    for r in g["rules"]:
        if "alert" in r: print(r["alert"])' "$RULES")
for alert in $alerts; do
  out=$(python3 "$WORK/rules.py" "$RULES" "${URL[healthy]}" "$alert" "${START[healthy]}" 2>&1) ||
    fail "healthy run: $out"
  pass "healthy run, ${HEALTHY_SECONDS}s: $out"
done
curl -fsS "${URL[healthy]}/api/alerts/history?limit=1000" | python3 -c '
import json, sys
fired = sorted({h["alertname"] for h in json.load(sys.stdin)["history"] if h["kind"] == "transition" and h["to"] == "firing"})
assert fired == ["Watchdog"], "fired on a healthy run: %s" % fired
print("only the Watchdog went to firing")' || fail "healthy run: breakwatch's own evaluation"
pass "healthy run, ${HEALTHY_SECONDS}s: breakwatch evaluated the shipped rules and only the Watchdog fired"
