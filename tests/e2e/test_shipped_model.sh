#!/usr/bin/env bash
# The shipped model scores at least 98.0% on the 10,000 real test images, and eval prints the
# digit, the prediction, the accuracy, the loss and the timings.
. "$(dirname "$0")/lib.sh"
need_data
"$BIN" eval "$MODEL" "$IMAGES" "$LABELS" --seed 7 --verbose | tee "$TMP/out"
acc=$(accuracy_of "$TMP/out")
[ -n "$acc" ] || fail "no accuracy line"
awk -v a="$acc" 'BEGIN { exit !(a >= 98.0) }' || fail "accuracy $acc% is below 98.0%"
grep -q '^predicted digit is [0-9]$' "$TMP/out" || fail "no prediction line"
[ "$(grep -cE '^([_*] ){28}$' "$TMP/out")" = 28 ] || fail "expected 28 lines of ASCII art"
grep -qE 'mean loss 0\.[0-9]+' "$TMP/out" || fail "no loss"
grep -qE '^time: evaluated 10000 images in [0-9.]+ ms \([0-9.]+ us/image' "$TMP/out" || fail "no timing line"
grep -qE 'load [0-9.]+ ms' "$TMP/out" || fail "no load time"
# Same answer with one thread, a batch that leaves a partial last batch, and every kernel level.
for level in scalar avx2 avx512; do
  "$BIN" eval "$MODEL" "$IMAGES" "$LABELS" --threads 1 --batch 333 --cpu "$level" --predictions "$TMP/p_$level" >"$TMP/o_$level" 2>&1 || {
    grep -q "does not support" "$TMP/o_$level" && continue; fail "--cpu $level: $(cat "$TMP/o_$level")"; }
  [ "$(accuracy_of "$TMP/o_$level")" = "$acc" ] || fail "--cpu $level --batch 333 gives $(accuracy_of "$TMP/o_$level")%, not $acc%"
done
# The shipped CNN, trained by `mnist train`, scores at least 99.2%.
CNN=$SRC/models/mnist-cnn-f32.gguf
"$BIN" eval "$CNN" "$IMAGES" "$LABELS" --index 0 > "$TMP/cnn"
cnn_acc=$(accuracy_of "$TMP/cnn")
awk -v a="$cnn_acc" 'BEGIN { exit !(a >= 99.2) }' || fail "CNN accuracy $cnn_acc% is below 99.2%"
for m in "$MODEL" "$CNN"; do
  "$BIN" info "$m" | grep -q 'training.optimizer' || fail "$m was not written by mnist train (no training metadata)"
done
echo "PASS: shipped models: mnist-fc $acc%, mnist-cnn $cnn_acc%"
