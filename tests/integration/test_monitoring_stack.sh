#!/usr/bin/env bash
# monitoring/: the files that run the full stack are accepted by the tools that will read
# them — promtool for both Prometheus configurations (and the rule file they name), amtool for
# Alertmanager's, Docker Compose for compose.yaml (only `config`: no engine runs here) — and
# hold together: every file compose.yaml mounts exists, Grafana's provisioning is apiVersion 1
# with UI edits of the dashboards refused and alert rules, a contact point and a notification
# policy mounted into /etc/grafana/provisioning/alerting (test_grafana_alerts.sh checks what
# they say), breakwatch starts with the stack's own
# configuration and evaluates the shipped rules, and the container image installs a package
# for every library the binary links.
source "$(dirname "$0")/lib.sh"
M="$SRCDIR/monitoring"

for f in prometheus.yml prometheus.local.yml; do
  promtool check config "$M/$f" >"$WORK/promtool.log" 2>&1 || { cat "$WORK/promtool.log" >&2; fail "promtool check config $f"; }
  grep -q 'SUCCESS: 15 rules found' "$WORK/promtool.log" || fail "$f does not load the shipped rules"
done
pass "promtool check config: prometheus.yml and prometheus.local.yml, each with the 15 shipped rules"

amtool check-config "$M/alertmanager/alertmanager.yml" >"$WORK/amtool.log" 2>&1 ||
  { cat "$WORK/amtool.log" >&2; fail "amtool check-config"; }
grep -q ' - 1 receivers' "$WORK/amtool.log" || fail "alertmanager.yml: no webhook receiver"
pass "amtool check-config: alertmanager.yml ($(grep -c '^ - ' "$WORK/amtool.log") sections)"

if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
command -v "${compose[0]}" >/dev/null || fail "neither docker compose nor docker-compose: run scripts/deps.sh"
(cd "$M" && "${compose[@]}" -f compose.yaml config) >"$WORK/compose.yml" 2>"$WORK/compose.err" ||
  { cat "$WORK/compose.err" >&2; fail "compose config"; }
python3 - "$WORK/compose.yml" "$SRCDIR" <<'PY' || fail "compose.yaml"
import os, sys, yaml
c = yaml.safe_load(open(sys.argv[1]))
services = c["services"]
assert sorted(services) == ["alertmanager", "breakout-bot-api", "grafana", "prometheus"], sorted(services)
for name, s in services.items():
    for v in s.get("volumes", []):
        src = v.split(":")[0] if isinstance(v, str) else v.get("source", "")
        if src.startswith("/"):
            assert os.path.exists(src), f"{name} mounts {src}, which does not exist"
    for p in s.get("ports", []):
        p = p if isinstance(p, str) else f'{p.get("host_ip", "")}:{p.get("published")}'
        assert p.startswith("127.0.0.1:"), f"{name} publishes {p} beyond the loopback"
build = services["breakout-bot-api"]["build"]
assert os.path.exists(os.path.join(build["context"], build.get("dockerfile", "Dockerfile")))
print("  services:", ", ".join(sorted(services)))
PY
pass "${compose[*]} config accepts compose.yaml; every mounted file exists; ports on loopback only"

python3 - "$M/grafana" <<'PY' || fail "Grafana provisioning"
import glob, sys, yaml
g = sys.argv[1]
for f in glob.glob(g + "/datasources/*.yml"):
    d = yaml.safe_load(open(f))
    assert d["apiVersion"] == 1 and d["datasources"], f
p = yaml.safe_load(open(g + "/dashboards.yml"))
assert p["apiVersion"] == 1
prov = p["providers"][0]
assert prov["allowUiUpdates"] is False and prov["disableDeletion"] is True, prov
assert prov["options"]["path"] == "/var/lib/grafana/dashboards", prov
alerting = {}
for f in glob.glob(g + "/alerting/*.yml"):
    d = yaml.safe_load(open(f))
    assert d["apiVersion"] == 1, f
    alerting.update(d)
assert alerting.get("groups") and alerting.get("contactPoints") and alerting.get("policies"), sorted(alerting)
PY
python3 - "$WORK/compose.yml" "$M/grafana/alerting" <<'PY' || fail "compose.yaml does not mount grafana/alerting where Grafana reads alerting provisioning"
import os, sys, yaml
vols = [v.split(":")[:2] if isinstance(v, str) else [v.get("source", ""), v.get("target")]
        for v in yaml.safe_load(open(sys.argv[1]))["services"]["grafana"]["volumes"]]
assert any(t == "/etc/grafana/provisioning/alerting" and os.path.exists(s) and os.path.samefile(s, sys.argv[2])
           for s, t in vols), vols
PY
pass "Grafana provisioning: data sources, a dashboards provider that refuses UI edits, alert rules with a contact point and a policy, mounted"

# breakwatch with the stack's configuration (the address and directories made local).
grep -qx 'dashboards_dir: /etc/breakwatch/dashboards' "$M/breakwatch.yml" || fail "breakwatch.yml's dashboards_dir"
start_breakwatch stack --config "$M/breakwatch.yml" --listen 127.0.0.1:0 --data-dir "$WORK/data" \
  --dashboards-dir "$M/grafana/dashboards"
wait_for 10 sh -c "curl -fsS '$BW_URL/api/v1/rules' | grep -q '\"health\":\"ok\"'" || fail "rules never evaluated"
curl -fsS "$BW_URL/api/v1/rules" | python3 -c '
import json, sys
groups = [g["name"] for g in json.load(sys.stdin)["data"]["groups"]]
assert groups == ["breakwatch-engine", "breakwatch-risk", "breakwatch-process", "breakwatch-meta"], groups
print("  groups:", ", ".join(groups))' || fail "the stack configuration's rules"
curl -fsS "$BW_URL/api/dashboards" | python3 -c '
import glob, json, sys
got = sorted(d["uid"] for d in json.load(sys.stdin)["data"])
want = sorted(json.load(open(f))["uid"] for f in glob.glob(sys.argv[1] + "/*.json"))
assert got == want, (got, want)' "$M/grafana/dashboards" || fail "the stack's breakwatch does not serve the dashboards"
pass "breakwatch runs with monitoring/breakwatch.yml, evaluates the shipped rules and serves the dashboards"

# Every library the binary links comes from a package the image installs (or the base image's
# libc6 and zlib1g).
arch=$(gcc -print-multiarch)
runtime=$(awk '/^FROM debian:12-slim/,0' "$SRCDIR/Dockerfile")
missing=()
for so in $(readelf -d "$BREAKWATCH" | awk '/NEEDED/ {gsub(/[][]/, "", $5); print $5}'); do
  [[ $so == libasan* || $so == libubsan* ]] && continue # the sanitizer build's own
  pkg=$(dpkg -S "*/$arch/$so" 2>/dev/null | head -n1 | cut -d: -f1)
  [ -n "$pkg" ] || fail "no package provides $so"
  case $pkg in libc6 | zlib1g) continue ;; esac
  grep -qw -- "$pkg" <<<"$runtime" || missing+=("$pkg ($so)")
done
[ ${#missing[@]} -eq 0 ] || fail "the Dockerfile's runtime stage lacks: ${missing[*]}"
pass "the Dockerfile's runtime stage installs every library breakwatch links"
