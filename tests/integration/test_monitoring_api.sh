#!/usr/bin/env bash
# The monitoring API under /api/monitoring, against a real breakwatch running the engine at
# high speed: every endpoint's shape and values that must hold between them (the process
# flow against the checkpoints, the state timeline against the events, the live state machine
# against the one counted from the events), the event list's paging and filters, parameter
# errors that name the parameter, and the event stream — live ids increasing, a resume with
# Last-Event-ID giving exactly the events after it. Then a restart: two sessions, one active;
# a run of set duration ends with its summary, and /realtime stays a few milliseconds.
source "$(dirname "$0")/lib.sh"

# No daily loss limit to speak of: a halted engine (until the next simulated day) sends no
# events, and the stream checks below need live ones.
start_breakwatch one --data-dir "$WORK/data" --speed 3600 --scrape-interval 0.5 --daily-loss-limit 0.9
M="$BW_URL/api/monitoring"
enough() {
  [ "$(curl -s "$M/events?limit=1000" | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))')" -ge 400 ]
}
wait_for 60 enough || fail "fewer than 400 events after a minute"
sleep 2 # a few scrapes of history for the percentiles

python3 - "$M" <<'PY' || fail "monitoring endpoints"
import json, sys, urllib.error, urllib.request

M = sys.argv[1]


def get(path, status=200):
    try:
        r = urllib.request.urlopen(M + path, timeout=30)
        code, raw = r.status, r.read()
        ctype = r.headers["Content-Type"]
    except urllib.error.HTTPError as e:
        code, raw, ctype = e.code, e.read(), e.headers["Content-Type"]
    assert code == status, (path, code, raw[:300])
    assert ctype == "application/json", (path, ctype)
    return json.loads(raw)


def check(name):
    print("ok: " + name)


# Sessions: the running one.
s = get("/sessions")["sessions"]
assert len(s) == 1, s
sess = s[0]
assert sess["status"] == "running" and sess["active"] is True and sess["ended_ms"] is None, sess
assert sess["mode"] == "paper" and sess["summary"] is None and sess["config"]["speed"] == 3600, sess
assert len(sess["id"]) == 36 and sess["started_ms"] > 1.7e12, sess
assert get("/sessions?active=true")["sessions"] == s
SID = sess["id"]
check("sessions: the running one, active")

# One session's view.
d = get("/sessions/" + SID)
assert d["session"]["id"] == SID
tl = d["state_timeline"]
assert len(tl) >= 10, tl
states = {"idle", "scanning", "signal_wait", "managing", "halted"}
for a, b in zip(tl, tl[1:]):
    assert a["sim_to_ms"] == b["sim_from_ms"] and a["state"] != b["state"], (a, b)
    assert a["sim_from_ms"] <= a["sim_to_ms"] and a["state"] in states, a
assert tl[0]["state"] == "idle" and tl[-1]["sim_to_ms"] is None, (tl[0], tl[-1])
stages = d["process_flow"]["stages"]
assert [x["stage"] for x in stages] == ["feed", "scan", "signal", "confirm", "risk", "execute",
                                         "manage", "close"], stages
assert stages[0]["conversion"] is None and stages[0]["count"] > 10000, stages[0]
assert 0 < stages[0]["latency_ms"] < 1 and 0 < stages[1]["latency_ms"] < 10, stages[:2]
for prev, x in zip(stages, stages[1:]):
    if prev["count"]:
        assert abs(x["conversion"] - x["count"] / prev["count"]) < 1e-9, (prev, x)
by = {x["stage"]: x for x in stages}
assert by["signal"]["count"] >= by["confirm"]["count"] >= by["execute"]["count"] >= by["close"]["count"] > 0, stages
assert by["manage"]["count"] == by["execute"]["count"], stages
assert by["confirm"]["latency_ms"] >= 60000, by["confirm"]  # at least one candle
assert 100 < by["execute"]["latency_ms"] < 250, by["execute"]  # latency_ms_mean 150
cps = get("/sessions/%s/checkpoints" % SID)["checkpoints"]
ids = [c["id"] for c in cps]
assert ids == sorted(ids) and len(set(ids)) == len(ids), "checkpoints not oldest first"
trades = {}
for c in cps:
    if c["correlation_id"]:
        trades.setdefault(c["correlation_id"], set()).add(c["name"])
# The view and the checkpoints were read apart: the view's counts are at most the later read's.
assert by["signal"]["count"] <= sum("signal" in t for t in trades.values()), by["signal"]
assert by["close"]["count"] <= sum("closed" in t for t in trades.values()), by["close"]
p = d["progress"]
assert [m["name"] for m in p["session"]["milestones"]] == [
    "session_started", "first_scan", "first_signal", "first_order", "first_fill",
    "first_trade_closed", "session_ended"], p
assert p["session"]["milestones"][0]["sim_ms"] == p["session"]["sim_start_ms"] == tl[0]["sim_from_ms"]
assert p["session"]["milestones"][-1]["sim_ms"] is None and p["session"]["fraction"] is None, p
assert p["session"]["sim_now_ms"] > p["session"]["sim_start_ms"], p
t = p["trade"]
assert t["correlation_id"] in trades and t["stage"] in (
    "signal", "confirm", "execute", "manage", "closed", "abandoned"), t
assert [x["name"] for x in t["steps"]][:5] == ["signal", "confirmed", "order_submitted", "filled",
                                               "closed"], t
check("session view: %d stays, %d signals -> %d closed, latest trade %s at %s" % (
    len(tl), by["signal"]["count"], by["close"]["count"], t["correlation_id"], t["stage"]))

# The state machine, live, against the timeline.
sm = get("/state-machine")
assert sm["session_id"] == SID and sm["current"] in states, sm
assert [x["name"] for x in sm["states"]] == ["idle", "scanning", "signal_wait", "managing", "halted"]
declared = [e for e in sm["edges"] if e["declared"]]
assert len(declared) == 11 and all(e["meaning"] for e in declared), sm["edges"]
assert sum(e["count"] for e in sm["edges"]) >= len(tl) - 1, (sm["edges"], len(tl))
for x in sm["states"]:
    assert x["entries"] == 0 and x["dwell_seconds_mean"] is None or \
        abs(x["dwell_seconds_mean"] - x["dwell_seconds_total"] / x["entries"]) < 1e-6, x
check("state machine: %s, %d transitions" % (sm["current"], sum(e["count"] for e in sm["edges"])))

# Real time.
rt = get("/realtime")
assert rt["engine"] == "running" and rt["session_id"] == SID and rt["state"] in states, rt
assert rt["counts"]["cycles"] > 1000 and rt["counts"]["signals"] > 0, rt["counts"]
assert rt["memory_bytes"] > 1e6 and 0 < rt["memory_percent"] < 100, rt
assert rt["cycle_time_ms"]["p50"] > 0 and rt["cycle_time_ms"]["p99"] >= rt["cycle_time_ms"]["p50"], rt
assert rt["message_processing_ms"]["p95"] > 0 and rt["scan_rate"] > 0, rt
assert 0 <= rt["risk_budget_remaining"] <= 1 and rt["equity"] > 0, rt
sp = rt["sparklines"]
assert set(sp) == {"cpu_percent", "memory_bytes", "cycle_time_p95_ms", "scan_rate", "signal_rate",
                   "equity", "positions_open", "risk_budget_remaining"}, sp
assert 2 <= len(sp["memory_bytes"]) <= 60 and all(v is None or v > 0 for v in sp["memory_bytes"]), sp
check("realtime: %s, cycle p50 %.4f ms, %d sparkline points" % (
    rt["state"], rt["cycle_time_ms"]["p50"], len(sp["memory_bytes"])))

# Events: three pages, newest first, no overlap.
pages, before = [], None
for _ in range(3):
    q = "/events?limit=100" + ("&before=%d" % before if before else "")
    e = get(q)
    assert len(e["events"]) == 100 and e["next"] == e["events"][-1]["id"], q
    pages.append([x["id"] for x in e["events"]])
    before = e["next"]
flat = [i for pg in pages for i in pg]
assert all(a > b for a, b in zip(flat, flat[1:])), "pages not strictly decreasing"
assert len(set(flat)) == 300
one = get("/events?limit=1000")["events"]
assert flat == [x["id"] for x in one[:300]] or flat[0] < one[0]["id"], "pages differ from one read"
check("events: 3 pages of 100, strictly decreasing, no duplicates")

# Filters.
e = get("/events?type=fill,close&limit=200")["events"]
assert e and {x["type"] for x in e} == {"fill", "close"}, {x["type"] for x in e}
rank = ["debug", "info", "warning", "error", "critical"]
e = get("/events?severity=warning&limit=200")["events"]
assert e and all(rank.index(x["severity"]) >= 2 for x in e), e[:3]
e = get("/events?symbol=BTCUSDT,ETHUSDT&limit=200")["events"]
assert e and {x["symbol"] for x in e} <= {"BTCUSDT", "ETHUSDT"}, {x["symbol"] for x in e}
fill = get("/events?type=fill&limit=1")["events"][0]
chain = get("/events?correlation_id=" + fill["correlation_id"])["events"]
assert {x["correlation_id"] for x in chain} == {fill["correlation_id"]}, chain
assert {"signal", "order", "fill"} <= {x["type"] for x in chain}, [x["type"] for x in chain]
e = get("/events?session=%s&type=state_change&limit=1000" % SID)["events"]
assert e and all(x["session_id"] == SID and x["type"] == "state_change" for x in e)
assert all(set(x["data"]) == {"from", "to", "dwell_seconds"} for x in e), e[0]
check("filters: type, severity, symbol, correlation_id (%d events), session" % len(chain))

# Errors name the parameter.
for path, name in [("/events?limit=0", "limit"), ("/events?limit=1001", "limit"),
                   ("/events?limit=x", "limit"), ("/events?before=-3", "before"),
                   ("/events?severity=loud", "severity"), ("/events?type=a,,b", "type"),
                   ("/sessions?active=maybe", "active"), ("/sessions?limit=5000", "limit"),
                   ("/events/stream?last_event_id=x", "last_event_id")]:
    err = get(path, 400)
    assert err["status"] == "error" and err["errorType"] == "bad_data", err
    assert err["error"].startswith('invalid parameter "%s"' % name), (path, err)
for path in ["/sessions/nope", "/sessions/nope/checkpoints", "/events?session=nope",
             "/state-machine?session=nope"]:
    err = get(path, 404)
    assert err["errorType"] == "not_found", err
check("errors: 400 naming the parameter, 404 for an unknown session")
PY

# The stream: live ids increasing.
timeout 3 curl -sN "$M/events/stream" >"$WORK/live.sse" || true
python3 - "$WORK/live.sse" <<'PY' || fail "live stream"
import json, sys
text = open(sys.argv[1]).read()
assert text.startswith("retry: 2000\n\n"), text[:100]
ids = [int(l[4:]) for l in text.splitlines() if l.startswith("id: ")]
data = [json.loads(l[6:]) for l in text.splitlines() if l.startswith("data: ")]
assert len(ids) >= 20 and all(a < b for a, b in zip(ids, ids[1:])), ids[:20]
assert [x["id"] for x in data] == ids
print("ok: live stream: %d events in 3 s, ids %d..%d increasing" % (len(ids), ids[0], ids[-1]))
PY

# A resume: exactly the events after N, then the live ones, against /events.
N=$(curl -s "$M/events?limit=300" | python3 -c 'import json,sys; print(json.load(sys.stdin)["events"][-1]["id"])')
timeout 3 curl -sN -H "Last-Event-ID: $N" "$M/events/stream" >"$WORK/resume.sse" || true
timeout 3 curl -sN "$M/events/stream?last_event_id=$N&type=fill,order&severity=info" \
  >"$WORK/resume-filtered.sse" || true
python3 - "$M" "$N" "$WORK/resume.sse" "$WORK/resume-filtered.sse" <<'PY' || fail "resumed stream"
import json, sys, urllib.request
M, N = sys.argv[1], int(sys.argv[2])


def stream_ids(path):
    return [int(l[4:]) for l in open(path).read().splitlines() if l.startswith("id: ")]


def events_after(n, q=""):
    out, before = [], None
    while True:
        u = M + "/events?limit=1000" + q + ("&before=%d" % before if before else "")
        d = json.load(urllib.request.urlopen(u))
        out += [x["id"] for x in d["events"] if x["id"] > n]
        if d["next"] is None or d["next"] <= n:
            return sorted(out)
        before = d["next"]


got = stream_ids(sys.argv[3])
assert len(got) > 300 and got[0] == N + 1, got[:5]
want = [i for i in events_after(N) if i <= got[-1]]
assert got == want, "resume differs from /events (%d vs %d ids)" % (len(got), len(want))
print("ok: resume after %d: %d events, the same ids as /events, no gap or duplicate" % (N, len(got)))
got = stream_ids(sys.argv[4])
want = [i for i in events_after(N, "&type=fill,order&severity=info") if i <= got[-1]]
assert got and got == want, (got[:5], want[:5])
print("ok: filtered resume: %d fills and orders, as /events has them" % len(got))
PY

# /realtime latency, as the page polls it.
for _ in $(seq 1 20); do curl -s -o /dev/null -w '%{time_total}\n' "$M/realtime"; done >"$WORK/rt.times"
python3 - "$WORK/rt.times" "${BW_SANITIZE:-OFF}" <<'PY' || fail "realtime latency"
import sys
t = sorted(float(x) * 1000 for x in open(sys.argv[1]))
print("ok: /realtime median %.2f ms, max %.2f ms over %d calls" % (t[len(t) // 2], t[-1], len(t)))
# A few ms; generous bounds for a loaded machine, and ten times that under the sanitizers.
assert t[len(t) // 2] < (250 if sys.argv[2] == "ON" else 25), t
PY

# Restart, with a set duration: two sessions, one active; once done, its summary and the
# state machine counted from its events agree with the engine's own counts.
kill -TERM "$BW_PID"; wait "$BW_PID" || fail "breakwatch did not stop cleanly"
start_breakwatch two --data-dir "$WORK/data" --speed 3600 --scrape-interval 0.5 --duration 21600
M="$BW_URL/api/monitoring"
python3 - "$M" <<'PY' || fail "after the restart"
import json, sys, urllib.request
M = sys.argv[1]
s = json.load(urllib.request.urlopen(M + "/sessions"))["sessions"]
assert len(s) == 2 and s[0]["status"] == "running" and s[1]["status"] == "stopped", s
assert s[1]["summary"]["messages"] > 0 and s[1]["ended_ms"] >= s[1]["started_ms"], s[1]
a = json.load(urllib.request.urlopen(M + "/sessions?active=true"))["sessions"]
assert [x["id"] for x in a] == [s[0]["id"]], a
d = json.load(urllib.request.urlopen(M + "/sessions/" + s[1]["id"]))
f = d["process_flow"]["stages"]
assert f[0]["count"] == s[1]["summary"]["messages"] and f[1]["count"] == s[1]["summary"]["scans"], f
assert d["state_timeline"][-1]["sim_to_ms"] == s[1]["summary"]["sim_end_ms"], d["state_timeline"][-1]
print("ok: restart: 2 sessions, the stopped one with its summary; ?active=true lists the new one")
PY
done_run() { curl -s "$BW_URL/api/health" | grep -q '"run":"completed"'; }
wait_for 60 done_run || fail "the 6 simulated hours did not complete"
python3 - "$M" <<'PY' || fail "completed session"
import json, sys, urllib.request
M = sys.argv[1]
get = lambda p: json.load(urllib.request.urlopen(M + p))
sid = get("/sessions")["sessions"][0]["id"]
live, counted = get("/state-machine"), get("/state-machine?session=" + sid)
assert live["session_id"] == counted["session_id"] == sid
assert live["current"] == counted["current"] and live["since_sim_ms"] == counted["since_sim_ms"]
assert live["edges"] == counted["edges"], (live["edges"], counted["edges"])
for a, b in zip(live["states"], counted["states"]):
    assert a["entries"] == b["entries"], (a, b)
    # The engine's clock stops at its last cycle, the session a tick (1 s) later.
    slack = 1.001 if a["name"] == live["current"] else 1e-6
    assert abs(a["dwell_seconds_total"] - b["dwell_seconds_total"]) <= slack, (a, b)
d = get("/sessions/" + sid)
p = d["progress"]["session"]
assert d["session"]["status"] == "completed" and p["fraction"] == 1, p
assert p["sim_end_ms"] - p["sim_start_ms"] == 21600 * 1000 and p["milestones"][-1]["sim_ms"], p
print("ok: completed run: the state machine from its events equals the engine's (%d transitions)"
      % sum(e["count"] for e in live["edges"]))
PY
kill -TERM "$BW_PID"; wait "$BW_PID" || fail "breakwatch did not stop cleanly after the completed run"
pass "clean exit"
