# Shared by the benchmark scripts that start servers: a work directory removed at exit with
# every process started through `spawn`, a free loopback port, and a wait for a URL. Sourced.
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
