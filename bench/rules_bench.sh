#!/usr/bin/env bash
# bench/rules_bench.sh BUILD_DIR [WARMUP_SECONDS] [SAMPLE_SECONDS]: the shipped rule file,
# monitoring/rules/breakwatch.rules.yml, evaluated every second by breakwatch on its own history
# and, in the same run, by Prometheus 2.42 scraping that breakwatch every second. Both report
# how long each evaluation of each group took (/api/v1/rules, evaluationTime); the table gives
# the median and the 90th percentile over the sampling period, and the ratio.
set -euo pipefail

BUILD=${1:?usage: bench/rules_bench.sh BUILD_DIR [WARMUP_SECONDS] [SAMPLE_SECONDS]}
WARMUP=${2:-60}
SAMPLE=${3:-60}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
RULES="$HERE/../monitoring/rules/breakwatch.rules.yml"

printf 'alerting:\n  rule_files: [%s]\n  evaluation_interval: 1s\n' "$RULES" >"$WORK/bw.yml"
start_pair "$BUILD" "rule_files: [$RULES]" --config "$WORK/bw.yml"
echo "(both record and evaluate for ${WARMUP}s first, then ${SAMPLE}s are sampled)"
sleep "$WARMUP"

/usr/bin/python3 - "$BW_URL" "$PROM_URL" "$SAMPLE" <<'PY'
import json, statistics, sys, time, urllib.request
bw, prom, secs = sys.argv[1], sys.argv[2], float(sys.argv[3])
seen = {bw: {}, prom: {}}  # url -> {(group, lastEvaluation): (seconds, rules)}
end = time.time() + secs
while time.time() < end:
    for url in (bw, prom):
        for g in json.load(urllib.request.urlopen(url + "/api/v1/rules"))["data"]["groups"]:
            seen[url][(g["name"], g["lastEvaluation"])] = (g["evaluationTime"], g["rules"])
    time.sleep(0.5)

def stats(url):
    group = sorted(v[0] for v in seen[url].values())
    per_rule = {}
    for _, rules in seen[url].values():
        for r in rules:
            per_rule.setdefault(r["name"], []).append(r["evaluationTime"])
    return group, per_rule

bg, br = stats(bw)
pg, pr = stats(prom)
q = lambda v, p: v[min(len(v) - 1, int(p * len(v)))]
ms = lambda s: "%.3f" % (s * 1000)
print("%-42s %12s %12s %10s" % ("ms per evaluation", "breakwatch", "Prometheus", "Prom/bw"))
for label, p in (("one group evaluation, median", 0.5), ("one group evaluation, p90", 0.9)):
    b, r = q(bg, p), q(pg, p)
    print("%-42s %12s %12s %9.1fx" % (label, ms(b), ms(r), r / b if b else 0))
print("%-42s %12d %12d" % ("group evaluations sampled", len(bg), len(pg)))
print("per rule, median:")
for name in sorted(br, key=lambda n: -statistics.median(pr.get(n, [0]))):
    b, r = statistics.median(br[name]), statistics.median(pr.get(name, [0]))
    print("  %-40s %12s %12s %9.1fx" % (name, ms(b), ms(r), r / b if b else 0))
PY
