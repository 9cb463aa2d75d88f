#!/usr/bin/env bash
# monitoring/grafana/dashboards/: every dashboard passes tools/check_dashboards.py — the static
# checks (JSON, uids, grid, panel types, data sources against the provisioning) and, with
# --url, every panel query returns data from a running breakwatch (rules loaded, so ALERTS
# exists) with every legendFormat label in its result. Then the checker is shown to catch
# each kind of mistake: a copy of a dashboard broken one way at a time must fail, naming the
# file, the panel and the problem.
source "$(dirname "$0")/lib.sh"
G="$SRCDIR/monitoring/grafana"
CHECK=(python3 "$SRCDIR/tools/check_dashboards.py" --provisioning "$G")
DASHBOARDS=("$G"/dashboards/*.json)

[ ${#DASHBOARDS[@]} -ge 5 ] || fail "expected at least 5 dashboards, found ${#DASHBOARDS[@]}"
"${CHECK[@]}" "${DASHBOARDS[@]}" >"$WORK/static.out" || { cat "$WORK/static.out" >&2; fail "static checks"; }
pass "static checks: ${#DASHBOARDS[@]} dashboards ($(cd "$G/dashboards" && echo *.json))"

# The conventions the checker does not enforce, read independently from the files.
python3 - "${DASHBOARDS[@]}" <<'PY' || fail "dashboard conventions"
import json, sys
for f in sys.argv[1:]:
    d = json.load(open(f))
    assert d["schemaVersion"] == 39 and "breakwatch" in d["tags"], f
    assert d["time"] == {"from": "now-1h", "to": "now"} and d["refresh"] == "10s", f
    var = [v for v in d["templating"]["list"] if v["name"] == "datasource"]
    assert var and var[0]["type"] == "datasource" and var[0]["query"] == "prometheus", f
    for p in d["panels"]:
        assert p["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, (f, p["id"])
PY
pass "schemaVersion 39, tag breakwatch, last 1h, refresh 10s, every panel on \${datasource}"

start_breakwatch dash --data-dir "$WORK/data" --rule-files "$SRCDIR/monitoring/rules/breakwatch.rules.yml"
# Rates need two samples and the first signal takes a few seconds: retry until every query
# answers, for at most 35 s.
t0=$SECONDS
wait_for 35 "${CHECK[@]}" --url "$BW_URL" "${DASHBOARDS[@]}" || true
"${CHECK[@]}" --url "$BW_URL" "${DASHBOARDS[@]}" >"$WORK/live.out" || { cat "$WORK/live.out" >&2; fail "live checks"; }
queries=$(python3 -c '
import json, sys
print(sum(len(p["targets"]) for f in sys.argv[1:] for p in json.load(open(f))["panels"]))' "${DASHBOARDS[@]}")
pass "live checks: all $queries queries return data with their legend labels (after $((SECONDS - t0)) s)"

# break FILE PYTHON: a copy of overview.json changed by PYTHON (acting on dict d) as FILE.
break_copy() {
  python3 - "$G/dashboards/overview.json" "$WORK/$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
}
# expect_problem FILE PATTERN [--url]: the checker fails on FILE with a line matching PATTERN.
expect_problem() {
  local file=$1 pattern=$2; shift 2
  local rc=0
  "${CHECK[@]}" "$@" "$WORK/$file" >"$WORK/$file.out" || rc=$?
  [ "$rc" -eq 1 ] || { cat "$WORK/$file.out" >&2; fail "$file: checker exit $rc, expected 1"; }
  grep -Eq -- "$pattern" "$WORK/$file.out" || { cat "$WORK/$file.out" >&2; fail "$file: no line matching $pattern"; }
  echo "  $(grep -E -- "$pattern" "$WORK/$file.out" | head -n1)"
}

break_copy overlap.json 'd["panels"][1]["gridPos"] = dict(d["panels"][0]["gridPos"], x=2)'
expect_problem overlap.json "^$WORK/overlap.json: panel 2 \(Cycle time p95\): gridPos .* overlaps panel 1 \(Engine state\)"
break_copy wide.json 'd["panels"][5]["gridPos"]["w"] = 8'
expect_problem wide.json "wide.json: panel 6 \(Firing alerts\): gridPos .*x\+w = 28 > 24"
break_copy dup-id.json 'd["panels"][3]["id"] = d["panels"][2]["id"]'
expect_problem dup-id.json "dup-id.json: panel 3 \(Signals in range\): id 3 also used by panel \(Scan rate\)"
break_copy unknown-ds.json 'd["panels"][4]["datasource"] = {"type": "prometheus", "uid": "nosuchds"}'
expect_problem unknown-ds.json "unknown-ds.json: panel 5 \(Positions open\): datasource uid 'nosuchds' is not a provisioned data source"
break_copy bad-type.json 'd["panels"][6]["type"] = "graph"'
expect_problem bad-type.json "bad-type.json: panel 7 \(Equity\): panel type 'graph' is not one of"
break_copy bad-legend.json 'd["panels"][2]["targets"][0]["legendFormat"] = "{{symbol}}"'
expect_problem bad-legend.json "bad-legend.json: panel 3 \(Scan rate\): target A: legendFormat label \{\{symbol\}\} is not in the result" --url "$BW_URL"
# shellcheck disable=SC2016 # $__rate_interval is Grafana's, not the shell's
break_copy no-data.json 'd["panels"][2]["targets"][0]["expr"] = "sum(rate(no_such_metric_total[$__rate_interval]))"'
expect_problem no-data.json "no-data.json: panel 3 \(Scan rate\): target A: query 'sum\(rate\(no_such_metric_total\[1m\]\)\)' returned no data" --url "$BW_URL"
break_copy bad-var.json 'd["templating"]["list"][0]["query"] = "loki"'
expect_problem bad-var.json "bad-var.json: panel 1 \(Engine state\): datasource [$][{]datasource[}]: variable datasource is not of type datasource with query prometheus"
# A copy of a real dashboard keeps its uid: the clash is reported.
cp "$G/dashboards/overview.json" "$WORK/same-uid.json"
"${CHECK[@]}" "$G/dashboards/overview.json" "$WORK/same-uid.json" >"$WORK/same-uid.out" && fail "a duplicate uid passed"
grep -q "same-uid.json: uid 'breakwatch-overview' also used by $G/dashboards/overview.json" "$WORK/same-uid.out" ||
  { cat "$WORK/same-uid.out" >&2; fail "duplicate uid not named"; }
echo "  $(head -n1 "$WORK/same-uid.out")"
# Broken JSON: the position comes from the parser.
printf '{\n  "uid": "x",\n  "title": "x"\n  "panels": []\n}\n' >"$WORK/bad.json"
expect_problem bad.json "bad.json:4:3: invalid JSON: Expecting ','"
pass "the checker exits 1 naming each broken dashboard, panel and problem"
