#!/usr/bin/env bash
# `mnist serve` under load and abuse, on 127.0.0.1 and a free port, bounded in time:
#   1. wrk, 64 keep-alive connections on POST /api/predict (the default model, the CNN) with a
#      raw 784-byte body, then with a PNG of the same digit: zero socket errors, zero non-2xx;
#   2. tests/e2e/serve_abuse.py: 200 clients sending a byte a second, half-closed connections,
#      clients vanishing mid-body; a normal client's p99 within 2x of the unloaded one, every
#      slow client cut off by the timeout, memory bounded;
#   3. the server still answers, and stops cleanly.
# MNIST_LOAD_SECONDS sets the length of each measurement (3 s here; scripts/load_test.sh runs
# the README's 30 s), MNIST_LOAD_TIMEOUT the server's --timeout (2 s here, 10 s by default).
. "$(dirname "$0")/lib.sh"
need_data
command -v wrk > /dev/null || skip "wrk is not installed (scripts/install_deps.sh)"
SECONDS_EACH=${MNIST_LOAD_SECONDS:-3}
TIMEOUT=${MNIST_LOAD_TIMEOUT:-2}
THREADS=${MNIST_LOAD_THREADS:-2}
LUA=$SRC/bench/wrk_post.lua
# Under AddressSanitizer freed memory waits in a quarantine (256 MB by default) before reuse, so
# the server's RSS under abuse measured the quarantine (68 MB), not the server (under 2 MB
# without it): a small one keeps the bound on growth meaningful, and use-after-free detection.
if [[ "${MNIST_SANITIZE_FLAGS:-}" == *address* ]]; then
  export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=8"
fi

timeout $((SECONDS_EACH * 10 + TIMEOUT * 4 + 120)) "$BIN" serve --port 0 --threads "$THREADS" --timeout "$TIMEOUT" \
  --quiet --digits "$DATA" > "$TMP/serve.out" 2> "$TMP/serve.log" &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$TMP"' EXIT
wait_for_url "$PID"
# The server itself (a child of `timeout`), whose memory the abuse checks watch.
SERVER_PID=$(cat "/proc/$PID/task/$PID/children" | awk '{print $1}')
[ -n "$SERVER_PID" ] || fail "cannot find the server's process"

# The bodies: test digit 0 as 784 raw bytes, and as the PNG the server renders of it.
head -c $((16 + 784)) "$IMAGES" | tail -c 784 > "$TMP/digit.raw"
curl -sf -o "$TMP/digit.png" "${URL}digits/0.png" || fail "GET /digits/0.png"

load() {  # BODY CONTENT-TYPE
  local out
  out=$(BODY=$1 CTYPE=$2 wrk -t 2 -c 64 -d "${SECONDS_EACH}s" --latency -s "$LUA" "${URL}api/predict")
  local rps p50 p99
  rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\)/\1/p' <<< "$out")
  p50=$(awk '$1 == "50%" {print $2}' <<< "$out")
  p99=$(awk '$1 == "99%" {print $2}' <<< "$out")
  echo "64 connections, ${SECONDS_EACH} s, $(basename "$1") bodies: $rps requests/s, p50 $p50, p99 $p99"
  ! grep -q "Socket errors" <<< "$out" || fail "socket errors with $(basename "$1"): $out"
  ! grep -q "Non-2xx" <<< "$out" || fail "non-2xx answers with $(basename "$1"): $out"
  grep -q "requests in" <<< "$out" || fail "wrk: $out"
}
load "$TMP/digit.raw" application/octet-stream
load "$TMP/digit.png" image/png

/usr/bin/python3 "$SRC/tests/e2e/serve_abuse.py" "$URL" "$SERVER_PID" "$TMP/digit.raw" "$LUA" --timeout "$TIMEOUT" \
  --seconds "$SECONDS_EACH" || fail "abuse checks"

kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
[ "$rc" = 0 ] || fail "the server exited $rc on SIGTERM: $(tail -5 "$TMP/serve.log")"
grep -q "^mnist serve: stopped" "$TMP/serve.out" || fail "no clean stop: $(cat "$TMP/serve.out")"
echo "PASS"
