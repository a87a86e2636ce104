#!/usr/bin/env bash
# The fast preset (batch norm, one-cycle rate, label smoothing) on a share of MNIST: it learns,
# its file keeps the running statistics as state, and `mnist eval` scores the written file as
# training said. (The full recipe's 99% in seconds is bench/fast.py's, not a test's: no timings here.)
. "$(dirname "$0")/lib.sh"
need_data
"$BIN" train mnist-cnn --preset fast --data "$DATA" --limit 12000 --epochs 1 --threads 2 "$TMP/fast.gguf" | tee "$TMP/train.log"
grep -q "preset fast" "$TMP/train.log" || fail "the preset is not named"
grep -q "onecycle" "$TMP/train.log" || fail "the fast recipe's one-cycle schedule is not in use"
acc=$(sed -n 's/^test: accuracy \([0-9.]*\)%.*/\1/p' "$TMP/train.log")
awk -v a="$acc" 'BEGIN { exit !(a >= 96.0) }' || fail "fast preset on 12,000 images: $acc% test accuracy, expected >= 96%"
"$BIN" info "$TMP/fast.gguf" > "$TMP/info"
for t in conv1.bn.weight conv1.bn.bias conv1.bn.running_mean conv2.bn.running_var; do
  grep -q "$t" "$TMP/info" || fail "$t missing from the file"
done
"$BIN" eval "$TMP/fast.gguf" "$IMAGES" "$LABELS" > "$TMP/eval"
[ "$(accuracy_of "$TMP/eval")" = "$acc" ] || fail "mnist eval says $(accuracy_of "$TMP/eval")%, training said $acc%"
# Micro-batches: statistics per pass (documented); a step in passes of 32 still trains.
"$BIN" train mnist-cnn --preset fast --data "$DATA" --limit 4000 --epochs 1 --micro-batch 32 --threads 2 "$TMP/micro.gguf" > "$TMP/micro.log"
grep -q "passes of 32 images" "$TMP/micro.log" || fail "no micro-batches: $(head -3 "$TMP/micro.log")"
acc_m=$(sed -n 's/^test: accuracy \([0-9.]*\)%.*/\1/p' "$TMP/micro.log")
awk -v a="$acc_m" 'BEGIN { exit !(a >= 90.0) }' || fail "fast preset in micro-batches of 32: $acc_m%"
echo "PASS: fast preset $acc% on 12,000 images, one epoch; in micro-batches of 32 on 4,000: $acc_m%"
