#!/usr/bin/env bash
# Grafana's alert rules, monitoring/grafana/alerting/, match the shipped Prometheus rules.
#
# Grafana itself is not installable here (it is not in Debian, and nothing is downloaded), so
# nothing loads the files into a Grafana: the test checks what Grafana would do with them.
# - The checked-in files are exactly tools/grafana_alerts.py's output (rules and alertmanager
#   configuration unchanged since it was run).
# - Every alerting rule of monitoring/rules/breakwatch.rules.yml has exactly one Grafana rule
#   with its title, `for`, labels and annotations (Prometheus's $value written as Grafana's
#   $values.B.Value, the one rewrite the generator documents) and its expression as query A;
#   uids are unique and at most 40 characters; the condition and every expression's input
#   name an existing refId; every data source uid is __expr__ or provisioned in
#   monitoring/grafana/datasources/. The contact point and policy carry alertmanager.yml's
#   webhook URL, grouping and routes.
# - The condition, evaluated here as Grafana's reduce and threshold expressions do, makes an
#   alert instance of every series query A returns, whatever its value (0, negative, NaN).
# - Live: breakwatch runs with faults (daily loss limit reached at once, undeclared state
#   transitions) beside a real Prometheus scraping it and evaluating the shipped rules every
#   second. Every query A runs without error on both. Then, for every alert, the instances
#   Grafana's condition would give from query A on Prometheus (its data source), query A on
#   breakwatch (less job and instance), and the ALERTS series Prometheus's rule produced
#   have the same label sets at one time T (up to 3 T's for a transient), in rounds until a
#   whole round agrees and each fault's alert has been seen with instances (at most 60 s).
source "$(dirname "$0")/lib.sh"
M="$SRCDIR/monitoring"
A="$M/grafana/alerting"
RULES="$M/rules/breakwatch.rules.yml"
t0=$SECONDS

# ---- the checked-in files are the generator's output ----
python3 "$SRCDIR/tools/grafana_alerts.py" --out "$WORK/gen" || fail "the generator failed"
diff -r "$WORK/gen" "$A" >"$WORK/gen.diff" || { cat "$WORK/gen.diff" >&2; fail "monitoring/grafana/alerting differs from tools/grafana_alerts.py's output: run it"; }
pass "monitoring/grafana/alerting/ ($(cd "$A" && echo *)) is the generator's output"

# ---- Grafana's condition, as its server-side expressions compute it ----
cat >"$WORK/grafana_eval.py" <<'PY'
"""instances(rule, series): the label sets of the alert instances a Grafana rule's condition
gives when its query A returns SERIES, a list of (labels dict, value) — Grafana's reduce over
the one point of an instant query and its threshold, followed from the condition back to A."""
import math

REDUCERS = {"last": lambda v: v, "count": lambda v: 1.0, "min": lambda v: v, "max": lambda v: v,
            "sum": lambda v: v, "mean": lambda v: v}
EVALUATORS = {"gt": lambda x, p: x > p[0], "lt": lambda x, p: x < p[0],
              "within_range": lambda x, p: p[0] < x < p[1], "outside_range": lambda x, p: x < p[0] or x > p[1]}

def node_values(nodes, ref, series):
    node = nodes[ref]
    model = node["model"]
    if node["datasourceUid"] != "__expr__":
        assert ref == "A", ref
        return [(dict(l), v) for l, v in series]
    inputs = node_values(nodes, model["expression"], series)
    if model["type"] == "reduce":
        return [(l, REDUCERS[model["reducer"]](v)) for l, v in inputs]
    if model["type"] == "threshold":
        (cond,) = model["conditions"]
        ev = cond["evaluator"]
        return [(l, 1.0 if (not math.isnan(v) and EVALUATORS[ev["type"]](v, ev["params"])) else 0.0) for l, v in inputs]
    raise ValueError("expression type %s" % model["type"])

def instances(rule, series):
    nodes = {d["refId"]: d for d in rule["data"]}
    return sorted(tuple(sorted(l.items())) for l, v in node_values(nodes, rule["condition"], series) if v != 0)
PY

# ---- static: one Grafana rule per Prometheus alert, the same in every respect that shows ----
python3 - "$RULES" "$A/breakwatch.yml" "$A/notifications.yml" "$M/grafana/datasources" "$M/alertmanager/alertmanager.yml" "$WORK" <<'PY' || fail "the Grafana rules do not match the Prometheus rules"
import glob, math, re, sys, yaml
rules_file, grafana_file, notes_file, ds_dir, am_file, work = sys.argv[1:]
sys.path.insert(0, work)
from grafana_eval import instances

def seconds(d):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+)(ms|s|m|h|d)", d or "0s"))

prom = [r for g in yaml.safe_load(open(rules_file))["groups"] for r in g["rules"] if "alert" in r]
graf = yaml.safe_load(open(grafana_file))
assert graf["apiVersion"] == 1, graf["apiVersion"]
grules = [r for g in graf["groups"] for r in g["rules"]]
for g in graf["groups"]:
    assert g["orgId"] == 1 and g["folder"] and g["name"] and seconds(g["interval"]) % 10 == 0, g["name"]
provisioned = {d["uid"] for f in glob.glob(ds_dir + "/*.yml") for d in yaml.safe_load(open(f))["datasources"]}
assert len(grules) == len(prom), (len(grules), len(prom))
uids = [r["uid"] for r in grules]
assert len(set(uids)) == len(uids), uids
for u in uids:
    assert len(u) <= 40 and re.fullmatch(r"[A-Za-z0-9_-]+", u), u
for p in prom:
    same = [r for r in grules if r["title"] == p["alert"]]
    assert len(same) == 1, (p["alert"], len(same))
    g = same[0]
    assert seconds(g["for"]) == seconds(p.get("for")), (p["alert"], g["for"], p.get("for"))
    assert g["labels"] == p.get("labels", {}), p["alert"]
    want = {k: v.replace("$value", "$values.B.Value") for k, v in p.get("annotations", {}).items()}
    assert g["annotations"] == want, (p["alert"], g["annotations"], want)
    refs = {d["refId"]: d for d in g["data"]}
    assert len(refs) == len(g["data"]), p["alert"]
    assert g["condition"] in refs, (p["alert"], g["condition"])
    for d in g["data"]:
        assert d["datasourceUid"] == "__expr__" or d["datasourceUid"] in provisioned, (p["alert"], d["datasourceUid"])
        assert d["model"]["refId"] == d["refId"], p["alert"]
        if d["datasourceUid"] == "__expr__":
            assert d["model"]["expression"] in refs, (p["alert"], d["model"]["expression"])
    a = refs["A"]
    assert a["datasourceUid"] == "prometheus" and a["model"]["instant"] is True, p["alert"]
    assert a["model"]["expr"] == p["expr"].strip(), p["alert"]
    assert g["noDataState"] == "OK" and g["execErrState"] == "Error", p["alert"]
    # Every series of A is an instance, whatever its value; no series, no instance.
    for v in (5.0, 1.0, 0.0, -3.5, float("nan")):
        series = [({"job": "j", "instance": "i1"}, v), ({"job": "j", "instance": "i2"}, v)]
        assert instances(g, series) == [(("instance", "i1"), ("job", "j")), (("instance", "i2"), ("job", "j"))], (p["alert"], v)
    assert instances(g, []) == [], p["alert"]
    # $values.B is the sample's value.
    b = refs["B"]["model"]
    assert b["type"] == "reduce" and b["expression"] == "A" and b["reducer"] == "last", p["alert"]
print("  %d alerting rules, %d Grafana rules in %d groups, uids %d..%d chars" %
      (len(prom), len(grules), len(graf["groups"]), min(map(len, uids)), max(map(len, uids))))

notes = yaml.safe_load(open(notes_file))
am = yaml.safe_load(open(am_file))
assert notes["apiVersion"] == 1
cps = {c["name"]: c for c in notes["contactPoints"]}
for r in am["receivers"]:
    urls = [w["url"] for w in r["webhook_configs"]]
    got = [x["settings"]["url"] for x in cps[r["name"]]["receivers"] if x["type"] == "webhook"]
    assert got == urls, (r["name"], got, urls)
(pol,) = notes["policies"]
def same_route(g, a, top):
    for k in ("group_by", "group_wait", "group_interval", "repeat_interval"):
        assert g.get(k) == a.get(k), (k, g.get(k), a.get(k))
    assert g.get("receiver", a.get("receiver")) == a.get("receiver") and (not top or g["receiver"] in cps)
    want = [list(re.fullmatch(r'(\w+)(=~|!~|!=|=)"(.*)"', m).groups()) for m in a.get("matchers", [])]
    assert g.get("object_matchers", []) == want, (g.get("object_matchers"), want)
    assert len(g.get("routes", [])) == len(a.get("routes", []))
    for gr, ar in zip(g.get("routes", []), a.get("routes", [])):
        same_route(gr, ar, False)
same_route(pol, am["route"], True)
print("  contact point %s, policy grouped by %s with %d routes, as alertmanager.yml" %
      (", ".join(cps), ", ".join(pol["group_by"]), len(pol.get("routes", []))))
PY
pass "every Prometheus alert has one Grafana rule with its title, for, labels, annotations and expression; uids, refIds and data sources resolve; the condition ignores the value"

# ---- live: breakwatch with faults, Prometheus scraping it with the shipped rules ----
# Prometheus starts first and is scraping (a target still down) before breakwatch starts, so that
# it sees breakwatch's counters from their first second.
# The simulated day starts at 23:50: the loss limit (a millionth of equity) is reached within
# seconds, the engine halts, and after the simulated midnight (10 s at speed 60) it trades and
# reaches it again; undeclared transitions are injected every 10 simulated seconds meanwhile.
bw_port=$(free_port)
prom_port=$(free_port)
cat >"$WORK/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ['$RULES']
scrape_configs:
  - job_name: breakout-bot-api
    metrics_path: /api/metrics
    static_configs: [{targets: ['127.0.0.1:$bw_port']}]
YML
prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
  --web.listen-address="127.0.0.1:$prom_port" >"$WORK/prometheus.log" 2>&1 &
PIDS+=($!)
PROM="http://127.0.0.1:$prom_port"
wait_for 20 curl -fsS "$PROM/-/ready" || { tail -20 "$WORK/prometheus.log" >&2; fail "Prometheus not ready"; }
# Prometheus applies its targets a few seconds after it is ready: wait for its first (failed)
# scrape, so that breakwatch is scraped from its first second.
scraping() { curl -fsS --get "$PROM/api/v1/query" --data-urlencode 'query=up{job="breakout-bot-api"}' | grep -q '"value"'; }
wait_for 20 scraping || fail "Prometheus did not start scraping"
printf 'engine:\n  start: "2026-01-04T23:50:00Z"\nalerting:\n  rule_files: [%s]\n  evaluation_interval: 1s\n' "$RULES" >"$WORK/bw.yml"
start_breakwatch faults --data-dir "$WORK/data" --config "$WORK/bw.yml" --listen "127.0.0.1:$bw_port" \
  --speed 60 --daily-loss-limit 0.000001 --fault-unexpected-every 10

# Every query A runs without error on both; then, every 2 s until each fault's alert has been
# seen with instances (at most 60 s), every alert is compared at one T (up to 5 T's for a
# transient): Grafana's instances from query A on Prometheus = the labels of Prometheus's
# ALERTS for it (less alertname, alertstate and the rule's labels), and Grafana's instances
# from query A on breakwatch = those on Prometheus less job and instance.
FAULT_ALERTS=(RiskBudgetExhausted DailyLossLimitTriggered EngineUnexpectedStateTransition Watchdog)
python3 - "$A/breakwatch.yml" "$BW_URL" "$PROM" "$SRCDIR/tools" "$WORK" "${FAULT_ALERTS[@]}" <<'PY' || fail "Grafana's conditions and Prometheus's rules disagree"
import json, sys, time, urllib.parse, urllib.request
import yaml
grafana_file, bw, prom, tools, work = sys.argv[1:6]
faults = sys.argv[6:]
sys.path[:0] = [tools, work]
from compare_exprs import Answer
from grafana_eval import instances

rules = [r for g in yaml.safe_load(open(grafana_file))["groups"] for r in g["rules"]]
TARGET = {"job", "instance"}  # what Prometheus's scrape config attaches

def series(url, expr, t, drop):
    """(labels less __name__ and DROP, value) of EXPR at T on URL."""
    body = urllib.parse.urlencode({"query": expr, "time": "%.3f" % t}).encode()
    d = json.load(urllib.request.urlopen(url + "/api/v1/query", body, timeout=15))
    assert d["status"] == "success", d
    return [({k: v for k, v in s["metric"].items() if k != "__name__" and k not in drop}, float(s["value"][1]))
            for s in d["data"]["result"]]

t = time.time() - 1.5
for r in rules:
    for url in (bw, prom):
        a = Answer(url, r["data"][0]["model"]["expr"], t, ())
        assert a.error is None, (r["title"], url, a.error)
print("  all %d queries A answer without error on breakwatch and on Prometheus" % len(rules))

def compare(r):
    """(instances, None) once Grafana on Prometheus, Prometheus's rule and Grafana on
    breakwatch agree at one T (up to 3 T's a second apart), else (None, what differs)."""
    expr = r["data"][0]["model"]["expr"]
    rule_labels = set(r["labels"]) | {"alertname", "alertstate"}
    for attempt in range(3):
        t = time.time() - 1.5
        on_prom = instances(r, series(prom, expr, t, ()))
        on_bw = instances(r, series(bw, expr, t, ()))
        on_prom_less_target = instances(r, series(prom, expr, t, TARGET))
        fired = sorted(tuple(sorted(l.items())) for l, _ in series(prom, 'ALERTS{alertname="%s"}' % r["title"], t, rule_labels))
        if on_prom == fired and on_bw == on_prom_less_target:
            return fired, None
        time.sleep(1)
    return None, ("T=%.3f: Grafana on Prometheus %s, Prometheus's rule %s; Grafana on breakwatch %s, "
                  "on Prometheus less job and instance %s" % (t, on_prom, fired, on_bw, on_prom_less_target))

def fmt(sets):
    return ", ".join("{%s}" % ", ".join("%s=%s" % kv for kv in l) for l in sets)

# Rounds until every fault's alert has been seen with instances and a whole round agreed. A
# round that disagrees is reported: breakwatch's history starts with the engine, at zero, while
# Prometheus's first scrape comes up to a second later, so an increase in that second (the
# first undeclared transitions) is seen by breakwatch only, until the window passes or a later
# increase is seen by both; and Prometheus's first rule evaluations lag its first scrapes.
seen, rounds, start = {}, 0, time.time()
while True:
    rounds += 1
    differs = []
    for r in rules:
        fired, why = compare(r)
        if why:
            differs.append(r["title"])
            print("  round %d, %s differs: %s" % (rounds, r["title"], why))
        elif fired and r["title"] not in seen:
            seen[r["title"]] = fired
            print("  %-32s %d instance(s) after %2.0f s: %s" % (r["title"], len(fired), time.time() - start, fmt(fired)))
    if not differs and set(faults) <= set(seen):
        break
    if time.time() - start > 60:
        sys.exit("after 60 s: still differ %s, not seen with instances %s" % (differs, sorted(set(faults) - set(seen))))
    time.sleep(2)
print("  all %d alerts agreed in round %d" % (len(rules), rounds))
PY
pass "under the faults, Grafana's condition on query A gives the label sets of Prometheus's alerts, on Prometheus and on breakwatch ($((SECONDS - t0)) s in all)"
