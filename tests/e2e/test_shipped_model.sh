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
echo "PASS: shipped model accuracy $acc%"
