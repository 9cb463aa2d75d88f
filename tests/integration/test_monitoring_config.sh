#!/usr/bin/env bash
# The checked-in Prometheus configurations pass promtool, and the Grafana data source is the
# one the spec gives.
source "$(dirname "$0")/lib.sh"

for f in prometheus.yml prometheus.local.yml; do
  out=$(promtool check config "$SRCDIR/monitoring/$f" 2>&1) || fail "promtool check config $f: $out"
  pass "promtool check config $f"
done
grep -q "targets: \['127.0.0.1:8000'\]" "$SRCDIR/monitoring/prometheus.local.yml" || fail "local target"
grep -q "metrics_path: '/api/metrics'" "$SRCDIR/monitoring/prometheus.yml" || fail "metrics path"
python3 - "$SRCDIR/monitoring/grafana/datasources/prometheus.yml" <<'PY' || fail "grafana datasource"
import sys
text = open(sys.argv[1]).read()
for want in ("apiVersion: 1", "type: prometheus", "access: proxy", "url: http://prometheus:9090", "isDefault: true",
             "timeInterval: 5s"):
    assert want in text, want
PY
pass "grafana datasource provisioning"

python3 - "$SRCDIR/monitoring/grafana/datasources/breakwatch.yml" <<'PY' || fail "breakwatch datasource"
import sys
text = open(sys.argv[1]).read()
for want in ("apiVersion: 1", "type: prometheus", "url: http://breakwatch:8000\n",
             "timeInterval: 1s", "prometheusType: Prometheus", "httpMethod: POST"):
    assert want in text, want
PY
pass "grafana datasource pointing at breakwatch's own API"
