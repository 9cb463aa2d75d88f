#!/usr/bin/env bash
# bench/web_bench.sh BUILD_DIR [WARMUP_SECONDS] [CPU_SECONDS]: the web page's budgets in
# Debian's Chromium (web_bench.mjs) — first load, JavaScript + CSS transferred, and the tab's
# CPU with 1 s live updates — beside Prometheus 2.42's own web UI scraping the same
# breakwatch. breakwatch runs at its default speed, as `make run` starts it.
set -euo pipefail

BUILD=${1:?usage: bench/web_bench.sh BUILD_DIR [WARMUP_SECONDS] [CPU_SECONDS]}
WARMUP=${2:-60}
CPU_SECONDS=${3:-30}
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/lib.sh"
TMP=$WORK

start_pair "$BUILD" ""
echo "(both record for ${WARMUP}s first, so the charts have a minute of history)"
sleep "$WARMUP"

node "$HERE/web_bench.mjs" "$BW_URL" "$PROM_URL" 5 \
  "$CPU_SECONDS" >"$TMP/web.txt"
awk '
  { v[$1] = $2 }
  function row(label, bw, prom, goal, cmp,   ratio, verdict) {
    ratio = (bw > 0 && prom != "") ? sprintf("%.2fx", prom / bw) : "-"
    verdict = goal == "" ? "" : ((cmp == "<=" ? bw + 0 <= goal + 0 : bw + 0 >= goal + 0) ? cmp " " goal " ok" : cmp " " goal " MISSED")
    printf "%-52s %12s %12s %10s  %s\n", label, bw, prom, ratio, verdict
  }
  END {
    printf "%-52s %12s %12s %10s  %s\n", "measure", "breakwatch", "Prometheus", "Prom/bw", "goal"
    row("first load until data shows, ms (median of 5, cold)", v["breakwatch_first_load_ms"], v["prometheus_first_load_ms"], 1000, "<=")
    row("JavaScript + CSS transferred, KB (gzip)", v["breakwatch_js_css_kb"], v["prometheus_js_css_kb"], 300, "<=")
    row("tab CPU, % of one core, live 1 s updates", v["breakwatch_cpu_live_pct"], v["prometheus_cpu_pct"], 10, "<=")
    row("tab CPU, % of one core, auto-refresh off", v["breakwatch_cpu_paused_pct"], v["prometheus_cpu_pct"], "", "")
  }' "$TMP/web.txt"
echo "# Prometheus: its classic /graph page drawing the spec's p95 cycle-time query (it does not refresh by itself)"
