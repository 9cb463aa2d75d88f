#!/usr/bin/env bash
# Sessions and events survive kill -9: the killed session is marked crashed, its events are
# all there, and the next run starts a new session whose events continue after them.
source "$(dirname "$0")/lib.sh"

db="$WORK/data/breakwatch.db"
start_breakwatch one --data-dir "$WORK/data" --speed 600
sleep 3
kill -9 "$BW_PID"; wait "$BW_PID" 2>/dev/null || true

sql() { sqlite3 -readonly "$db" "$1"; }
sessions=$(sql "select count(*) from sessions")
[ "$sessions" = 1 ] || fail "expected 1 session after the first run, found $sessions"
first=$(sql "select id from sessions")
events=$(sql "select count(*) from events where session_id='$first'")
max_id=$(sql "select max(id) from events")
[ "$events" -gt 0 ] || fail "no events recorded before kill -9"
pass "first run: session $first with $events events (max id $max_id)"

start_breakwatch two --data-dir "$WORK/data" --speed 600
sleep 2
status=$(sql "select status from sessions where id='$first'")
[ "$status" = crashed ] || fail "killed session has status '$status', want crashed"
after=$(sql "select count(*) from events where session_id='$first'")
[ "$after" = "$events" ] || fail "events of the killed session changed: $events -> $after"
n=$(sql "select count(*) from sessions")
[ "$n" = 2 ] || fail "expected 2 sessions after restart, found $n"
second=$(sql "select id from sessions where id <> '$first'")
min_new=$(sql "select min(id) from events where session_id='$second'")
[ -n "$min_new" ] && [ "$min_new" -gt "$max_id" ] || fail "new events do not continue after $max_id (got $min_new)"
pass "restart: killed session crashed with all $events events; new session $second continues at id $min_new"

kill -TERM "$BW_PID"; wait "$BW_PID" || fail "breakwatch did not exit cleanly on SIGTERM"
status=$(sql "select status from sessions where id='$second'")
[ "$status" = stopped ] || fail "session ended by SIGTERM has status '$status', want stopped"
pass "SIGTERM: clean exit, session stopped"
