#!/usr/bin/env bash
# bench/dashboards_bench.sh BUILD_DIR [WARMUP_SECONDS] [ROUNDS]: loading each dashboard of
# monitoring/grafana/dashboards/ as Grafana loads it, from breakwatch and from Prometheus 2.42
# scraping that breakwatch every second (both also evaluate the shipped rules every second, so
# ALERTS exists on both).
#
# A load sends every target of every panel the way Grafana's Prometheus data source does for
# the last hour on panels about 1,000 px wide (maxDataPoints 1000): the interval is
# 1h / 1000 = 3.6 s rounded to Grafana's 5 s and raised to the panel's minimum interval (or
# the data source's, 1 s, the provisioned breakwatch one's timeInterval and both servers'
# sampling interval); the step is that interval, start and end aligned to it;
# $__rate_interval = max($__interval + 1 s, 4 s); dashboard variables at their default (All:
# '.*') through tools/check_dashboards.py's expansion. Targets marked instant go to
# /api/v1/query at the end, the others to /api/v1/query_range, as form POSTs, six at a time
# (a browser's connections to one host). The load time is from the first request to the last
# byte of the last answer. Each round loads every dashboard from one server then the other
# (the order alternating); the table gives the median over ROUNDS and the ratio. The answers
# of a first, untimed load are decoded and their series counted on both sides.
set -euo pipefail

BUILD=${1:?usage: bench/dashboards_bench.sh BUILD_DIR [WARMUP_SECONDS] [ROUNDS]}
WARMUP=${2:-180}
ROUNDS=${3:-7}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
RULES="$HERE/../monitoring/rules/breakwatch.rules.yml"

printf 'alerting:\n  rule_files: [%s]\n  evaluation_interval: 1s\n' "$RULES" >"$WORK/bw.yml"
start_pair "$BUILD" "rule_files: [$RULES]" --config "$WORK/bw.yml" --speed 600
echo "(both record for ${WARMUP}s first: every panel has ${WARMUP}s of its last hour filled)"
sleep "$WARMUP"

/usr/bin/python3 - "$BW_URL" "$PROM_URL" "$ROUNDS" "$HERE/../tools" "$HERE/../monitoring/grafana/dashboards" <<'PY'
import concurrent.futures, glob, http.client, json, math, os, statistics, sys, time, urllib.parse
bw, prom, rounds, tools, dash_dir = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
sys.path.insert(0, tools)
from check_dashboards import dashboard_queries

RANGE_S, MAX_POINTS, DS_INTERVAL_S, PARALLEL = 3600, 1000, 1, 6
NICE = [(0.015, 0.01), (0.035, 0.02), (0.075, 0.05), (0.15, 0.1), (0.35, 0.2), (0.75, 0.5), (1.5, 1),
        (3.5, 2), (7.5, 5), (12.5, 10), (17.5, 15), (25, 20), (45, 30), (90, 60), (210, 120),
        (450, 300), (750, 600), (1050, 900), (2700, 1800), (5400, 3600)]

def seconds(d):
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return float(d[:-2]) * units["ms"] if d.endswith("ms") else float(d[:-1]) * units[d[-1]]

def interval_of(panel):
    """Grafana's interval for PANEL: range / maxDataPoints rounded as rangeutil.roundInterval,
    at least the panel's minimum interval or the data source's."""
    raw = RANGE_S / MAX_POINTS
    nice = next((v for limit, v in NICE if raw < limit), 3600)
    minimum = seconds(panel["interval"]) if panel.get("interval") else DS_INTERVAL_S
    return max(nice, minimum), minimum

def builtins(panel):
    iv, scrape = interval_of(panel)
    rate = max(iv + scrape, 4 * scrape)
    return {"__interval": "%ds" % iv, "__interval_ms": str(int(iv * 1000)), "__rate_interval": "%ds" % rate,
            "__range": "1h", "__range_s": "3600", "__range_ms": "3600000"}

def requests_of(doc, now):
    out = []
    for panel, target, expr in dashboard_queries(doc, builtins):
        step = interval_of(panel)[0]
        end = math.floor(now / step) * step
        if target.get("instant"):
            out.append(("/api/v1/query", {"query": expr, "time": "%d" % end}))
        if target.get("range", not target.get("instant")):
            out.append(("/api/v1/query_range", {"query": expr, "start": "%d" % (end - RANGE_S), "end": "%d" % end,
                                                "step": "%g" % step}))
    return out

def fetch(base, path, form, decode):
    host = urllib.parse.urlsplit(base).netloc
    c = http.client.HTTPConnection(host, timeout=60)
    c.request("POST", path, urllib.parse.urlencode(form), {"Content-Type": "application/x-www-form-urlencoded"})
    r = c.getresponse()
    body = r.read()
    c.close()
    if r.status != 200:
        raise SystemExit("%s%s %s: HTTP %d %s" % (base, path, form["query"], r.status, body[:200]))
    if decode:
        return len(json.loads(body)["data"]["result"])
    return len(body)

def load(pool, base, reqs, decode=False):
    """Seconds to get every answer of REQS from BASE, PARALLEL at a time; and their series
    counts (DECODE) or bytes."""
    t0 = time.perf_counter()
    got = list(pool.map(lambda r: fetch(base, r[0], r[1], decode), reqs))
    return time.perf_counter() - t0, sum(got)

docs = {os.path.basename(f)[:-5]: json.load(open(f)) for f in sorted(glob.glob(dash_dir + "/*.json"))}
servers = (("breakwatch", bw), ("Prometheus", prom))
times = {(d, s): [] for d in docs for s, _ in servers}
with concurrent.futures.ThreadPoolExecutor(PARALLEL) as pool:
    now = time.time()
    info = {}
    for d, doc in docs.items():
        reqs = requests_of(doc, now)
        info[d] = (len(reqs), [load(pool, url, reqs, decode=True)[1] for _, url in servers])
    for i in range(rounds):
        now = time.time()
        for d, doc in docs.items():
            reqs = requests_of(doc, now)
            for name, url in (servers if i % 2 == 0 else servers[::-1]):
                times[(d, name)].append(load(pool, url, reqs)[0])

print("%-16s %8s %16s %12s %12s %9s" % ("dashboard", "requests", "series bw/Prom", "breakwatch", "Prometheus", "Prom/bw"))
ratios = []
for d in docs:
    b = statistics.median(times[(d, "breakwatch")]) * 1000
    p = statistics.median(times[(d, "Prometheus")]) * 1000
    ratios.append(p / b)
    n, (sb, sp) = info[d]
    print("%-16s %8d %16s %10.1fms %10.1fms %8.2fx" % (d, n, "%d/%d" % (sb, sp), b, p, p / b))
print("%-16s %8s %16s %12s %12s %8.2fx" % ("geometric mean", "", "", "", "", math.exp(sum(map(math.log, ratios)) / len(ratios))))
print("# median of %d loads per dashboard and server; %d requests in flight at most; step %gs (5s, or a panel's minimum)"
      % (rounds, PARALLEL, interval_of({})[0]))
PY
