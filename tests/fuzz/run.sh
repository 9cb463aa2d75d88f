#!/usr/bin/env bash
# run.sh BUILD_DIR SECONDS [TARGET...]: runs each libFuzzer target (default: every fuzz_* in
# BUILD_DIR) for SECONDS on a working copy of its seed corpus (BUILD_DIR/fuzz/corpus/<target>, so
# the checked-in tests/fuzz/corpus changes only by hand), with tests/fuzz/<target>.dict when there
# is one, two at a time. Logs and any crashing input go to BUILD_DIR/fuzz/<target>.log and
# BUILD_DIR/fuzz/artifacts/<target>/. Prints one line per target (runs, exec/s, cov, ft, corpus
# files) and fails when any target crashed, leaked, hit undefined behaviour, timed out or ran out
# of memory.
set -u
build=${1:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
seconds=${2:?usage: run.sh BUILD_DIR SECONDS [TARGET...]}
shift 2
src=$(cd "$(dirname "$0")" && pwd)
out=$build/fuzz
mkdir -p "$out"
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in "$src"/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi

run_one() {
  local t=$1
  mkdir -p "$out/corpus/$t" "$out/artifacts/$t"
  [ -d "$src/corpus/$t" ] && cp -n "$src/corpus/$t"/* "$out/corpus/$t"/ 2>/dev/null
  local dict=()
  [ -f "$src/$t.dict" ] && dict=(-dict="$src/$t.dict")
  "$build/$t" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/$t/" "$out/corpus/$t" >"$out/$t.log" 2>&1
  echo $? >"$out/$t.rc"
}
export -f run_one
export out src seconds build
rm -f "$out"/*.rc
printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} bash -c 'run_one {}'

status=0
for t in "${targets[@]}"; do
  rc=$(cat "$out/$t.rc" 2>/dev/null || echo missing)
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$out/$t.log" | tail -1)
  runs=$(grep -oE '^stat::number_of_executed_units:[[:space:]]+[0-9]+' "$out/$t.log" | grep -oE '[0-9]+$')
  eps=$(grep -oE '^stat::average_exec_per_sec:[[:space:]]+[0-9]+' "$out/$t.log" | grep -oE '[0-9]+$')
  cov=$(echo "$done_line" | grep -oE 'cov: [0-9]+' | grep -oE '[0-9]+')
  ft=$(echo "$done_line" | grep -oE 'ft: [0-9]+' | grep -oE '[0-9]+')
  files=$(find "$out/corpus/$t" -type f | wc -l)
  if [ "$rc" = 0 ]; then
    printf '%-18s ok    runs %-9s exec/s %-7s cov %-6s ft %-6s corpus %s\n' "$t" "${runs:-?}" \
      "${eps:-?}" "${cov:-?}" "${ft:-?}" "$files"
  else
    status=1
    printf '%-18s FAIL  exit %s, see %s (inputs in %s)\n' "$t" "$rc" "$out/$t.log" \
      "$out/artifacts/$t/"
    grep -m3 -E 'ERROR: |runtime error|SUMMARY' "$out/$t.log" | sed 's/^/    /'
  fi
done
exit $status
