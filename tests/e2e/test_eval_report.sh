#!/usr/bin/env bash
# `mnist eval --report` on the shipped CNN and the real test set: one self-contained HTML page
# (nothing to load, no scripts) whose confusion matrix sums to the test count with the diagonal
# eval printed as right, whose per-class precision/recall/F1, reliability bins and ECE agree with
# that matrix, and whose 25 mistakes are mistakes, most confident first, drawn from their own
# pixels (PNG data URLs decoded, CRCs checked: tests/e2e/report_check.py). `--confusion` prints
# the same matrix. Without the new flags eval prints what it printed before.
. "$(dirname "$0")/lib.sh"
need_data
CNN=$SRC/models/mnist-cnn-f32.gguf
CHECK="/usr/bin/python3 $SRC/tests/e2e/report_check.py"
"$BIN" eval "$CNN" "$IMAGES" "$LABELS" --index 0 --predictions "$TMP/pred" > "$TMP/plain"
"$BIN" eval "$CNN" "$IMAGES" "$LABELS" --index 0 --confusion --report "$TMP/report.html" > "$TMP/out"
# The plain output, timings aside, is where it was: the new lines come after it.
timeless() { sed -E 's/[0-9.]+ (ms|us)/T \1/g' "$1"; }
diff <(timeless "$TMP/plain") <(timeless "$TMP/out" | head -n "$(wc -l < "$TMP/plain")") ||
  fail "eval's output changed with --confusion --report"
grep -qE "^report: wrote $TMP/report.html \([0-9]+ bytes\) in [0-9.]+ ms$" "$TMP/out" || fail "no report line"
correct=$(sed -n 's/^accuracy: [0-9.]*% (\([0-9]*\)\/\([0-9]*\)).*/\1/p' "$TMP/plain")
total=$(sed -n 's/^accuracy: [0-9.]*% (\([0-9]*\)\/\([0-9]*\)).*/\2/p' "$TMP/plain")
[ "$total" = 10000 ] || fail "expected 10000 test images, got '$total'"
$CHECK eval-report "$TMP/report.html" "$IMAGES" "$LABELS" "$TMP/pred" "$correct" "$total" || fail "report check"
$CHECK confusion "$TMP/out" "$correct" "$total" "$TMP/report.html" || fail "--confusion check"
# The FC model too (another architecture, other mistakes), --confusion alone.
"$BIN" eval "$MODEL" "$IMAGES" "$LABELS" --index 0 --confusion --threads 1 > "$TMP/fc"
! grep -q '^report:' "$TMP/fc" || fail "a report line without --report"
fc_correct=$(sed -n 's/^accuracy: [0-9.]*% (\([0-9]*\)\/.*/\1/p' "$TMP/fc")
$CHECK confusion "$TMP/fc" "$fc_correct" 10000 || fail "--confusion check (FC)"

# bad input: one error line, non-zero exit, no report left behind
expect_error 2 "\-\-report needs LABELS" "$BIN" eval "$CNN" "$IMAGES" --report "$TMP/x.html"
expect_error 2 "\-\-confusion needs LABELS" "$BIN" eval "$CNN" "$IMAGES" --confusion
expect_error 1 "$TMP/no/such/dir/r.html: " "$BIN" eval "$CNN" "$IMAGES" "$LABELS" --report "$TMP/no/such/dir/r.html"
expect_error 1 "images but the label file has" "$BIN" eval "$CNN" "$IMAGES" "$DATA/train-labels-idx1-ubyte" --report "$TMP/x.html"
expect_error 1 "$TMP/none.gguf: cannot open" "$BIN" eval "$TMP/none.gguf" "$IMAGES" "$LABELS" --report "$TMP/x.html"
[ ! -e "$TMP/x.html" ] || fail "a failed eval wrote a report"
echo "PASS: report $(wc -c < "$TMP/report.html") bytes, $correct/$total right"
