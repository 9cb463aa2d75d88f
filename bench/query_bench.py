#!/usr/bin/env python3
"""Query latency through the HTTP API, breakwatch against a real Prometheus on the same data.

Usage: query_bench.py BREAKWATCH WORKDIR [REPEAT]

Generates an OpenMetrics file with timestamps (100 classic histograms of 11 buckets, 100
counters, and the spec's series), loads it into Prometheus with `promtool tsdb
create-blocks-from openmetrics` and into breakwatch with `breakwatch import`, starts both on
loopback, then times each query as Grafana sends it (form POST to /api/v1/query_range, same
client for both) from sending the request to the last byte of the answer. The timed answers are
not JSON-decoded: Python's json.loads of a large answer (30,000 points, ~0.9 MB) takes longer
than either server takes to compute and send it, so decoding would measure the client, not the
servers. Prints the best and median of REPEAT runs per query and the ratio Prometheus /
breakwatch. The untimed warm-up answers are decoded and checked to hold the same number of
series and points, so a fast wrong answer does not count.
"""
import http.client
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse

STEP_S = 15
POINTS = 1200  # samples per series; 1,000 query steps fit in the last part
BOUNDS = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0", "+Inf"]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def generate(path, end_s):
    """Writes the OpenMetrics file; returns the number of samples."""
    rnd = random.Random(42)
    start_s = end_s - POINTS * STEP_S
    times = [start_s + i * STEP_S + rnd.uniform(-2, 2) for i in range(POINTS)]
    n = 0
    with open(path, "w") as f:
        f.write("# HELP a_total A counter per instance.\n# TYPE a counter\n")
        for i in range(100):
            v = 0.0
            for t in times:
                v += rnd.randint(0, 20)
                f.write('a_total{i="%d"} %g %.3f\n' % (i, v, t))
                n += 1
        f.write("# HELP h A latency histogram per instance.\n# TYPE h histogram\n")
        for i in range(100):
            counts = [0] * len(BOUNDS)
            total = 0.0
            rows = {b: [] for b in BOUNDS}
            sums, cnts = [], []
            for t in times:
                for _ in range(rnd.randint(0, 30)):
                    x = rnd.expovariate(4.0)
                    total += x
                    for k, b in enumerate(BOUNDS):
                        if b == "+Inf" or x <= float(b):
                            counts[k] += 1
                for k, b in enumerate(BOUNDS):
                    rows[b].append((counts[k], t))
                sums.append((total, t))
                cnts.append((counts[-1], t))
            for b in BOUNDS:
                for c, t in rows[b]:
                    f.write('h_bucket{i="%d",le="%s"} %d %.3f\n' % (i, b, c, t))
                    n += 1
            for v, t in sums:
                f.write('h_sum{i="%d"} %r %.3f\n' % (i, v, t))
            for c, t in cnts:
                f.write('h_count{i="%d"} %d %.3f\n' % (i, c, t))
            n += 2 * len(times)
        f.write("# TYPE signals_generated counter\n")
        for sym in ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT"]:
            for side in ["long", "short"]:
                for regime in ["trending", "ranging", "volatile"]:
                    v = 0
                    for t in times:
                        v += rnd.random() < 0.05
                        f.write('signals_generated_total{regime="%s",side="%s",symbol="%s"} %d %.3f\n'
                                % (regime, side, sym, v, t))
                        n += 1
        f.write("# TYPE daily_loss_limit_triggered counter\n")
        v = 0
        for t in times:
            v += rnd.random() < 0.002
            f.write("daily_loss_limit_triggered_total %d %.3f\n" % (v, t))
            n += 1
        f.write("# TYPE engine_cycle_time histogram\n")
        counts = [0] * len(BOUNDS)
        rows = {b: [] for b in BOUNDS}
        for t in times:
            for _ in range(rnd.randint(50, 70)):
                x = rnd.expovariate(200.0)
                for k, b in enumerate(BOUNDS):
                    if b == "+Inf" or x <= float(b):
                        counts[k] += 1
            for k, b in enumerate(BOUNDS):
                rows[b].append((counts[k], t))
        for b in BOUNDS:
            for c, t in rows[b]:
                f.write('engine_cycle_time_bucket{le="%s"} %d %.3f\n' % (b, c, t))
                n += 1
        f.write("# TYPE trade_execution_duration histogram\n")
        s = c = 0
        sums, cnts = [], []
        for t in times:
            k = rnd.randint(0, 3)
            c += k
            s += sum(rnd.uniform(0.01, 0.2) for _ in range(k))
            sums.append((s, t))
            cnts.append((c, t))
        for v, t in sums:
            f.write("trade_execution_duration_sum %r %.3f\n" % (v, t))
        for v, t in cnts:
            f.write("trade_execution_duration_count %d %.3f\n" % (v, t))
        n += 2 * len(times)
        f.write("# TYPE process_cpu_usage gauge\n")
        for t in times:
            f.write("process_cpu_usage %.2f %.3f\n" % (rnd.uniform(5, 40), t))
        f.write("# TYPE process_memory_percent gauge\n")
        for t in times:
            f.write("process_memory_percent %.3f %.3f\n" % (rnd.uniform(1, 2), t))
        n += 2 * len(times)
        f.write("# EOF\n")
    return n


QUERIES = [
    ("histogram_quantile(0.99, sum by (le) (rate(h_bucket[5m])))", "p99 over 100 histograms"),
    ("sum(rate(a_total[1m]))", "sum(rate) over 100 counters"),
    ("rate(signals_generated_total[5m])", "spec: signal rate"),
    ("increase(daily_loss_limit_triggered_total[1h])", "spec: loss-limit triggers"),
    ("histogram_quantile(0.95, sum(rate(engine_cycle_time_bucket[5m])) by (le))",
     "spec: p95 cycle time"),
    ("rate(trade_execution_duration_sum[5m]) / rate(trade_execution_duration_count[5m])",
     "spec: avg execution latency"),
]


def post(conn, path, params):
    """The raw answer, read to its last byte; an error status raises."""
    body = urllib.parse.urlencode(params)
    conn.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise RuntimeError("%s %s: %d %s" % (path, params.get("query"), r.status, data[:300]))
    return data


def wait_ready(port, path, deadline=60):
    t0 = time.time()
    while time.time() - t0 < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("server on port %d not ready" % port)


def main():
    bw, work = sys.argv[1], sys.argv[2]
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    os.makedirs(work, exist_ok=True)
    # Fresh stores every run: backfilling into a previous run's would add a second copy of
    # the data (at other times) to both, and an older breakwatch's store may not open.
    for d in ("prom", "bw"):
        shutil.rmtree(os.path.join(work, d), ignore_errors=True)
    end_s = int(time.time()) - 60
    om = os.path.join(work, "data.om")
    nsamples = generate(om, end_s)
    subprocess.run(["promtool", "tsdb", "create-blocks-from", "openmetrics", om,
                    os.path.join(work, "prom")], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([bw, "import", "--data-dir", os.path.join(work, "bw"), om], check=True,
                   stdout=subprocess.DEVNULL)
    cfg = os.path.join(work, "prometheus.yml")
    with open(cfg, "w") as f:
        f.write("global:\n  scrape_interval: 15s\n")
    pport, bport = free_port(), free_port()
    procs = [
        subprocess.Popen(["prometheus", "--config.file=" + cfg,
                          "--storage.tsdb.path=" + os.path.join(work, "prom"),
                          "--storage.tsdb.retention.time=30d",
                          "--web.listen-address=127.0.0.1:%d" % pport],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen([bw, "run", "--no-engine", "--listen", "127.0.0.1:%d" % bport,
                          "--data-dir", os.path.join(work, "bw")],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        wait_ready(pport, "/-/ready")
        wait_ready(bport, "/api/v1/status/buildinfo")
        start = end_s - 999 * STEP_S
        params = {"start": str(start), "end": str(end_s), "step": str(STEP_S)}
        print("data: %d samples in %d-s steps; queries: %d steps" % (nsamples, STEP_S, 1000))
        print("%-30s %12s %12s %12s %12s %8s" % ("query_range, 1,000 steps", "bw best ms",
                                                  "bw median", "prom best", "prom median",
                                                  "prom/bw"))
        conns = {name: http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                 for name, port in (("bw", bport), ("prom", pport))}
        ratios = []
        for q, label in QUERIES:
            p = dict(params, query=q)
            times = {}
            shapes = {}
            for name, conn in conns.items():
                d = json.loads(post(conn, "/api/v1/query_range", p))  # warm-up, shape check
                shapes[name] = (len(d["data"]["result"]),
                                sum(len(s["values"]) for s in d["data"]["result"]))
                ts = []
                for _ in range(repeat):
                    t0 = time.perf_counter()
                    post(conn, "/api/v1/query_range", p)
                    ts.append((time.perf_counter() - t0) * 1e3)
                times[name] = ts
            if shapes["bw"] != shapes["prom"]:
                print("%-30s shapes differ: breakwatch %s, Prometheus %s" %
                      (label, shapes["bw"], shapes["prom"]))
                continue
            bb, bm = min(times["bw"]), statistics.median(times["bw"])
            pb, pm = min(times["prom"]), statistics.median(times["prom"])
            ratios.append(pm / bm)
            print("%-30s %12.2f %12.2f %12.2f %12.2f %7.1fx" % (label, bb, bm, pb, pm, pm / bm))
        if ratios:
            print("geometric mean of median ratios: %.1fx (goal >= 4x)" %
                  statistics.geometric_mean(ratios))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()


if __name__ == "__main__":
    main()
