#!/usr/bin/env bash
# Slow clients do not block others, and the connection limits do what docs/reliability.md says:
#  1. 8 clients trickle a request one byte every 0.2 s and 8 more send half a header and stay
#     silent, while a normal client makes requests: every normal request is answered promptly
#     (max latency printed, bound 2 s), and each trickled request is answered once complete.
#  2. http.idle_timeout 2 s: a connection that sends nothing is closed after about 2 s, and
#     one that trickles (a byte every 0.2 s) is not.
#  3. http.max_connections 24: with 24 connections held open, a 25th connection's request is
#     not answered (it waits in the kernel's listen queue: libmicrohttpd stops accepting) until
#     the holders are closed by the idle timeout; then it is served.
source "$(dirname "$0")/lib.sh"

start_breakwatch slow --data-dir "$WORK/data" --speed 60 --http-idle-timeout 2 \
  --http-max-connections 24
port=${BW_URL##*:}

python3 - "$port" <<'PY' || fail "slow clients"
import socket, sys, threading, time

PORT = int(sys.argv[1])


def connect():
    return socket.create_connection(("127.0.0.1", PORT), timeout=10)


def read_all(s):
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except socket.timeout:
            break
        if not b:
            break
        out += b
    return out


def status(resp):
    return int(resp.split(b" ", 2)[1]) if resp.startswith(b"HTTP/1.") else 0


def get(path):
    """One request from a normal client: (status, seconds)."""
    t = time.monotonic()
    s = connect()
    s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % path.encode())
    resp = read_all(s)
    s.close()
    return status(resp), time.monotonic() - t


# 1. Slow clients beside a normal one.
TRICKLE = b"GET /api/health HTTP/1.0\r\nX-Slow: yes\r\n\r\n"  # 40 bytes: 8 s at 0.2 s a byte
trickled = {}


def trickler(i):
    s = connect()
    for b in TRICKLE:
        s.sendall(bytes([b]))
        time.sleep(0.2)
    trickled[i] = status(read_all(s))
    s.close()


threads = [threading.Thread(target=trickler, args=(i,)) for i in range(8)]
for t in threads:
    t.start()
half = []
for _ in range(8):
    s = connect()
    s.sendall(b"GET /api/metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ")
    half.append(s)
time.sleep(0.5)
lat, codes = [], []
t_end = time.monotonic() + 6
while time.monotonic() < t_end:
    for path in ("/api/health", "/api/metrics", "/api/monitoring/realtime"):
        c, dt = get(path)
        codes.append(c)
        lat.append(dt)
    time.sleep(0.05)
for t in threads:
    t.join(30)
if any(c != 200 for c in codes):
    sys.exit("normal requests beside slow clients got %s" % sorted(set(codes)))
worst = max(lat)
print("ok: %d normal requests beside 8 trickling and 8 half-header clients: all 200, "
      "max latency %.3f s, mean %.3f s" % (len(lat), worst, sum(lat) / len(lat)))
if worst > 2.0:
    sys.exit("a normal request took %.3f s (bound 2 s)" % worst)
if sorted(trickled.values()) != [200] * 8:
    sys.exit("trickled requests got %s, want 8 x 200" % trickled)
print("ok: each trickled request (%d bytes, one every 0.2 s) answered 200 once complete"
      % len(TRICKLE))
# The half-header clients have been silent for over 2 s: the idle timeout closed them.
for s in half:
    s.settimeout(3)
    rest = read_all(s)
    if rest:
        sys.exit("a half-header client got an answer: %r" % rest[:80])
    s.close()
print("ok: the 8 silent half-header clients were closed without an answer")

# 2. The idle timeout: a silent connection goes after ~2 s; a trickling one stays.
silent = connect()
trick = connect()
t0 = time.monotonic()
silent.settimeout(6)
trick.sendall(b"GET /api/health HTTP/1.0\r\n")
part = b"X-Slow: " + b"a" * 40  # a header, one byte every 0.2 s: more than 5 s of bytes
closed_at = None
sent = 0
while time.monotonic() - t0 < 5:
    trick.sendall(part[sent:sent + 1])
    sent += 1
    if closed_at is None:
        silent.settimeout(0.2)
        try:
            if silent.recv(1) == b"":
                closed_at = time.monotonic() - t0
        except socket.timeout:
            pass
    else:
        time.sleep(0.2)
if closed_at is None or not 1.5 <= closed_at <= 3.5:
    sys.exit("silent connection closed at %s s, want about 2 s" % closed_at)
trick.settimeout(5)
trick.sendall(b"\r\n\r\n")
code = status(read_all(trick))
if code != 200:
    sys.exit("the trickling connection got %d after 5 s, want 200" % code)
print("ok: idle timeout 2 s: a silent connection closed after %.2f s; one sending a byte "
      "every 0.2 s for 5 s was served (200)" % closed_at)
silent.close()
trick.close()

# 3. The connection limit: 24 held, the 25th waits until the idle timeout frees them.
held = [connect() for _ in range(24)]
time.sleep(0.3)
t0 = time.monotonic()
extra = connect()  # the kernel completes the handshake: it sits in the listen queue
extra.sendall(b"GET /api/health HTTP/1.0\r\n\r\n")
extra.settimeout(1.0)
try:
    early = extra.recv(100)
except socket.timeout:
    early = None
if early is not None:
    sys.exit("with 24 connections held the 25th was answered at once: %r" % early[:60])
extra.settimeout(6)
resp = read_all(extra)
waited = time.monotonic() - t0
if status(resp) != 200:
    sys.exit("the 25th connection got %r after %.2f s" % (resp[:60], waited))
print("ok: max_connections 24: the 25th connection's request waited %.2f s (unanswered until "
      "the idle timeout closed the 24 held ones), then 200" % waited)
if waited > 4:
    sys.exit("the 25th waited %.2f s, want about 2 s" % waited)
for s in held:
    s.close()
PY
curl -fsS "$BW_URL/api/health" >/dev/null || fail "health after the slow clients"
pass "slow clients did not block others; idle timeout and connection limit behave as documented"
