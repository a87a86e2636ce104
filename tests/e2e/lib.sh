# Shared helpers for the end-to-end tests: each test is a bash script run by ctest with
#   MNIST_BIN (the mnist binary), MNIST_SOURCE_DIR, MNIST_DATA_DIR, MNIST_TEST_TMP.
# Exit 0 = pass, 77 = skipped (with a message why), anything else = fail.
set -euo pipefail
BIN=${MNIST_BIN:?set MNIST_BIN}
SRC=${MNIST_SOURCE_DIR:?set MNIST_SOURCE_DIR}
DATA=${MNIST_DATA_DIR:-$SRC/data/mnist}
TMP=$(mktemp -d "${MNIST_TEST_TMP:-/tmp}/e2e.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

IMAGES=$DATA/t10k-images-idx3-ubyte
LABELS=$DATA/t10k-labels-idx1-ubyte
MODEL=$SRC/models/mnist-fc-f32.gguf

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }
need_data() { [ -f "$IMAGES" ] && [ -f "$LABELS" ] || skip "MNIST test set not found in $DATA (run scripts/fetch_data.sh)"; }

# Runs a command that must fail with exit code $1 and print exactly one line `error: ...` on stderr
# containing $2. Usage: expect_error CODE TEXT cmd args...
expect_error() {
  local code=$1 text=$2; shift 2
  local rc=0
  "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
  [ "$rc" = "$code" ] || fail "'$*' exited $rc, expected $code; stderr: $(cat "$TMP/err")"
  grep -q -- "$text" "$TMP/err" || fail "'$*' stderr lacks '$text': $(cat "$TMP/err")"
  [ "$(grep -c '^error: ' "$TMP/err")" = 1 ] || fail "'$*' should print one error line: $(cat "$TMP/err")"
}

# Accuracy printed by `mnist eval` ("accuracy: 98.06% ...") as a number.
accuracy_of() { sed -n 's/^accuracy: \([0-9.]*\)%.*/\1/p' "$1"; }

# Waits until the `mnist serve` started in the background as process $1 (stdout in
# $TMP/serve.out, stderr in $TMP/serve.log) prints the URL it listens on; sets URL.
wait_for_url() {
  local pid=$1
  URL=""
  for _ in $(seq 100); do
    URL=$(sed -n 's/^mnist serve: listening on \(http:[^ ]*\) .*/\1/p' "$TMP/serve.out")
    [ -n "$URL" ] && return 0
    kill -0 "$pid" 2>/dev/null || fail "the server exited: $(cat "$TMP/serve.log")"
    sleep 0.1
  done
  fail "the server did not print its URL"
}
