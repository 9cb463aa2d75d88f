#!/usr/bin/env bash
# The Prometheus HTTP API under /api/v1, over real requests: every endpoint's answer on known
# data (imported from an OpenMetrics file, served with --no-engine), byte for byte where
# Prometheus's encoding matters, and every error's errorType, HTTP status and message.
source "$(dirname "$0")/lib.sh"

# 30 minutes of samples every 15 s, ending 10 minutes ago on a whole minute (recent enough
# for retention, in the past so nothing the collector records mixes in).
END=$(( $(date +%s) / 60 * 60 - 600 ))
START=$(( END - 1800 ))
python3 - "$WORK/demo.om" "$START" <<'PY'
import sys
out, start = sys.argv[1], int(sys.argv[2])
with open(out, "w") as f:
    f.write("# TYPE demo_requests counter\n# HELP demo_requests Requests served, by code and path.\n")
    for code, path, step in (("200", "/a", 2), ("500", "/a", 1), ("200", "/b", 3)):
        for k in range(121):
            f.write('demo_requests_total{code="%s",path="%s"} %d %d\n' % (code, path, step * k, start + 15 * k))
    f.write("# TYPE demo_temperature_celsius gauge\n# UNIT demo_temperature_celsius celsius\n"
            "# HELP demo_temperature_celsius Room temperature.\n")
    for k in range(121):
        f.write("demo_temperature_celsius %s %d\n" % (20 + (k % 10) * 0.5, start + 15 * k))
    f.write("# TYPE demo_tiny gauge\ndemo_tiny 1.5e-07 %d\n" % start)
    f.write("# TYPE demo_huge gauge\ndemo_huge 2e+21 %d\n" % start)
    f.write('# TYPE demo_info gauge\ndemo_info{name="é \\"q\\" \\\\ x"} 1 %d\n' % start)
    f.write("# EOF\n")
PY
"$BREAKWATCH" import --data-dir "$WORK/data" "$WORK/demo.om" >"$WORK/import.out" ||
  fail "import of the demo data"
start_breakwatch history --no-engine --data-dir "$WORK/data"
pass "imported $(cut -d' ' -f2-6 "$WORK/import.out") and serving it"

python3 - "$BW_URL" "$START" <<'PY' || fail "Prometheus API"
import http.client, json, sys, urllib.parse

url, START = sys.argv[1], int(sys.argv[2])
host, port = url[len("http://"):].split(":")
T = lambda k: START + 15 * k  # the time of the k-th sample


def call(method, path, params=None, body=None, ctype="application/x-www-form-urlencoded"):
    """Returns (status, raw body); params go into the URL, body (a dict) into a form."""
    c = http.client.HTTPConnection(host, int(port), timeout=60)
    if params:
        path += "?" + urllib.parse.urlencode(params, doseq=True)
    data = body if isinstance(body, str) or body is None else urllib.parse.urlencode(body, doseq=True)
    headers = {"Content-Type": ctype} if data is not None else {}
    c.request(method, path, data, headers)
    r = c.getresponse()
    raw = r.read().decode("utf-8")
    assert r.getheader("Content-Type") == "application/json", (path, r.getheader("Content-Type"))
    return r.status, raw


def ok(path, params=None, body=None, method=None):
    status, raw = call(method or ("POST" if body is not None else "GET"), path, params, body)
    assert status == 200, (path, params, body, status, raw)
    d = json.loads(raw)
    assert d["status"] == "success", raw
    return raw, d


def err(path, params, status, etype, msg=None, prefix=None, body=None, method=None):
    got, raw = call(method or ("POST" if body is not None else "GET"), path, params, body)
    d = json.loads(raw)
    assert (got, d["status"], d["errorType"]) == (status, "error", etype), (path, params, got, raw)
    assert list(d) == ["status", "errorType", "error"], raw
    if msg is not None:
        assert d["error"] == msg, (d["error"], msg)
    if prefix is not None:
        assert d["error"].startswith(prefix), (d["error"], prefix)
    return d["error"]


def check(name):
    print("ok: " + name)


Q = "/api/v1/query"
R = "/api/v1/query_range"

# ---- /api/v1/query: every result type, exact bytes ----
raw, _ = ok(Q, body={"query": "1+1", "time": "4"})
assert raw == '{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}', raw
raw, _ = ok(Q, {"query": "demo_temperature_celsius", "time": T(61) + 0.5})
assert raw == ('{"status":"success","data":{"resultType":"vector","result":[{"metric":'
               '{"__name__":"demo_temperature_celsius"},"value":[%d.500,"20.5"]}]}}' % T(61)), raw
raw, _ = ok(Q, {"query": 'demo_requests_total{path="/a"}', "time": T(10)})
assert raw == ('{"status":"success","data":{"resultType":"vector","result":['
               '{"metric":{"__name__":"demo_requests_total","code":"200","path":"/a"},"value":[%d,"20"]},'
               '{"metric":{"__name__":"demo_requests_total","code":"500","path":"/a"},"value":[%d,"10"]}]}}'
               % (T(10), T(10))), raw
raw, _ = ok(Q, {"query": "demo_temperature_celsius[40s]", "time": T(3)})
assert raw == ('{"status":"success","data":{"resultType":"matrix","result":[{"metric":'
               '{"__name__":"demo_temperature_celsius"},"values":[[%d,"20.5"],[%d,"21"],[%d,"21.5"]]}]}}'
               % (T(1), T(2), T(3))), raw
raw, _ = ok(Q, {"query": '"a \\"b\\""', "time": "1.5"})
assert raw == '{"status":"success","data":{"resultType":"string","result":[1.500,"a \\"b\\""]}}', raw
_, d = ok(Q, {"query": "demo_tiny", "time": T(1)})
assert d["data"]["result"][0]["value"][1] == "1.5e-07", d
_, d = ok(Q, {"query": "demo_huge", "time": T(1)})
assert d["data"]["result"][0]["value"][1] == "2e+21", d
_, d = ok(Q, {"query": "demo_huge / 0 - demo_huge / 0", "time": T(1)})
assert d["data"]["result"][0]["value"][1] == "NaN", d
_, d = ok(Q, {"query": "-1 / 0", "time": T(1)})
assert d["data"]["result"] == [T(1), "-Inf"], d
raw, _ = ok(Q, {"query": "demo_info", "time": T(1)})
assert '"name":"é \\"q\\" \\\\ x"' in raw, raw
_, d = ok(Q, {"query": "nothing_here", "time": T(1)})
assert d["data"] == {"resultType": "vector", "result": []}, d
_, d = ok(Q, {"query": "sum(demo_requests_total)", "time": T(10)})
assert d["data"]["result"] == [{"metric": {}, "value": [T(10), "60"]}], d
_, d = ok(Q, {"query": 'rate(demo_requests_total{code="200",path="/a"}[5m])', "time": T(100)})
assert abs(float(d["data"]["result"][0]["value"][1]) - 2 / 15) < 1e-12, d
# time as RFC 3339, the default time (now: the old samples are out of the lookback window)
_, d = ok(Q, {"query": "demo_temperature_celsius", "time": "1970-01-01T00:00:04Z"})
assert d["data"]["result"] == [], d
_, d = ok(Q, {"query": "demo_temperature_celsius"})
assert d["data"]["result"] == [], d
# limit and lookback_delta
raw, d = ok(Q, {"query": "sort_desc(demo_requests_total)", "time": T(10), "limit": "1"})
assert d["warnings"] == ["results truncated due to limit"], raw
assert [s["metric"]["path"] for s in d["data"]["result"]] == ["/b"], d
_, d = ok(Q, {"query": "demo_temperature_celsius", "time": T(120) + 20, "lookback_delta": "10s"})
assert d["data"]["result"] == [], d
# URL and body parameters together; GET and POST the same
_, d = ok(Q + "?time=%d" % T(2), body={"query": "demo_temperature_celsius"})
assert d["data"]["result"][0]["value"] == [T(2), "21"], d
check("query: scalar, vector, matrix and string results, values, limit, lookback_delta")

# ---- /api/v1/query_range ----
raw, _ = ok(R, body={"query": "demo_temperature_celsius", "start": T(0), "end": T(4), "step": "15"})
assert raw == ('{"status":"success","data":{"resultType":"matrix","result":[{"metric":'
               '{"__name__":"demo_temperature_celsius"},"values":[[%d,"20"],[%d,"20.5"],[%d,"21"],'
               '[%d,"21.5"],[%d,"22"]]}]}}' % (T(0), T(1), T(2), T(3), T(4))), raw
_, d = ok(R, {"query": "sum by (path) (demo_requests_total)", "start": T(1), "end": T(2),
              "step": "15s"})
assert d["data"]["result"] == [
    {"metric": {"path": "/a"}, "values": [[T(1), "3"], [T(2), "6"]]},
    {"metric": {"path": "/b"}, "values": [[T(1), "3"], [T(2), "6"]]}], d
_, d = ok(R, {"query": "2", "start": T(0), "end": T(0) + 1, "step": "0.5"})
assert d["data"]["result"] == [{"metric": {}, "values": [[T(0), "2"], [T(0) + 0.5, "2"],
                                                          [T(0) + 1, "2"]]}], d
_, d = ok(R, {"query": "demo_requests_total", "start": T(0), "end": T(1), "step": "1m",
              "limit": "2"})
assert len(d["data"]["result"]) == 2 and d["warnings"] == ["results truncated due to limit"], d
check("query_range: matrix values, scalar expressions, float and duration steps, limit")

# ---- errors of the query endpoints: errorType, status, message ----
err(Q, {"query": "1 +", "time": "1"}, 400, "bad_data",
    prefix='invalid parameter "query": 1:4: parse error: ')
err(Q, {"query": "sum(demo_requests_total", "time": "1"}, 400, "bad_data",
    prefix='invalid parameter "query": 1:')
err(Q, {"query": "", "time": "1"}, 400, "bad_data",
    prefix='invalid parameter "query": ')
err(Q, {"query": "nope(demo_tiny)"}, 400, "bad_data",
    msg='invalid parameter "query": 1:1: parse error: unknown function with name "nope"')
err(Q, {"query": "rate(demo_requests_total)"}, 400, "bad_data",
    prefix='invalid parameter "query": 1:6: parse error: expected type range vector in call to '
           'function "rate", got instant vector')
err(Q, {"query": "demo_tiny", "time": "abc"}, 400, "bad_data",
    msg='invalid parameter "time": invalid time value for \'time\': cannot parse "abc" to a '
        'valid timestamp')
err(Q, {"query": "demo_tiny", "timeout": "soon"}, 400, "bad_data",
    msg='invalid parameter "timeout": cannot parse "soon" to a valid duration')
err(Q, {"query": "demo_tiny", "limit": "-3"}, 400, "bad_data",
    msg='invalid parameter "limit": limit must be non-negative')
err(Q, {"query": "demo_tiny", "limit": "x"}, 400, "bad_data",
    msg='invalid parameter "limit": strconv.Atoi: parsing "x": invalid syntax')
err(Q, {"query": "demo_tiny", "lookback_delta": "1.5h"}, 400, "bad_data",
    msg='error parsing lookback delta duration: cannot parse "1.5h" to a valid duration')
err(Q, {"query": "demo_requests_total + ignoring(code) demo_requests_total", "time": T(10)},
    422, "execution", prefix="found duplicate series for the match group")
err(R, {"query": "demo_tiny", "end": T(1), "step": "15"}, 400, "bad_data",
    msg='invalid parameter "start": cannot parse "" to a valid timestamp')
err(R, {"query": "demo_tiny", "start": T(1), "end": "x", "step": "15"}, 400, "bad_data",
    msg='invalid parameter "end": cannot parse "x" to a valid timestamp')
err(R, {"query": "demo_tiny", "start": T(2), "end": T(1), "step": "15"}, 400, "bad_data",
    msg='invalid parameter "end": end timestamp must not be before start time')
err(R, {"query": "demo_tiny", "start": T(1), "end": T(2)}, 400, "bad_data",
    msg='invalid parameter "step": cannot parse "" to a valid duration')
err(R, {"query": "demo_tiny", "start": T(1), "end": T(2), "step": "-15"}, 400, "bad_data",
    msg='invalid parameter "step": zero or negative query resolution step widths are not '
        'accepted. Try a positive integer')
err(R, {"query": "demo_tiny", "start": 0, "end": 11001, "step": "1"}, 400, "bad_data",
    msg="exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query "
        "resolution (?step=XX)")
ok(R, {"query": "demo_tiny", "start": 0, "end": 11000, "step": "1"})
err(R, {"query": "demo_tiny[5m]", "start": T(1), "end": T(2), "step": "15"}, 400, "bad_data",
    msg='invalid parameter "query": invalid expression type "range vector" for range query, '
        'must be Scalar or instant Vector')
err(R, {"query": '"text"', "start": T(1), "end": T(2), "step": "15"}, 400, "bad_data",
    msg='invalid parameter "query": invalid expression type "string" for range query, '
        'must be Scalar or instant Vector')
err(R, {"query": "count_over_time(demo_requests_total[30m:1ms])", "start": T(0), "end": T(120),
        "step": "1", "timeout": "1ms"}, 503, "timeout", msg="query timed out in expression evaluation")
err(Q, None, 400, "bad_data", body="query=%zz",
    msg='error parsing form values: invalid URL escape "%zz"')
status, raw = call("PUT", Q)
assert status == 405, (status, raw)
check("query errors: bad_data 400 (syntax, types, parameters, limits), execution 422, timeout 503, 405")

# ---- /api/v1/series ----
S = "/api/v1/series"
raw, _ = ok(S, {"match[]": "demo_requests_total"})
assert raw == ('{"status":"success","data":['
               '{"__name__":"demo_requests_total","code":"200","path":"/a"},'
               '{"__name__":"demo_requests_total","code":"200","path":"/b"},'
               '{"__name__":"demo_requests_total","code":"500","path":"/a"}]}'), raw
_, d = ok(S, body={"match[]": ['demo_requests_total{code="500"}', "demo_temperature_celsius",
                               'demo_requests_total{code=~"5.."}']})
assert d["data"] == [{"__name__": "demo_requests_total", "code": "500", "path": "/a"},
                     {"__name__": "demo_temperature_celsius"}], d
_, d = ok(S, {"match[]": '{__name__=~"demo_.*", path!="/a"}', "start": T(0), "end": T(120)})
assert [s["__name__"] for s in d["data"]] == ["demo_huge", "demo_info", "demo_requests_total",
                                              "demo_temperature_celsius", "demo_tiny"], d
_, d = ok(S, {"match[]": "demo_tiny", "start": T(1), "end": T(120)})  # its one sample is at T(0)
assert d["data"] == [], d
_, d = ok(S, {"match[]": "demo_requests_total", "limit": "2"})
assert len(d["data"]) == 2 and d["warnings"] == ["results truncated due to limit"], d
err(S, {}, 400, "bad_data", msg="no match[] parameter provided")
err(S, {"match[]": '{path=~".*"}'}, 400, "bad_data", prefix='invalid parameter "match[]": ')
err(S, {"match[]": "sum(demo_tiny)"}, 400, "bad_data", prefix='invalid parameter "match[]": ')
err(S, {"match[]": "demo_tiny", "end": "tomorrow"}, 400, "bad_data",
    msg='invalid parameter "end": invalid time value for \'end\': cannot parse "tomorrow" to a '
        'valid timestamp')
check("series: union of match[], time range, limit, errors")

# ---- /api/v1/labels and /api/v1/label/{name}/values ----
_, d = ok("/api/v1/labels", {"start": T(0), "end": T(120)})
assert d["data"] == ["__name__", "code", "name", "path"], d
_, d = ok("/api/v1/labels", body={"match[]": "demo_info"})
assert d["data"] == ["__name__", "name"], d
_, d = ok("/api/v1/labels", {"match[]": ["demo_info", "demo_requests_total"], "limit": 3})
assert d["data"] == ["__name__", "code", "name"] and d["warnings"] == [
    "results truncated due to limit"], d
_, d = ok("/api/v1/label/__name__/values", {"start": T(0), "end": T(120), "limit": 40000})
assert d["data"] == ["demo_huge", "demo_info", "demo_requests_total", "demo_temperature_celsius",
                     "demo_tiny"], d
_, d = ok("/api/v1/label/path/values", {"match[]": 'demo_requests_total{code="500"}'})
assert d["data"] == ["/a"], d
_, d = ok("/api/v1/label/U__path/values")
assert d["data"] == ["/a", "/b"], d
raw, d = ok("/api/v1/label/name/values")
assert raw == '{"status":"success","data":["é \\"q\\" \\\\ x"]}', raw
_, d = ok("/api/v1/label/U__no_2e_such/values")
assert d["data"] == [], d
err("/api/v1/label/U__/values", None, 400, "bad_data", msg='invalid label name: ""')
err("/api/v1/label/%ff/values", None, 400, "bad_data", msg='invalid label name: "\\xff"')
err("/api/v1/labels", {"match[]": '{code=""}'}, 400, "bad_data")
status, _ = call("POST", "/api/v1/label/path/values", None, {})
assert status == 405, status
check("labels and label values: sorted, match[], U__ names, limit, errors")

# ---- /api/v1/metadata ----
_, d = ok("/api/v1/metadata", {"metric": "demo_temperature_celsius"})
assert d["data"] == {"demo_temperature_celsius": [
    {"type": "gauge", "help": "Room temperature.", "unit": "celsius"}]}, d
_, d = ok("/api/v1/metadata")
assert d["data"]["demo_requests"] == [
    {"type": "counter", "help": "Requests served, by code and path.", "unit": ""}], d
_, d = ok("/api/v1/metadata", {"limit": "1", "limit_per_metric": "1"})
assert len(d["data"]) == 1, d
err("/api/v1/metadata", {"limit": "x"}, 400, "bad_data", msg="limit must be a number")
err("/api/v1/metadata", {"limit_per_metric": "x"}, 400, "bad_data",
    msg="limit_per_metric must be a number")
check("metadata: by family, metric, limit, errors")

# ---- the rest ----
raw, _ = ok("/api/v1/query_exemplars", {"query": "demo_tiny", "start": T(0), "end": T(1)})
assert raw == '{"status":"success","data":[]}', raw
err("/api/v1/query_exemplars", {"query": "sum("}, 400, "bad_data", prefix="1:5: parse error: ")
_, d = ok("/api/v1/status/buildinfo")
assert set(d["data"]) == {"version", "revision", "branch", "buildUser", "buildDate", "goVersion"}, d
_, d = ok("/api/v1/status/config")
assert d["data"] == {"yaml": ""}, d
status, raw = call("GET", "/api/v1/targets")
assert status == 404 and json.loads(raw)["errorType"] == "not_found", raw
check("query_exemplars, buildinfo (no features), status/config, 404 for what breakwatch lacks")
PY

# The sample limit fails the one query that passes it (422), and the server goes on.
kill "$BW_PID"
wait "$BW_PID" 2>/dev/null || true
start_breakwatch limited --no-engine --data-dir "$WORK/data" --query-max-samples 100
code=$(curl -s -o "$WORK/limit.json" -w '%{http_code}' "$BW_URL/api/v1/query_range" \
  --data-urlencode 'query=sum(rate(demo_requests_total[5m]))' \
  --data-urlencode "start=$START" --data-urlencode "end=$END" --data-urlencode 'step=15')
python3 - "$WORK/limit.json" "$code" <<'PY' || fail "sample limit"
import json, sys
d, code = json.load(open(sys.argv[1])), sys.argv[2]
assert code == "422" and d["errorType"] == "execution", (code, d)
assert d["error"] == "query processing would load too many samples into memory in query execution", d
PY
curl -fsS "$BW_URL/api/v1/query" --data-urlencode 'query=demo_tiny' --data-urlencode "time=$END" |
  grep -q '"resultType":"vector"' || fail "the server did not go on after a query over the limit"
pass "over the sample limit: 422 execution, and the next query is answered"
