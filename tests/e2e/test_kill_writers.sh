#!/usr/bin/env bash
# Nothing lost when a writer dies: SIGKILL of `mnist train` at random moments and mid-write
# (24 trials over its epochs and writes, each resumed from its checkpoint to the very file an
# uninterrupted run writes), SIGKILL of `mnist convert` mid-write, and a file-size limit during
# both; the old files are intact and nothing is left behind (tests/e2e/kill_writers.py).
. "$(dirname "$0")/lib.sh"
need_data
[ -f "$DATA/train-images-idx3-ubyte" ] || skip "MNIST training set not found in $DATA (run scripts/fetch_data.sh)"
/usr/bin/python3 "$SRC/tests/e2e/kill_writers.py" "$BIN" "$DATA" "$TMP" || fail "writers lost data"
echo "PASS"
