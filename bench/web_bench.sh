#!/usr/bin/env bash
# The browser benchmark: single-image and batch-100 latency of the shipped FC network and CNN
# in our WebAssembly engine, ONNX Runtime Web and TensorFlow.js, in the same page of headless
# Chromium (bench/web/: the page, its driver, the PyTorch export of the same weights).
#   bench/web_bench.sh [ROUNDS [QUERY]]   prints the README's table; results in build-web/bench/
#   (QUERY is added to the page's query, e.g. '&libs=mnist.cpp' times our engine alone.)
# Installs what it needs: the npm packages (pinned), the built site (scripts/build_web.sh).
# Run it on a quiet machine: it times one thread.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ROUNDS=${1:-15}
QUERY=${2:-}
OUT=${WEB_BUILD_DIR:-$ROOT/build-web}/bench
NM=$ROOT/node_modules

"$ROOT/scripts/install_npm.sh" onnxruntime-web@1.30.0 @tensorflow/tfjs@4.22.0 @tensorflow/tfjs-backend-wasm@4.22.0
[ -f "${WEB_BUILD_DIR:-$ROOT/build-web}/site/mnist-engine.wasm" ] || "$ROOT/scripts/build_web.sh"

# What the page is served from: links to the site, the packages and the export.
rm -rf "$OUT"
mkdir -p "$OUT/root"
/usr/bin/python3 "$ROOT/bench/web/export.py" "$OUT/root/exported" "$ROOT/data/mnist" \
  "$ROOT/models/mnist-fc-f32.gguf" "$ROOT/models/mnist-cnn-f32.gguf"
ln -s "${WEB_BUILD_DIR:-$ROOT/build-web}/site" "$OUT/root/engine"
ln -s "$NM/onnxruntime-web/dist" "$OUT/root/ort"
ln -s "$NM/@tensorflow/tfjs/dist" "$OUT/root/tfjs"
ln -s "$NM/@tensorflow/tfjs-backend-wasm/dist" "$OUT/root/tfjs-wasm"
ln -s "$ROOT/bench/web" "$OUT/root/bench"

timeout 1800 /usr/bin/python3 -u -m http.server --bind 127.0.0.1 --directory "$OUT/root" 0 > "$OUT/server.log" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  PORT=$(sed -n 's/.* port \([0-9]*\) .*/\1/p' "$OUT/server.log" | head -1)
  [ -n "$PORT" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "web_bench: the static server did not start: $(cat "$OUT/server.log")" >&2; exit 1; }
echo "web_bench: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before"
node "$ROOT/bench/web/run.mjs" "http://127.0.0.1:$PORT/bench/index.html?blocks=$ROUNDS$QUERY" "$OUT/results.json"
echo "web_bench: load average $(cut -d' ' -f1-3 /proc/loadavg) after; raw results in $OUT/results.json"
