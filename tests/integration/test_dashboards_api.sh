#!/usr/bin/env bash
# GET /api/dashboards and /api/dashboards/{uid}: the dashboard files of --dashboards-dir as the
# page renders them. A copy of monitoring/grafana/dashboards/ plus broken files: the list names
# every usable file's uid, title and tags (read here from the files with Python), and every
# broken one with its error (bad JSON at the line and column Python's own parser reports, a
# missing uid, a uid another file already has); a dashboard comes back byte for byte as its
# file; an edit shows at the next request; unknown uids are 404; no directory is a warning.
source "$(dirname "$0")/lib.sh"
DIR="$WORK/dashboards"
mkdir -p "$DIR"
cp "$SRCDIR"/monitoring/grafana/dashboards/*.json "$DIR/"
printf '{\n  "uid": "broken",\n  "title": oops\n}\n' >"$DIR/zz-bad.json"
printf '{"title": "No uid"}' >"$DIR/zz-nouid.json"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1])); d["title"] = "Second overview"
json.dump(d, open(sys.argv[2], "w"))' "$DIR/overview.json" "$DIR/zz-dup.json"
echo '{"uid": "hidden", "title": "dot file"}' >"$DIR/.hidden.json"
echo 'not a dashboard' >"$DIR/notes.txt"

start_breakwatch dash --data-dir "$WORK/data" --dashboards-dir "$DIR"
curl -fsS "$BW_URL/api/dashboards" >"$WORK/list.json" || fail "GET /api/dashboards"
python3 - "$DIR" "$WORK/list.json" <<'PY' || fail "the list"
import glob, json, os, sys
d, got = sys.argv[1], json.load(open(sys.argv[2]))
assert got["status"] == "success" and "warnings" not in got, got
by_file = {e["file"]: e for e in got["data"]}
names = sorted(os.path.basename(f) for f in glob.glob(os.path.join(d, "*.json")))
assert [e["file"] for e in got["data"]] == names, ([e["file"] for e in got["data"]], names)
for f in names:
    if f.startswith("zz-"):
        continue
    doc = json.load(open(os.path.join(d, f)))
    want = {"file": f, "uid": doc["uid"], "title": doc["title"], "tags": doc["tags"]}
    assert by_file[f] == want, (by_file[f], want)
try:
    json.load(open(os.path.join(d, "zz-bad.json")))
except json.JSONDecodeError as e:
    pos = f"zz-bad.json:{e.lineno}:{e.colno}: not JSON"
assert by_file["zz-bad.json"] == {"file": "zz-bad.json", "error": pos}, (by_file["zz-bad.json"], pos)
assert "\"uid\" must be" in by_file["zz-nouid.json"]["error"], by_file["zz-nouid.json"]
ov = json.load(open(os.path.join(d, "overview.json")))["uid"]
assert by_file["zz-dup.json"]["error"] == f'zz-dup.json: uid "{ov}" is already overview.json\'s', by_file["zz-dup.json"]
print(len(names) - 3, "dashboards,", 3, "errors:", pos)
PY
pass "the list: every file's uid, title and tags; bad JSON, no uid and a duplicate uid named"

for f in "$SRCDIR"/monitoring/grafana/dashboards/*.json; do
  uid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uid"])' "$f")
  curl -fsS "$BW_URL/api/dashboards/$uid" >"$WORK/one.json" || fail "GET /api/dashboards/$uid"
  python3 - "$f" "$WORK/one.json" <<'PY' || fail "dashboard $uid is not its file"
import sys
want = open(sys.argv[1], "rb").read()
got = open(sys.argv[2], "rb").read()
head, tail = b'{"status":"success","data":', b'}'
assert got.startswith(head) and got.endswith(tail) and got[len(head):-1] == want, sys.argv[1]
PY
done
pass "each dashboard comes back byte for byte as its file"

python3 - "$DIR/overview.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["panels"][0]["title"] = "Edited title"
json.dump(d, open(sys.argv[1], "w"), indent=2)
PY
ov=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uid"])' "$DIR/overview.json")
got=$(curl -fsS "$BW_URL/api/dashboards/$ov" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["panels"][0]["title"])')
[ "$got" = "Edited title" ] || fail "an edited file: first panel title '$got'"
pass "an edited file shows at the next request"

for uid in nope broken hidden "..%2F$ov"; do
  code=$(curl -s -o "$WORK/404.json" -w '%{http_code}' "$BW_URL/api/dashboards/$uid")
  [ "$code" = 404 ] || fail "uid $uid: status $code"
  grep -q '"errorType":"not_found"' "$WORK/404.json" || fail "uid $uid: $(cat "$WORK/404.json")"
done
msg=$(curl -s "$BW_URL/api/dashboards/broken" | python3 -c 'import json,sys; print(json.load(sys.stdin)["error"])')
[ "$msg" = 'no dashboard with uid "broken"; 2 files could not be read: zz-bad.json:3:12: not JSON, …' ] ||
  fail "a uid whose file is broken: $msg"
pass "unknown, broken, hidden and traversing uids: 404 not_found, naming the files that could not be read"
kill -TERM "$BW_PID"; wait "$BW_PID" || fail "breakwatch did not stop cleanly"

# More files than are served: the first 256 by name, whatever order the directory lists them in.
mkdir -p "$WORK/many"
for i in $(shuf -i 0-299); do
  printf '{"uid":"d%03d","title":"D %d"}' "$i" "$i" >"$WORK/many/d$(printf %03d "$i").json"
done
start_breakwatch many --data-dir "$WORK/data-many" --dashboards-dir "$WORK/many"
curl -fsS "$BW_URL/api/dashboards" | python3 -c '
import json, sys
got = json.load(sys.stdin)
assert [d["uid"] for d in got["data"]] == ["d%03d" % i for i in range(256)], [d["uid"] for d in got["data"]][:5]
assert got["warnings"] == ["300 dashboard files in %s: only the first 256 by name are served" % sys.argv[1]], got["warnings"]' "$WORK/many" ||
  fail "300 files"
pass "300 files: the first 256 by name, and a warning saying so"
kill -TERM "$BW_PID"; wait "$BW_PID" || fail "breakwatch did not stop cleanly"

start_breakwatch nodir --data-dir "$WORK/data"
curl -fsS "$BW_URL/api/dashboards" >"$WORK/none.json"
python3 - "$WORK/none.json" <<'PY' || fail "no directory: $(cat "$WORK/none.json")"
import json, sys
got = json.load(open(sys.argv[1]))
assert got["data"] == [] and got["warnings"] == [
    "no dashboards directory is set (dashboards_dir, --dashboards-dir)"], got
PY
kill -TERM "$BW_PID"; wait "$BW_PID" || fail "breakwatch did not stop cleanly"
start_breakwatch missing --data-dir "$WORK/data" --dashboards-dir "$WORK/nowhere"
curl -fsS "$BW_URL/api/dashboards" | grep -q "cannot read the dashboards directory $WORK/nowhere: No such file or directory" ||
  fail "a missing directory: $(curl -sS "$BW_URL/api/dashboards")"
pass "no directory set, or a missing one: an empty list with a warning saying so"
