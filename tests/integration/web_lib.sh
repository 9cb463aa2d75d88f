# Shared by the browser tests (test_web_*.sh): what they need, where screenshots go, and how a
# tests/e2e script is run. Sourced after lib.sh, not run.

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || fail "no Chromium at $CHROMIUM: run scripts/deps.sh (it installs Debian's chromium)"
command -v node >/dev/null || fail "no node: run scripts/deps.sh"
[ -f "$SRCDIR/web/node_modules/playwright-core/package.json" ] ||
  fail "web/node_modules/playwright-core is missing: run scripts/deps.sh (npm ci in web/)"
export CHROMIUM

# Under ASan + UBSan breakwatch is several times slower: every wait in the scripts stretches.
E2E_SLOW=1
[ "${BW_SANITIZE:-OFF}" = ON ] && E2E_SLOW=3
export BW_E2E_SLOW=$E2E_SLOW

SHOTS="${BUILDDIR:-$(dirname "$BREAKWATCH")}/screenshots"
mkdir -p "$SHOTS"

# run_e2e SCRIPT URL: runs tests/e2e/SCRIPT against URL, screenshots into $SHOTS (a failed
# step's as FAILED-<script>-<step>.png); its own "ok:" and "FAIL:" lines go to the output.
# Bounded, so that a stuck browser cannot hang ctest.
run_e2e() {
  local script=$1 url=$2
  rm -f "$SHOTS/FAILED-${script%.mjs}-"*.png # from an earlier run
  timeout --kill-after=10 $((240 * E2E_SLOW)) node "$SRCDIR/tests/e2e/$script" "$url" "$SHOTS"
}
