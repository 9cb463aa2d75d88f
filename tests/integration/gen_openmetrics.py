#!/usr/bin/python3
"""Writes an OpenMetrics 1.0 file with timestamps for the differential test: the spec's metric
families (counters, gauges, histograms with 11 buckets) over several label values, one scrape
every 15 s for a couple of hours, as `promtool tsdb create-blocks-from openmetrics` reads it.

Every scrape's timestamp is jittered and has a non-zero millisecond part, while the test
evaluates queries at whole seconds: so no sample sits exactly on a window edge, where
Prometheus 2 (closed windows) and 3 (left-open windows) would disagree.

usage: gen_openmetrics.py OUT END_SECONDS [HOURS] [SEED]
"""
import random
import sys

STEP = 15
SYMBOLS = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
SIDES = ["buy", "sell"]
REGIMES = ["trending", "ranging"]
BOUNDS = ["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "1.0",
          "+Inf"]  # 11 buckets


def labels(**kv):
    return "{" + ",".join('%s="%s"' % (k, v) for k, v in kv.items()) + "}" if kv else ""


def main():
    out, end = sys.argv[1], int(sys.argv[2])
    hours = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0
    rng = random.Random(int(sys.argv[4]) if len(sys.argv) > 4 else 7)
    n = int(hours * 3600 / STEP)
    start = end - n * STEP
    # one timestamp per scrape, as a real scrape has, in ms with a non-zero ms part
    times = []
    for k in range(n):
        ms = (start + k * STEP) * 1000 + rng.randint(1000, 13000)
        if ms % 1000 == 0:
            ms += 1
        times.append(ms)

    def ts(ms):
        return "%d.%03d" % divmod(ms, 1000)

    lines = []

    def counter(name, help_, series, rate, reset_at=None):
        lines.append("# TYPE %s counter" % name)
        lines.append("# HELP %s %s" % (name, help_))
        for i, lab in enumerate(series):
            v = 0
            for k, t in enumerate(times):
                if reset_at is not None and i == 0 and k == reset_at:
                    v = 0  # a restart: the counter starts again
                elif rng.random() < rate:
                    v += rng.randint(1, 3)
                lines.append("%s_total%s %d %s" % (name, labels(**lab), v, ts(t)))

    def gauge(name, help_, series, base, spread):
        lines.append("# TYPE %s gauge" % name)
        lines.append("# HELP %s %s" % (name, help_))
        for lab in series:
            v = base
            for t in times:
                v = max(0.0, v + rng.gauss(0, spread))
                lines.append("%s%s %s %s" % (name, labels(**lab), repr(round(v, 6)), ts(t)))

    def histogram(name, help_, series, scale):
        lines.append("# TYPE %s histogram" % name)
        lines.append("# HELP %s %s" % (name, help_))
        finite = [float(b) for b in BOUNDS[:-1]]
        for lab in series:
            counts = [0] * len(BOUNDS)
            total = 0.0
            for t in times:
                for _ in range(rng.randint(0, 40)):
                    x = rng.lognormvariate(0, 1.2) * scale
                    total += x
                    i = next((j for j, b in enumerate(finite) if x <= b), len(finite))
                    counts[i] += 1
                cum = 0
                for b, c in zip(BOUNDS, counts):
                    cum += c
                    lines.append("%s_bucket%s %d %s" % (name, labels(**lab, le=b), cum, ts(t)))
                lines.append("%s_sum%s %s %s" % (name, labels(**lab), repr(round(total, 9)), ts(t)))
                lines.append("%s_count%s %d %s" % (name, labels(**lab), cum, ts(t)))

    counter("signals_generated", "Signals the strategy generated.",
            [dict(symbol=s, side=d, regime=r) for s in SYMBOLS for d in SIDES for r in REGIMES],
            0.3, reset_at=n // 2)
    counter("daily_loss_limit_triggered", "Times the daily loss limit halted trading.", [{}], 0.01)
    counter("engine_cycles", "Engine cycles.", [dict(instance="a"), dict(instance="b")], 0.95)
    gauge("process_cpu_usage", "CPU use, percent of one core.",
          [dict(instance="a"), dict(instance="b")], 20.0, 3.0)
    gauge("process_memory_percent", "Resident memory, percent of physical memory.",
          [dict(instance="a"), dict(instance="b")], 5.0, 0.2)
    gauge("positions_open", "Open positions.", [dict(symbol=s) for s in SYMBOLS], 1.0, 0.5)
    histogram("engine_cycle_time", "Time of one engine cycle.",
              [dict(instance="a"), dict(instance="b")], 0.004)
    histogram("trade_execution_duration", "Time from order to fill.",
              [dict(symbol=s) for s in SYMBOLS], 0.08)
    lines.append("# EOF")
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(start, end)


if __name__ == "__main__":
    main()
