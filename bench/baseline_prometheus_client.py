#!/usr/bin/env python3
"""The baseline for bench_metrics.c: the same operations in Python's prometheus_client
(Debian's python3-prometheus-client) — counter increments on a resolved child (one thread, four
children in turn, two threads), histogram observations with breakwatch's default buckets and
the same spread of values, and exposition of a registry laid out like the C benchmark's.

Prints "key value" lines with the same keys as bench_metrics, for bench/run.sh. Each figure is
the best of REPS runs, like the C side. Optional argument: a scale factor for iteration counts.
"""
import os
import sys
import threading
import time

# The C registry emits no _created series; leave them out here too so the pages match.
os.environ["PROMETHEUS_DISABLE_CREATED_SERIES"] = "True"

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram  # noqa: E402
from prometheus_client import generate_latest  # noqa: E402
from prometheus_client.openmetrics.exposition import (  # noqa: E402
    generate_latest as generate_latest_om,
)

REPS = 7
SCALE = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
DEFAULT_BUCKETS = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3,
                   5e-3, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
MASK = (1 << 64) - 1


def iters(n):
    return max(1, int(n * SCALE))


def spread_values(n):
    """Log-uniform between 1e-7 and 20, the same xorshift sequence as the C benchmark."""
    x, out = 88172645463325252, []
    for _ in range(n):
        x ^= (x << 13) & MASK
        x ^= x >> 7
        x ^= (x << 17) & MASK
        out.append(1e-7 * 2e8 ** ((x >> 11) / 9007199254740992.0))
    return out


def best_ns_per_op(loop, n):
    best = float("inf")
    for _ in range(REPS):
        t0 = time.perf_counter_ns()
        loop(n)
        best = min(best, (time.perf_counter_ns() - t0) / n)
    return best


def bench_counter():
    reg = CollectorRegistry()
    family = Counter("bench_increments_total", "Increments.", ["symbol", "side"], registry=reg)
    children = [family.labels(s, side) for s in ("BTCUSDT", "ETHUSDT") for side in ("buy", "sell")]
    inc = children[0].inc
    inc1, inc2, inc3 = children[1].inc, children[2].inc, children[3].inc

    def one(n):
        for _ in range(n):
            inc()

    def four(n):
        for _ in range(n // 4):
            inc()
            inc1()
            inc2()
            inc3()

    n = iters(1e6)
    print("counter_inc_1t_ns %.3f" % best_ns_per_op(one, n))
    print("counter_inc_4c_ns %.3f" % best_ns_per_op(four, n))

    per_thread, aggregate = float("inf"), float("inf")
    for _ in range(REPS):
        barrier, spent = threading.Barrier(2), [0, 0]

        def worker(i):
            barrier.wait()
            t0 = time.perf_counter_ns()
            one(n)
            spent[i] = time.perf_counter_ns() - t0

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
        t0 = time.perf_counter_ns()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter_ns() - t0
        per_thread = min(per_thread, (spent[0] + spent[1]) / 2 / n)
        aggregate = min(aggregate, wall / (2 * n))
    print("counter_inc_2t_ns_per_thread %.3f" % per_thread)
    print("counter_inc_2t_ns_aggregate %.3f" % aggregate)


def bench_histogram():
    reg = CollectorRegistry()
    h = Histogram("bench_observe_seconds", "Observations.", buckets=DEFAULT_BUCKETS, registry=reg)
    values = spread_values(4096)
    observe = h.observe

    def loop(n):
        for i in range(n):
            observe(values[i & 4095])

    print("histogram_observe_ns %.3f" % best_ns_per_op(loop, iters(5e5)))


def fill_registry(reg):
    """The layout of fill_registry in bench_metrics.c."""
    obs = spread_values(4096)
    sig = Counter("signals_generated_total", "Signals generated.", ["symbol", "side", "regime"],
                  registry=reg)
    trades = Counter("trades_total", "Trades closed.", ["symbol", "side", "outcome"], registry=reg)
    orders = Counter("orders_total", "Orders by final status.", ["status"], registry=reg)
    state = Gauge("engine_state", "1 for the current state.", ["state"], registry=reg)
    price = Gauge("last_price", "Last traded price.", ["symbol"], registry=reg)
    pos = Gauge("position_size", "Open position size.", ["symbol"], registry=reg)
    execd = Histogram("trade_execution_duration", "Order to fill, seconds.", ["symbol"],
                      buckets=DEFAULT_BUCKETS, registry=reg)
    ws = Histogram("websocket_message_processing", "Message handling, seconds.", ["symbol"],
                   buckets=DEFAULT_BUCKETS, registry=reg)
    k = 0
    for s in range(20):
        sym = "SYM%02dUSDT" % s
        for side in ("buy", "sell"):
            for regime in ("trending", "ranging", "volatile"):
                k += 1
                sig.labels(sym, side, regime).inc(k * 7 % 1000)
            for outcome in ("win", "loss"):
                k += 1
                trades.labels(sym, side, outcome).inc(k * 13 % 500)
        price.labels(sym).set(100 + s * 1234.5678 + k * 0.01)
        pos.labels(sym).set((s % 3) * 0.125)
        child = execd.labels(sym)
        for i in range(500):
            child.observe(obs[(k + i) & 4095])
        child = ws.labels(sym)
        for i in range(2000):
            child.observe(obs[(k + 7 * i) & 4095] / 1000)
    for i, status in enumerate(("filled", "rejected", "cancelled", "expired")):
        orders.labels(status).inc(1000 + i)
    for i, st in enumerate(("idle", "scanning", "signal_wait", "managing", "halted")):
        state.labels(st).set(1 if i == 1 else 0)
    cycle = Histogram("engine_cycle_time", "Engine cycle, seconds.", buckets=DEFAULT_BUCKETS,
                      registry=reg)
    for v in obs:
        cycle.observe(v / 100)


def bench_expose(generate, key):
    reg = CollectorRegistry()
    fill_registry(reg)
    page = generate(reg)
    lines = page.count(b"\n")
    n = iters(20)
    best = float("inf")
    for _ in range(REPS):
        t0 = time.perf_counter_ns()
        for _ in range(n):
            generate(reg)
        best = min(best, (time.perf_counter_ns() - t0) / n)
    print("%s_bytes %d" % (key, len(page)))
    print("%s_lines %d" % (key, lines))
    print("%s_ns_per_line %.3f" % (key, best / lines))
    print("%s_us_per_scrape %.3f" % (key, best / 1e3))


def main():
    bench_counter()
    bench_histogram()
    bench_expose(generate_latest, "expose_text")
    bench_expose(generate_latest_om, "expose_om")


if __name__ == "__main__":
    main()
