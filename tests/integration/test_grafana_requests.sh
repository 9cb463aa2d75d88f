#!/usr/bin/env bash
# The requests Grafana's Prometheus data source makes, replayed against a running breakwatch
# (the engine trading, its metrics recorded every second), with the answers' values checked:
# the "Save & test" health check, build info, the metric browser, metadata, panel queries as
# form POSTs with start and end floored to the step, instant queries and the exemplar probe.
source "$(dirname "$0")/lib.sh"

start_breakwatch bw --data-dir "$WORK/data" --speed 60

python3 - "$BW_URL" <<'PY' || fail "Grafana's requests"
import http.client, json, math, sys, time, urllib.parse

url = sys.argv[1]
host, port = url[len("http://"):].split(":")
STATES = {"idle", "scanning", "signal_wait", "managing", "halted"}


def call(method, path, params=None):
    """Like Grafana: GET with a query string, or POST with a form body."""
    c = http.client.HTTPConnection(host, int(port), timeout=60)
    body, headers = None, {}
    if params and method == "POST":
        body = urllib.parse.urlencode(params, doseq=True)
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif params:
        path += "?" + urllib.parse.urlencode(params, doseq=True)
    c.request(method, path, body, headers)
    r = c.getresponse()
    raw = r.read().decode("utf-8")
    assert r.status == 200, (method, path, params, r.status, raw)
    d = json.loads(raw)
    assert d["status"] == "success", raw
    return raw, d


def check(name):
    print("ok: " + name)


def wait_series(name, n=5):
    """Waits until the collector has recorded n samples of name."""
    for _ in range(60):
        now = time.time()
        _, d = call("POST", "/api/v1/query",
                    {"query": "count_over_time(%s[1m])" % name, "time": "%.3f" % now})
        if d["data"]["result"] and min(float(s["value"][1]) for s in d["data"]["result"]) >= n:
            return
        time.sleep(0.5)
    raise AssertionError("%s: fewer than %d samples recorded" % (name, n))


wait_series("engine_cycles_total", 7)

# 1. "Save & test": an instant query of 1+1 at time=4, form POST (the default httpMethod).
raw, _ = call("POST", "/api/v1/query", {"query": "1+1", "time": "4"})
assert raw == '{"status":"success","data":{"resultType":"scalar","result":[4,"2"]}}', raw
# 2. Build info, for its Prometheus-or-Mimir heuristics: no "features".
_, d = call("GET", "/api/v1/status/buildinfo")
assert "features" not in d["data"], d
assert [int(x) for x in d["data"]["version"].split(".")] >= [2, 24, 0], d
check("health check 1+1 at time=4, buildinfo without features")

now = time.time()
start, end = int(now - 3600), int(now)
# 3. The metric browser: names, label names per metric, label values.
_, d = call("GET", "/api/v1/label/__name__/values",
            {"start": start, "end": end, "limit": 40000})
names = d["data"]
assert names == sorted(set(names)), names
for want in ("engine_cycles_total", "engine_state", "process_cpu_seconds_total",
             "engine_cycle_time_bucket", "http_requests_total", "tsdb_head_series"):
    assert want in names, (want, names)
_, d = call("GET", "/api/v1/labels", {"start": start, "end": end, "match[]": "engine_state"})
assert d["data"] == ["__name__", "state"], d
_, d = call("GET", "/api/v1/label/state/values",
            {"start": start, "end": end, "match[]": "engine_state"})
assert set(d["data"]) <= STATES and d["data"] == sorted(d["data"]) and d["data"], d
_, d = call("GET", "/api/v1/label/le/values",
            {"start": start, "end": end, "match[]": "engine_cycle_time_bucket"})
assert "+Inf" in d["data"], d
# The older-Grafana fallback: every series.
_, d = call("GET", "/api/v1/series", {"match[]": '{__name__!=""}', "start": start, "end": end})
assert {"__name__": "engine_cycles_total"} in d["data"], d["data"][:5]
check("metric browser: %d metric names, labels and values with match[], series" % len(names))

# 4. Metadata for the tooltips.
_, d = call("GET", "/api/v1/metadata")
md = d["data"]
cycles = md.get("engine_cycles_total") or md.get("engine_cycles")
assert cycles and cycles[0]["type"] == "counter" and cycles[0]["help"], md.get("engine_cycles")
hist = md.get("engine_cycle_time")
assert hist and hist[0]["type"] == "histogram", hist
check("metadata: counters and histograms typed, with help")

# 5. Panel queries: form POSTs of query_range, start and end floored to the step.
for step in (1, 5):
    now = time.time()
    s, e = math.floor((now - 120) / step) * step, math.floor(now / step) * step
    _, d = call("POST", "/api/v1/query_range",
                {"query": "engine_cycles_total", "start": s, "end": e, "step": step})
    assert d["data"]["resultType"] == "matrix" and len(d["data"]["result"]) == 1, d
    pts = d["data"]["result"][0]["values"]
    ts = [p[0] for p in pts]
    assert all(t % step == 0 and s <= t <= e for t in ts) and ts == sorted(ts), ts
    vals = [float(p[1]) for p in pts]
    assert vals == sorted(vals) and vals[-1] > 0, vals  # a counter
# $__rate_interval with a 1 s scrape interval is 4 s.
now = math.floor(time.time())
_, d = call("POST", "/api/v1/query_range",
            {"query": "rate(engine_cycles_total[4s])", "start": now - 10, "end": now, "step": 1})
rates = [float(v) for _, v in d["data"]["result"][0]["values"]]
assert rates and all(r > 0 for r in rates), rates
_, d = call("POST", "/api/v1/query_range",
            {"query": "histogram_quantile(0.95, sum by (le) (rate(engine_cycle_time_bucket[4s])))",
             "start": now - 10, "end": now, "step": 1})
q95 = [float(v) for _, v in d["data"]["result"][0]["values"]]
assert all(0 < q < 10 for q in q95), q95
check("range queries as Grafana posts them: floored start/end, counters rising, rates, p95")

# 6. Instant queries (stat panels, tables): time = the range end.
# One state at a time: a scrape can fall between two gauge updates of a transition, so
# most, not all, of the recorded seconds must show exactly one.
_, d = call("POST", "/api/v1/query_range",
            {"query": "sum(engine_state)", "start": now - 6, "end": now, "step": 1})
ones = [v for _, v in d["data"]["result"][0]["values"]]
assert ones.count("1") * 2 > len(ones) and set(ones) <= {"0", "1", "2"}, ones
_, d = call("POST", "/api/v1/query", {"query": "max by (state) (engine_state)", "time": now})
assert {s["metric"]["state"] for s in d["data"]["result"]} <= STATES, d
_, d = call("POST", "/api/v1/query", {"query": "engine_cycles_total", "time": now})
recorded = float(d["data"]["result"][0]["value"][1])
c = http.client.HTTPConnection(host, int(port), timeout=10)
c.request("GET", "/api/health")
cycles_now = json.loads(c.getresponse().read())["engine"]["cycles"]
assert 0 < recorded <= cycles_now, (recorded, cycles_now)
check("instant queries: one engine state at a time, %d cycles recorded of %d run"
      % (recorded, cycles_now))

# 7. The exemplar probe: query=test, start and end in milliseconds.
ms = int(time.time() * 1000)
raw, _ = call("GET", "/api/v1/query_exemplars",
              {"query": "test", "start": ms - 30 * 60 * 1000, "end": ms})
assert raw == '{"status":"success","data":[]}', raw
check("exemplar probe: success, no exemplars")
PY
