#!/usr/bin/env bash
# Throughput of `mnist serve` against the same models in PyTorch behind Flask
# (bench/flask_server.py), with wrk on loopback: POST /api/predict with a raw 784-byte body
# and with a PNG of the same test digit, FC and CNN, 1 and 64 connections. Prints one
# Markdown table (requests/s, p50 and p99 latency) for the README. Every run is bounded by
# --duration; both servers listen on 127.0.0.1 only and are stopped at the end.
#
#   bench/serve_throughput.sh [--duration S] [--threads T] [--connections "1 64"] [--no-python]
#
# Needs build/mnist (or $BUILD_DIR/mnist), data/mnist, and Debian's wrk, python3-flask,
# python3-torch, python3-pil (scripts/install_deps.sh). Run it on a quiet machine: wrk and the
# server share the cores.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BUILD_DIR:-$ROOT/build}/mnist
duration=10 threads=2 connections="1 64" python=1
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --no-python) python=0; shift ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "usage: bench/serve_throughput.sh [--duration S] [--threads T] [--connections \"1 64\"] [--no-python]" >&2; exit 2 ;;
  esac
done
[ -x "$BIN" ] || { echo "error: $BIN not found: build first (scripts/build.sh)" >&2; exit 1; }
command -v wrk > /dev/null || { echo "error: wrk is not installed (scripts/install_deps.sh)" >&2; exit 1; }
TMP=$(mktemp -d)
PID=""
trap '[ -z "$PID" ] || kill "$PID" 2>/dev/null || true; rm -rf "$TMP"' EXIT

# Waits for "listening on URL" in $1; sets URL.
wait_for_url() {
  URL=""
  for _ in $(seq 300); do
    URL=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$1" | head -1)
    [ -n "$URL" ] && return 0
    kill -0 "$PID" 2>/dev/null || { echo "error: the server exited: $(cat "$1")" >&2; exit 1; }
    sleep 0.1
  done
  echo "error: no server URL in $1" >&2
  exit 1
}

# Runs wrk; prints "req/s p50_ms p99_ms non2xx".
measure() {  # URL BODY CTYPE CONNECTIONS
  local out
  out=$(BODY=$2 CTYPE=$3 wrk -t "$(( $4 < 2 ? 1 : 2 ))" -c "$4" -d "${duration}s" --latency \
        -s "$ROOT/bench/wrk_post.lua" "$1")
  /usr/bin/python3 - "$out" <<'PY'
import re, sys
out = sys.argv[1]
def ms(v):
    m = re.match(r"([\d.]+)(us|ms|s|m)$", v)
    if not m:
        sys.exit(f"cannot read wrk's latency {v!r} in:\n{out}")
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
p50 = ms(re.search(r"^\s*50%\s+(\S+)", out, re.M).group(1))
p99 = ms(re.search(r"^\s*99%\s+(\S+)", out, re.M).group(1))
bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
errors = re.search(r"Socket errors:.*", out)
print(f"{rps:.0f} {p50:.2f} {p99:.2f} {bad.group(1) if bad else 0}{' (' + errors.group(0) + ')' if errors else ''}")
PY
}

rows=()
run_all() {  # SERVER_LABEL
  for model in mnist-fc-f32 mnist-cnn-f32; do
    for body in raw png; do
      local file=$TMP/digit.raw type=application/octet-stream
      [ "$body" = png ] && file=$TMP/digit.png type=image/png
      for c in $connections; do
        read -r rps p50 p99 bad rest <<< "$(measure "${URL}api/predict?model=$model" "$file" "$type" "$c")"
        rows+=("| $1 | ${model%-f32} | $body | $c | $rps | $p50 | $p99 | $bad${rest:+ $rest} |")
        echo "$1 $model $body c=$c: $rps req/s, p50 $p50 ms, p99 $p99 ms" >&2
      done
    done
  done
}

"$BIN" serve --port 0 --quiet --threads "$threads" > "$TMP/mnist.out" 2>&1 &
PID=$!
wait_for_url "$TMP/mnist.out"
# The bodies: test digit 0 as 784 raw bytes, and the same digit as the PNG the server renders.
head -c $((16 + 784)) "$ROOT/data/mnist/t10k-images-idx3-ubyte" | tail -c 784 > "$TMP/digit.raw"
curl -sf -o "$TMP/digit.png" "${URL}digits/0.png"
run_all "mnist serve"
kill -TERM "$PID"; wait "$PID" || true; PID=""

if [ "$python" = 1 ]; then
  # (in the peers' environment: bench/machine.py)
  timeout $((duration * 20 + 120)) /usr/bin/python3 "$ROOT/bench/machine.py" run /usr/bin/python3 "$ROOT/bench/flask_server.py" --port 0 --threads 1 \
    "$ROOT/models/mnist-cnn-f32.gguf" "$ROOT/models/mnist-fc-f32.gguf" > "$TMP/flask.out" 2>&1 &
  PID=$!
  wait_for_url "$TMP/flask.out"
  run_all "PyTorch + Flask"
  kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
fi

echo
echo "$(date -u +%F), $(nproc) cores ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), wrk on the same cores, ${duration} s per row, server threads $threads:"
echo
echo "| server | model | body | connections | requests/s | p50 ms | p99 ms | non-2xx |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${rows[@]}"
