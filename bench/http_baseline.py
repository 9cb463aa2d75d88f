#!/usr/bin/python3
"""Serves, with Python's prometheus_client, a page equivalent to a given text exposition:
the same families, types, label sets and values. It is the baseline for the /api/metrics
throughput benchmark.

usage: http_baseline.py PAGE.txt PORT
"""
import re
import sys
import time

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (CounterMetricFamily, GaugeMetricFamily,
                                    HistogramMetricFamily)

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(path):
    """Returns [(name, type, help, [(sample_name, labels dict, value)])] in page order."""
    families, current = [], None
    for line in open(path):
        line = line.rstrip('\n')
        if line.startswith('# HELP '):
            name, _, text = line[7:].partition(' ')
            current = [name, 'untyped', text, []]
            families.append(current)
        elif line.startswith('# TYPE '):
            current[1] = line[7:].split(' ')[1]
        elif line and not line.startswith('#'):
            m = LINE.match(line)
            labels = dict(LABEL.findall(m.group(3) or ''))
            current[3].append((m.group(1), labels, float(m.group(4))))
    return families


class PageCollector:
    def __init__(self, families):
        self.families = families

    def collect(self):
        for name, typ, text, samples in self.families:
            if typ == 'counter':
                base = name[:-6] if name.endswith('_total') else name
                keys = sorted({k for _, l, _ in samples for k in l})
                f = CounterMetricFamily(base, text, labels=keys)
                for _, l, v in samples:
                    f.add_metric([l.get(k, '') for k in keys], v)
            elif typ == 'histogram':
                keys = sorted({k for _, l, _ in samples for k in l if k != 'le'})
                f = HistogramMetricFamily(name, text, labels=keys)
                series = {}
                for sname, l, v in samples:
                    key = tuple(l.get(k, '') for k in keys)
                    s = series.setdefault(key, {'buckets': [], 'sum': 0.0})
                    if sname.endswith('_bucket'):
                        s['buckets'].append((l['le'], v))
                    elif sname.endswith('_sum'):
                        s['sum'] = v
                for key, s in series.items():
                    f.add_metric(list(key), s['buckets'], s['sum'])
            else:
                keys = sorted({k for _, l, _ in samples for k in l})
                f = GaugeMetricFamily(name, text, labels=keys)
                for _, l, v in samples:
                    f.add_metric([l.get(k, '') for k in keys], v)
            yield f


def main():
    registry = CollectorRegistry()
    registry.register(PageCollector(parse(sys.argv[1])))
    start_http_server(int(sys.argv[2]), addr='127.0.0.1', registry=registry)
    while True:
        time.sleep(3600)


if __name__ == '__main__':
    main()
