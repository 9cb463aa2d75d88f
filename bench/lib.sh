# Shared by the benchmark scripts that start servers: a work directory removed at exit with
# every process started through `spawn`, a free loopback port, a wait for a URL, and
# breakwatch started beside a Prometheus scraping it. Sourced.
WORK=$(mktemp -d /tmp/bw-bench.XXXXXX)
PIDS=()
bench_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap bench_cleanup EXIT

# spawn CMD...: starts CMD in the background and remembers it for the cleanup.
spawn() {
  "$@" &
  PIDS+=($!)
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_url URL: until URL answers 2xx, for at most 10 s.
wait_url() {
  for _ in $(seq 1 100); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  return 1
}

# start_pair BUILD PROM_EXTRA [BREAKWATCH ARGS...]: breakwatch (its default speed, data in
# $WORK/data) and Prometheus scraping it every second, evaluating every second, with the YAML
# line PROM_EXTRA ("" for none; e.g. "rule_files: [FILE]") added to its configuration. Sets
# BW_URL and PROM_URL once both answer.
start_pair() {
  local build=$1 extra=$2
  shift 2
  local bw_port prom_port
  bw_port=$(free_port)
  prom_port=$(free_port)
  spawn "$build/breakwatch" run --listen "127.0.0.1:$bw_port" --data-dir "$WORK/data" "$@" \
    2>"$WORK/bw.log"
  {
    echo "global: {scrape_interval: 1s, evaluation_interval: 1s}"
    [ -z "$extra" ] || echo "$extra"
    echo "scrape_configs:"
    echo "  - job_name: breakwatch"
    echo "    metrics_path: /api/metrics"
    echo "    static_configs: [{targets: ['127.0.0.1:$bw_port']}]"
  } >"$WORK/prometheus.yml"
  spawn prometheus --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prom" \
    --web.listen-address="127.0.0.1:$prom_port" >"$WORK/prom.log" 2>&1
  BW_URL="http://127.0.0.1:$bw_port"
  PROM_URL="http://127.0.0.1:$prom_port"
  wait_url "$BW_URL/api/health"
  wait_url "$PROM_URL/-/ready"
}
