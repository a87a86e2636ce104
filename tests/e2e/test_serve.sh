#!/usr/bin/env bash
# `mnist serve` on 127.0.0.1 and a free port, driven by tests/e2e/serve_client.py (every
# endpoint, results equal to `mnist predict`, bad requests, traversal, 32 concurrent clients);
# then SIGTERM stops it cleanly, the access log has its lines, --quiet has none. Every server
# runs under `timeout`, so none outlives the test.
. "$(dirname "$0")/lib.sh"
need_data
BUILD=${MNIST_BUILD_DIR:?set MNIST_BUILD_DIR}
IMG=$TMP/images
mkdir -p "$IMG" "$TMP/web/sub" "$TMP/outside"
"$BUILD/tests/make_test_images" "$DATA" "$IMG"
head -c $((16 + 100 * 784)) "$IMAGES" | tail -c $((100 * 784)) > "$IMG/t10k-raw.bin"

# A web folder with a page, a subfolder, and symlinks that point out of it.
cp "$SRC/web/index.html" "$TMP/web/"
echo "a file in a subfolder" > "$TMP/web/sub/a.txt"
printf '\0asm\1\0\0\0' > "$TMP/web/sub/engine.wasm"  # an empty WebAssembly module
mkdir -p "$TMP/web/models"  # the web demo's own copy of a model the server does not serve
echo "a model only in the web folder" > "$TMP/web/models/web-only.gguf"
echo "secret: never served" > "$TMP/secret.txt"
cp "$TMP/secret.txt" "$TMP/outside/secret.txt"
ln -s "$TMP/secret.txt" "$TMP/web/leak"
ln -s "$TMP/outside" "$TMP/web/leakdir"

# What `mnist predict` says about the same files.
singles=() numbers=()
while read -r f want; do
  if [[ $f == number-* ]]; then numbers+=("$IMG/$f"); else singles+=("$IMG/$f"); fi
done < "$IMG/manifest.txt"
"$BIN" predict --json --show "${singles[@]}" > "$TMP/predict.jsonl"
"$BIN" predict --json --number "${numbers[@]}" > "$TMP/numbers.jsonl"

# Starts a server in the background; sets PID and URL.
start_server() {
  timeout 300 "$BIN" serve --port 0 --threads 2 --timeout 3 --web "$TMP/web" --digits "$DATA" "$@" > "$TMP/serve.out" 2> "$TMP/serve.log" &
  PID=$!
  wait_for_url "$PID"
  [[ $URL == http://127.0.0.1:* ]] || fail "binds 127.0.0.1 by default: $URL"
}

stop_server() {
  kill -TERM "$PID"
  local rc=0
  wait "$PID" || rc=$?
  [ "$rc" = 0 ] || fail "the server exited $rc on SIGTERM: $(cat "$TMP/serve.log")"
  grep -q "^mnist serve: stopped; [0-9]* requests answered" "$TMP/serve.out" || fail "no clean stop: $(cat "$TMP/serve.out")"
}

start_server
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$TMP"' EXIT
/usr/bin/python3 "$SRC/tests/e2e/serve_client.py" "$URL" "$IMG" "$TMP/predict.jsonl" "$TMP/numbers.jsonl" \
  "$SRC/models/mnist-cnn-f32.gguf" "$TMP/secret.txt" || fail "server checks (log: $(tail -5 "$TMP/serve.log"))"

# The port is taken: a second server says so and exits 1.
port=${URL##*:}
port=${port%/}
expect_error 1 "cannot listen on 127.0.0.1:$port" timeout 20 "$BIN" serve --port "$port"

stop_server
# One access-log line per request: time, client, request, status, bytes, duration.
lines=$(grep -c '^[0-9T:-]*Z 127.0.0.1 "[A-Z]* [^"]*" [0-9]\{3\} [0-9]* [0-9.]*ms$' "$TMP/serve.log" || true)
answered=$(sed -n 's/^mnist serve: stopped; \([0-9]*\) requests answered/\1/p' "$TMP/serve.out")
[ "$lines" = "$answered" ] && [ "$lines" -gt 900 ] ||
  fail "expected an access-log line for each of the $answered requests, got $lines: $(head -3 "$TMP/serve.log")"
grep -q '"POST /api/predict?model=mnist-fc-f32" 200 ' "$TMP/serve.log" || fail "log line of a prediction"

# --quiet: no log; SIGINT stops it too.
start_server --quiet
curl_ok=$(/usr/bin/python3 -c "import urllib.request,sys; print(urllib.request.urlopen(sys.argv[1] + 'healthz').status)" "$URL")
[ "$curl_ok" = 200 ] || fail "healthz with --quiet"
kill -INT "$PID"
wait "$PID" || fail "the server exited non-zero on SIGINT"
[ ! -s "$TMP/serve.log" ] || fail "--quiet still logs: $(cat "$TMP/serve.log")"

expect_error 2 "two models named 'mnist-cnn-f32'" "$BIN" serve --model "$SRC/models/mnist-cnn-f32.gguf" --model "$SRC/models/mnist-cnn-f32.gguf"
expect_error 1 "$IMG/truncated.png: not a model file" "$BIN" serve --model "$IMG/truncated.png"
expect_error 2 "--port must be an integer" "$BIN" serve --port 70000
"$BIN" serve --help | grep -q "usage: mnist serve \[options\]" || fail "--help"
echo "PASS"
