#!/usr/bin/env bash
# A database breakwatch cannot use is refused at start, clearly and in bounded time, and left
# as it was: (a) a data directory and database it may not write (breakwatch run as nobody, the
# files root's), a database file it may not write in a directory it may, and a read-only file
# system (a tmpfs remounted read-only; this needs root, as CI has); (b) the database
# write-locked by another process (a Python sqlite3 connection holding BEGIN EXCLUSIVE);
# (c) a file that is not a database. Each: exit status 1 within 15 s (the busy timeout is 5 s),
# an error naming the file and the reason, and the file's bytes unchanged.
source "$(dirname "$0")/lib.sh"

DATA="$WORK/data"
DB="$DATA/breakwatch.db"
chmod 755 "$WORK" # nobody must reach the data directory to be refused by it

# A real data directory with history in it, stopped cleanly.
start_breakwatch seed --data-dir "$DATA" --speed 120 --scrape-interval 0.5
sleep 2
kill -TERM "$BW_PID"
wait "$BW_PID" || fail "the first run did not stop cleanly"
integrity_check "$DB"

# refused NAME WANT_FILE WANT_REASON [PREFIX...]: runs breakwatch (after PREFIX, e.g. setpriv)
# on $DATA, which must exit with status 1 within 15 s saying WANT_FILE and WANT_REASON (an
# extended regex), and leave the database's bytes as they were.
refused() {
  local name=$1 file=$2 reason=$3; shift 3
  local before after t0 t1 status=0
  before=$(md5sum <"$DB")
  t0=$(date +%s%N)
  timeout 30 "$@" "$BREAKWATCH" run --listen 127.0.0.1:0 --data-dir "$DATA" --speed 120 \
    >"$WORK/$name.out" 2>&1 || status=$?
  t1=$(date +%s%N)
  after=$(md5sum <"$DB")
  local ms=$(((t1 - t0) / 1000000))
  [ "$status" = 1 ] || { cat "$WORK/$name.out" >&2; fail "$name: exit status $status, want 1"; }
  [ "$ms" -lt 15000 ] || fail "$name: took $ms ms to give up"
  grep -qF "$file" "$WORK/$name.out" && grep -qE "$reason" "$WORK/$name.out" ||
    { cat "$WORK/$name.out" >&2; fail "$name: the error does not name $file and /$reason/"; }
  [ "$before" = "$after" ] || fail "$name: the database changed"
  pass "$name: exit 1 after $ms ms: $(grep -m1 'breakwatch:' "$WORK/$name.out")"
}

# (a) Read-only: nothing in the directory is nobody's.
AS_NOBODY=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
refused read-only-dir "$DATA/" "Permission denied|readonly|read-only" "${AS_NOBODY[@]}"
# The directory and the lock nobody's, the database still root's and read-only.
chown nobody:nogroup "$DATA" "$DATA/breakwatch.lock"
chmod 444 "$DB"
refused read-only-db "$DB" "Permission denied|readonly|read-only" "${AS_NOBODY[@]}"
[ -z "$(find "$DATA" -user nobody ! -name breakwatch.lock ! -path "$DATA")" ] ||
  fail "the refused start left files behind: $(ls -la "$DATA")"
chown root:root "$DATA" "$DATA/breakwatch.lock"
chmod 644 "$DB"
# A read-only file system (a tmpfs remounted read-only), which binds root too.
RO="$WORK/ro"
mkdir -p "$RO"
mount -t tmpfs -o size=16m tmpfs "$RO" || fail "cannot mount a tmpfs for the read-only file system case"
trap 'umount "$RO" 2>/dev/null || umount -l "$RO"; cleanup' EXIT
cp -a "$DATA/." "$RO/"
mount -o remount,ro "$RO" || fail "cannot remount the tmpfs read-only"
DATA_RW=$DATA DB_RW=$DB
DATA=$RO DB="$RO/breakwatch.db"
refused read-only-fs "$RO/" "Read-only file system"
DATA=$DATA_RW DB=$DB_RW

# (b) Locked: another process holds the write lock until told to go.
python3 - "$DB" "$WORK/locked" "$WORK/unlock" <<'PY' &
import os, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN EXCLUSIVE")
open(sys.argv[2], "w").close()
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
c.execute("ROLLBACK")
PY
LOCKER=$!
PIDS+=("$LOCKER")
wait_for 10 test -e "$WORK/locked" || fail "the locking process did not start"
refused locked "$DB" "locked|busy"
touch "$WORK/unlock"
wait "$LOCKER" || fail "the locking process failed"
integrity_check "$DB"

# (c) Not a database: the same bytes are there afterwards.
python3 -c 'import sys; open(sys.argv[1], "wb").write(b"this is not a database\n" * 4096)' "$DB"
rm -f "$DB-wal" "$DB-shm"
refused not-a-database "$DB" "not a database"
[ ! -e "$DB-wal" ] || fail "a write-ahead log was created beside the file that is not a database"
