#!/usr/bin/env bash
# The web page in a real browser with auth on (tests/e2e/auth.mjs): a breakwatch whose
# configuration holds a viewer and an editor token made by `breakwatch token new`, the engine
# at 600x. The sign-in, a bad token turned away, a viewer who sees the data but may not add a
# note (the server says 403), an editor who adds one through the page, the live feed over the
# stream with the token as access_token. Screenshots go to $BUILDDIR/screenshots/.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/web_lib.sh"

make_tokens 'e2e-%s' viewer editor
{
  echo "auth:"
  echo "  tokens:"
  token_entries viewer editor
} >"$WORK/auth.yml"
[[ "$(tok viewer)" =~ ^bw_ ]] || fail "token new: unexpected output $(head -c 20 "$WORK/viewer.tok")"
pass "a viewer and an editor token (token new), their hashes in the configuration"

start_breakwatch auth --data-dir "$WORK/data" --config "$WORK/auth.yml" --speed 600
grep -q "auth:" "$WORK/auth.log" && ! grep -q "auth:     off" "$WORK/auth.log" || fail "auth is not on"
BW_VIEWER_TOKEN=$(tok viewer) BW_VIEWER_NAME=e2e-viewer BW_EDITOR_TOKEN=$(tok editor) \
  BW_EDITOR_NAME=e2e-editor run_e2e auth.mjs "$BW_URL" || fail "the monitoring page with auth on, end to end"
for role in viewer editor; do
  if grep -qF "$(tok "$role")" "$WORK/auth.log"; then fail "the $role token is in breakwatch's log"; fi
done
kill -TERM "$BW_PID"
wait "$BW_PID" || fail "breakwatch did not stop cleanly"
pass "clean exit; no token in the log"
